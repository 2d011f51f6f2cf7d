//! `enter` and `unshare` keep the chapters' contract (only fds 0-2 reach
//! the command, a signal sent to the tool reaches it, inherited ignored
//! signals stay ignored), and `enter` takes credentials as nsenter does.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use common::{Background, inspect};
use nslab_testkit::{
    NOBODY, Running, SharedDir, bin, have_root, overflow_ids, stderr, stdout,
};

/// The two ways ch07-inspect runs a command, from a shell in which
/// `$$` is the tool itself (`exec`).
const RUNNERS: [&str; 2] = ["enter $$", "unshare uts"];

fn bash(line: &str) -> std::process::Output {
    let out = std::process::Command::new("bash")
        .args(["-c", line])
        .env("I", bin("ch07-inspect"))
        .output()
        .expect("cannot run bash");
    assert!(out.status.success(), "{line}: {}", stderr(&out));
    out
}

#[test]
fn the_command_inherits_only_stdin_stdout_stderr() {
    if !have_root("the_command_inherits_only_stdin_stdout_stderr") {
        return;
    }
    for runner in RUNNERS {
        // fd 7 is open (without close-on-exec) in the tool itself.
        let line = format!(
            "exec 7</etc/hostname; exec \"$I\" {runner} -- ls -l /proc/self/fd"
        );
        let text = stdout(&bash(&line));
        let fds: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(" -> "))
            .filter_map(|l| l.split(" -> ").next()?.split_whitespace().last())
            .collect();
        // ls itself holds one more: the directory it is listing.
        assert_eq!(fds.len(), 4, "{runner}: {text}");
        assert_eq!(&fds[..3], ["0", "1", "2"], "{runner}: {text}");
        assert!(text.lines().last().unwrap().ends_with("/fd"), "{text}");
    }
}

#[test]
fn inherited_ignored_signals_stay_ignored_and_nothing_is_blocked() {
    if !have_root(
        "inherited_ignored_signals_stay_ignored_and_nothing_is_blocked",
    ) {
        return;
    }
    // env ignores SIGHUP (bit 0) and SIGINT (bit 1), as nohup would;
    // the command must see exactly what it would see without the tool.
    let grep = "grep -E '^Sig(Ign|Blk)' /proc/self/status";
    let direct =
        stdout(&bash(&format!("exec env --ignore-signal=HUP,INT {grep}")));
    let ignored = direct.lines().find_map(|l| l.strip_prefix("SigIgn:\t"));
    let mask = u64::from_str_radix(ignored.unwrap(), 16).unwrap();
    assert_eq!(mask & 3, 3, "{direct}");
    assert!(
        direct.starts_with("SigBlk:\t0000000000000000\n"),
        "{direct}"
    );
    for runner in RUNNERS {
        let line = format!(
            "exec env --ignore-signal=HUP,INT \"$I\" {runner} -- {grep}"
        );
        assert_eq!(stdout(&bash(&line)), direct, "{runner}");
    }
}

#[test]
fn a_signal_sent_to_the_tool_reaches_the_command() {
    if !have_root("a_signal_sent_to_the_tool_reaches_the_command") {
        return;
    }
    let me = std::process::id().to_string();
    let script = "trap 'echo got-term; exit 7' TERM; echo ready; \
                  while :; do sleep 0.1; done";
    for runner in [["enter", &me], ["unshare", "uts"]] {
        let args = [&runner[..], &["--", "sh", "-c", script]].concat();
        let running = Running::start(&bin("ch07-inspect"), &args);
        running.signal(nslab_testkit::libc::SIGTERM);
        let (code, rest) = running.wait(Duration::from_secs(10));
        assert_eq!(code, Some(7), "{runner:?}");
        assert_eq!(rest.trim(), "got-term", "{runner:?}");
    }
}

/// A rootless container: nobody's user namespace, with root inside
/// mapped to nobody outside (as `ch05-user --map-root` run by a user).
fn rootless_container(map_root: bool) -> Background {
    let mut args = vec![
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "unshare",
        "--user",
    ];
    if map_root {
        args.push("--map-root-user");
    }
    args.extend(["sh", "-c", "echo ready; read x || :"]);
    Background::start(Path::new("setpriv"), &args)
}

/// `id -u; id -g`, the supplementary groups as the kernel lists them
/// (`id -G` would print the primary group where there are none), and a
/// new file, run through `runner` by a caller with groups 0, 4 and 100.
fn ids_and_file(runner: &[&str], file: &Path) -> (String, u32) {
    let script = format!(
        "id -u; id -g; grep '^Groups:' /proc/self/status; touch {}",
        file.display()
    );
    let mut command = std::process::Command::new("setpriv");
    command.args(["--groups", "0,4,100"]).args(runner);
    command.args(["sh", "-c", &script]);
    let out = command.output().unwrap();
    assert!(out.status.success(), "{runner:?}: {}", stderr(&out));
    let owner = std::fs::metadata(file).unwrap().uid();
    (stdout(&out), owner)
}

#[test]
fn enter_becomes_root_of_a_rootless_container_like_nsenter_all() {
    if !have_root("enter_becomes_root_of_a_rootless_container_like_nsenter_all")
    {
        return;
    }
    let container = rootless_container(true);
    let pid = container.pid().to_string();
    let dir = SharedDir::new();
    let tool = bin("ch07-inspect").display().to_string();

    // Default: root inside, and what it makes belongs to nobody outside
    // (the uid that 0 maps to), exactly as with `nsenter --all`.
    let ours = ids_and_file(&[&tool, "enter", &pid], &dir.path.join("a"));
    let theirs =
        ids_and_file(&["nsenter", "--all", "-t", &pid], &dir.path.join("b"));
    let groups = |text: &str| {
        let line = text.lines().nth(2).unwrap_or_default().to_string();
        line.strip_prefix("Groups:")
            .unwrap_or("?")
            .trim()
            .to_string()
    };
    assert_eq!(ours.0.lines().take(2).collect::<Vec<_>>(), ["0", "0"]);
    assert_eq!(groups(&ours.0), "", "cleared: {ours:?}");
    assert_eq!(ours.1, NOBODY);
    assert_eq!(ours, theirs);

    // --preserve-credentials: our own ids, unmapped there (shown as
    // the overflow ids), and the file is host root's.
    let (uid, gid) = overflow_ids();
    let preserve = "--preserve-credentials";
    let ours =
        ids_and_file(&[&tool, "enter", preserve, &pid], &dir.path.join("c"));
    let theirs = ids_and_file(
        &["nsenter", "--all", preserve, "-t", &pid],
        &dir.path.join("d"),
    );
    assert_eq!(
        ours.0.lines().take(2).collect::<Vec<_>>(),
        [uid.to_string(), gid.to_string()]
    );
    // Kept: three groups, unmapped there (shown as the overflow gid).
    let overflow = format!("{gid} {gid} {gid}");
    assert_eq!(groups(&ours.0), overflow, "{ours:?}");
    assert_eq!(ours.1, 0);
    assert_eq!(ours, theirs);
    assert_eq!(container.stop(), Some(0));
}

#[test]
fn enter_where_root_has_no_mapping_fails_with_a_hint() {
    if !have_root("enter_where_root_has_no_mapping_fails_with_a_hint") {
        return;
    }
    let container = rootless_container(false);
    let pid = container.pid().to_string();
    let out = inspect(&["enter", &pid, "true"]).assert().code(125);
    let err = stderr(out.get_output());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("ch07-inspect: cannot become gid 0 of the target's user namespace: EINVAL"),
        "{err}"
    );
    assert!(
        lines[1].starts_with("hint: ")
            && lines[1].contains("--preserve-credentials"),
        "{err}"
    );
    // nsenter --all fails there too; with --preserve-credentials both work.
    let nsenter = std::process::Command::new("nsenter")
        .args(["--all", "-t", &pid, "true"])
        .output()
        .unwrap();
    assert!(!nsenter.status.success());
    let out = inspect(&["enter", "--preserve-credentials", &pid, "id", "-u"])
        .assert()
        .success();
    assert_eq!(stdout(out.get_output()), format!("{}\n", overflow_ids().0));
    assert_eq!(container.stop(), Some(0));
}
