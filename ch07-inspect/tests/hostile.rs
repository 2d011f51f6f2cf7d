//! ch07-inspect under hostile conditions: killed while it starts,
//! interrupted while it mounts, with a full or closed stdout, without
//! /proc or file descriptors, with a user's symlinks on the way.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    Background, ScratchDir, ScratchMounts, assert_one_line_error, inspect,
    inspect_ok, ns_inode,
};
use nslab_testkit::libc;
use nslab_testkit::{
    HostSnapshot, SharedDir, bin, have_root, host_lock, processes_with, stderr,
    stdout, unique_number,
};

/// Runs `sh -c script` with `$I` set to the tool.
fn sh(script: &str) -> std::process::Output {
    Command::new("sh")
        .args(["-c", script])
        .env("I", bin("ch07-inspect"))
        .stdin(Stdio::null())
        .output()
        .expect("cannot run sh")
}

/// Waits until no process carries `marker`, failing after `limit`.
fn assert_all_gone(marker: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let left = processes_with(marker);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "commands outlived the tool: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send(pid: u32, signal: i32) {
    // SAFETY: kill(2) on the PID of a child we have not reaped yet.
    unsafe { libc::kill(pid as i32, signal) };
}

// Item 1: the go pipe covers the start-up race.
#[test]
fn killing_the_tool_at_any_moment_of_start_up_leaves_no_command() {
    if !have_root(
        "killing_the_tool_at_any_moment_of_start_up_leaves_no_command",
    ) {
        return;
    }
    // sleep adds up its arguments: the unique fraction is our marker.
    let marker = unique_number();
    let me = std::process::id().to_string();
    let enter = ["enter", &me, "sleep", "100", &marker];
    let unshare = ["unshare", "pid", "--", "sleep", "100", &marker];
    let signals = [libc::SIGKILL, libc::SIGTERM, libc::SIGHUP];
    for run in 0..200u32 {
        let args: &[&str] = if run % 2 == 0 { &enter } else { &unshare };
        let mut tool = Command::new(bin("ch07-inspect"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start the tool");
        // 0 to 5 ms after the start, spread evenly over the runs.
        std::thread::sleep(Duration::from_micros(u64::from(run * 2503 % 5000)));
        let signal = signals[(run / 2) as usize % signals.len()];
        send(tool.id(), signal);
        if signal != libc::SIGKILL {
            // TERM and HUP reach the command; a PID 1 shrugs them off
            // (it has no handler), so the tool may still be waiting.
            let deadline = Instant::now() + Duration::from_millis(50);
            while tool.try_wait().unwrap().is_none()
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            send(tool.id(), libc::SIGKILL);
        }
        tool.wait().unwrap();
    }
    // Whenever the tool died, its command died too (or never ran):
    // nothing runs the marker, in our PID namespace or a leaked one
    // (their processes are visible from here).
    assert_all_gone(&marker, Duration::from_secs(10));
}

// Item 3: keep is atomic for every signal but SIGKILL, and release
// finishes what SIGKILL leaves.
#[test]
fn keep_interrupted_by_signals_leaves_nothing_that_release_cannot_undo() {
    if !have_root(
        "keep_interrupted_by_signals_leaves_nothing_that_release_cannot_undo",
    ) {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let dir = ScratchDir::new();
    let mounts = ScratchMounts::new();
    let me = std::process::id().to_string();
    let signals = [libc::SIGTERM, libc::SIGHUP, libc::SIGINT, libc::SIGKILL];
    for run in 0..80u32 {
        let path = dir.join(&format!("k{run}"));
        let mut keep = mounts
            .inspect(&["keep", &me, "uts", &path])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(u64::from(run * 397 % 3000)));
        send(keep.id(), signals[run as usize % signals.len()]);
        keep.wait().unwrap();
        if Path::new(&path).symlink_metadata().is_ok() {
            mounts.inspect_ok(&["release", &path]);
        }
        assert!(!Path::new(&path).exists(), "run {run}: {path} is left");
        assert_eq!(mounts.mounts_at(&path), 0, "run {run}");
    }
    // What SIGKILL can leave, made on purpose: keep explains it and
    // release removes it.
    let path = dir.join("leftover");
    std::fs::write(&path, "").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444))
        .unwrap();
    let out = mounts
        .inspect(&["keep", &me, "uts", &path])
        .output()
        .unwrap();
    assert_one_line_error(&out, "exists", "release` removes it");
    let text = mounts.inspect_ok(&["release", &path]);
    assert!(text.starts_with(&format!("removed {path}: ")), "{text}");
    assert!(!Path::new(&path).exists());
    drop(dir);
    before.assert_unchanged();
}

// Item 7: no panic when stdout cannot be written.
#[test]
fn a_full_stdout_costs_the_message_not_the_exit_status() {
    let me = std::process::id().to_string();
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["--help"],
        vec!["help", "help"],
        vec!["list", "--help"],
        vec!["ns"],
        vec!["diff", &me, &me],
        vec!["list"],
        vec!["limits"],
        vec!["tree"],
        vec!["tree", "/proc/self/ns/user"],
    ];
    if nslab_testkit::is_root() {
        runs.push(vec!["cost", "1"]);
    }
    for args in runs {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(bin("ch07-inspect"))
            .args(&args)
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}");
    }
}

#[test]
fn keep_and_release_into_a_full_stdout_still_mount_and_unmount() {
    if !have_root("keep_and_release_into_a_full_stdout_still_mount_and_unmount")
    {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let dir = ScratchDir::new();
    let path = dir.join("uts");
    let script = format!(
        "\"$I\" keep $$ uts {path} >/dev/full; echo keep $?; \
         grep -c ' {path} ' /proc/self/mountinfo; \
         \"$I\" release {path} | true; echo release ${{PIPESTATUS[0]}}"
    );
    let mounts = ScratchMounts::new();
    let out = mounts
        .command(Path::new("bash"), &["-c", &script])
        .env("I", bin("ch07-inspect"))
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "keep 0\n1\nrelease 0\n", "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(!Path::new(&path).exists());
    drop(dir);
    before.assert_unchanged();
}

#[test]
fn unshare_into_a_closed_pipe_still_runs_the_command() {
    if !have_root("unshare_into_a_closed_pipe_still_runs_the_command") {
        return;
    }
    let dir = ScratchDir::new();
    for run in 0..5 {
        let file = dir.join(&format!("touched{run}"));
        let line = format!(
            "\"$I\" unshare uts -- touch {file} | true; echo ${{PIPESTATUS[0]}}"
        );
        let out = Command::new("bash")
            .args(["-c", &line])
            .env("I", bin("ch07-inspect"))
            .output()
            .unwrap();
        assert_eq!(stdout(&out), "0\n", "{}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
        assert!(Path::new(&file).exists(), "run {run}: touch never ran");
    }
}

#[test]
fn unshare_and_enter_give_the_command_the_callers_sigpipe() {
    if !have_root("unshare_and_enter_give_the_command_the_callers_sigpipe") {
        return;
    }
    let me = std::process::id().to_string();
    for runner in [&["unshare", "uts", "--"][..], &["enter", &me, "--"]] {
        nslab_testkit::hostile::sigpipe_reaches_the_command_as_the_caller_left_it(
            "ch07-inspect",
            runner,
        );
    }
}

// Item 8: a failure to read /proc is an error that says what failed.
#[test]
fn without_proc_every_command_says_proc_is_not_mounted() {
    if !have_root("without_proc_every_command_says_proc_is_not_mounted") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    // A private mount namespace of its own: /proc goes there only.
    for command in ["list", "tree", "limits", "ns", "keep 1 uts /tmp/never"] {
        let line =
            format!("umount -l /proc && exec \"$I\" {command} 2>&1; echo $?");
        let out = Command::new("unshare")
            .args(["-m", "sh", "-c", &line])
            .env("I", bin("ch07-inspect"))
            .output()
            .unwrap();
        let text = stdout(&out);
        assert!(
            text.starts_with(
                "ch07-inspect: /proc is not mounted (no procfs at /proc)\n\
                 hint: everything this tool shows comes from /proc"
            ),
            "{command}: {text}"
        );
        assert!(!text.contains("PID 0"), "{command}: {text}");
    }
    before.assert_unchanged();
}

#[test]
fn running_out_of_file_descriptors_is_an_error_that_says_so() {
    // list needs one fd to read /proc; tree one more for NS_GET_USERNS;
    // release one to open the directory.
    for (limit, command, step) in [
        (3, "list", "cannot list /proc: EMFILE"),
        (4, "tree", ": EMFILE"),
        (3, "release /etc/passwd", ": EMFILE"),
    ] {
        let out = sh(&format!("ulimit -n {limit} && exec \"$I\" {command}"));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(125), "{command}: {err}");
        assert!(err.starts_with("ch07-inspect: "), "{command}: {err}");
        assert!(
            err.lines().next().unwrap().contains(step),
            "{command}: {err}"
        );
        assert!(!err.contains("not a kept namespace"), "{command}: {err}");
    }
}

#[test]
fn tree_needs_no_descriptor_per_namespace() {
    if !have_root("tree_needs_no_descriptor_per_namespace") {
        return;
    }
    // A process in three new namespaces: their inodes are higher than
    // the host's, so a tree that holds one fd per namespace, and runs
    // out, drops these first.
    let shell = Background::start(
        Path::new("unshare"),
        &[
            "--uts",
            "--ipc",
            "--net",
            "sh",
            "-c",
            "echo ready; read x || :",
        ],
    );
    let pid = shell.pid().to_string();
    let out = sh("ulimit -n 16 && exec \"$I\" tree");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for kind in ["uts", "ipc", "net"] {
        let name = format!("{kind}:[{}]", ns_inode(&pid, kind));
        assert!(text.contains(&name), "{name} missing:\n{text}");
    }
    assert!(!text.contains("owner not visible"), "{text}");
    assert_eq!(shell.stop(), Some(0));
}

// Item 9: the words say what really happened.
#[test]
fn a_zombie_is_called_a_zombie() {
    // sh starts `sleep 0` and becomes `sleep 100 MARKER`, which never
    // reaps it.
    let marker = unique_number();
    let mut parent = Command::new("sh")
        .args(["-c", &format!("sleep 0 & exec sleep 100 {marker}")])
        .spawn()
        .unwrap();
    let pid = parent.id();
    let children = format!("/proc/{pid}/task/{pid}/children");
    let deadline = Instant::now() + Duration::from_secs(10);
    let zombie = loop {
        let text = std::fs::read_to_string(&children).unwrap_or_default();
        let child = text.split_whitespace().next().map(str::to_string);
        let stat = child
            .as_ref()
            .and_then(|c| nslab::proc_self::Stat::of(c.parse().ok()?));
        if let (Some(child), Some(stat)) = (child, stat)
            && stat.state == 'Z'
        {
            break child;
        }
        assert!(Instant::now() < deadline, "no zombie appeared");
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = inspect_ok(&["ns", &zombie]);
    assert!(text.contains("gone: a zombie"), "{text}");
    assert!(!text.contains("unshare(CLONE_NEWPID)"), "{text}");
    let _ = parent.kill();
    let _ = parent.wait();
}

#[test]
fn root_refused_by_the_ptrace_check_is_not_told_to_run_as_root() {
    if !have_root("root_refused_by_the_ptrace_check_is_not_told_to_run_as_root")
    {
        return;
    }
    // Root of a user namespace of its own: PID 1 is out of its reach.
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user"])
        .arg(bin("ch07-inspect"))
        .args(["ns", "1"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "permission denied (EACCES)", "we are root");
    assert!(!stderr(&out).contains("run as root"), "{}", stderr(&out));
}

#[test]
fn release_as_a_normal_user_gets_a_hint() {
    if !have_root("release_as_a_normal_user_gets_a_hint") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let dir = SharedDir::new();
    let path = dir.path.join("uts").display().to_string();
    let me = std::process::id().to_string();
    let mounts = ScratchMounts::new();
    mounts.inspect_ok(&["keep", &me, "uts", &path]);
    let copy = nslab_testkit::BinaryCopy::new("ch07-inspect");
    let setpriv = [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--",
        &copy.path.display().to_string(),
        "release",
        &path,
    ];
    let out = mounts
        .command(Path::new("setpriv"), &setpriv)
        .output()
        .unwrap();
    assert_one_line_error(&out, "cannot unmount", "needs root");
    mounts.inspect_ok(&["release", &path]);
    drop(dir);
    before.assert_unchanged();
}

// Item 10: output that cannot be spoofed, arguments as everywhere.
#[test]
fn list_escapes_control_characters_and_shows_bad_utf8_lossily() {
    if !have_root("list_escapes_control_characters_and_shows_bad_utf8_lossily")
    {
        return;
    }
    // sh's $0 carries a newline (to fake a row) and a byte that is not
    // UTF-8; it is the only process in a new UTS namespace.
    let name = OsStr::from_bytes(b"nslab\n4026531838 uts 1 1 root fake\xff");
    let mut child = Command::new("unshare")
        .args(["--uts", "sh", "-c", "echo ready; read x || :"])
        .arg(name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line, "ready\n");
    let uts = ns_inode(&child.id().to_string(), "uts").to_string();
    let text = inspect_ok(&["list", "uts"]);
    // Its own namespace's rows only: other tests run processes whose
    // command lines say nslab too.
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(&format!("{uts} ")))
        .collect();
    assert_eq!(ours.len(), 1, "{text}");
    assert!(ours[0].starts_with(&format!("{uts} ")), "{text}");
    assert!(
        ours[0].ends_with("nslab\\x0a4026531838 uts 1 1 root fake\u{fffd}"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.ends_with("root fake")), "{text}");
    // lsns writes the newline the same way.
    let lsns = common::lsns(&["-t", "uts"]);
    assert!(lsns.contains("nslab\\x0a4026531838 uts"), "{lsns}");
    drop(child.stdin.take());
    child.wait().unwrap();
}

#[test]
fn help_and_double_dash_work_where_a_learner_types_them() {
    let help = inspect_ok(&["--help"]);
    assert_eq!(inspect_ok(&["help", "help"]), help);
    let unshare_help = inspect_ok(&["unshare", "--help"]);
    assert!(unshare_help.starts_with("ch07-inspect unshare: "));
    assert_eq!(inspect_ok(&["unshare", "uts", "--help"]), unshare_help);
    assert_eq!(inspect_ok(&["help", "unshare"]), unshare_help);
    let text = inspect_ok(&["tree", "--", "/proc/self/ns/uts"]);
    assert!(text.starts_with("/proc/self/ns/uts:\n"), "{text}");
    let me = std::process::id().to_string();
    let text = inspect_ok(&["ns", "--", &me]);
    assert!(
        text.starts_with(&format!("namespaces of PID {me} ")),
        "{text}"
    );
}

#[test]
fn enter_takes_double_dash_before_its_target_and_its_command() {
    if !have_root("enter_takes_double_dash_before_its_target_and_its_command") {
        return;
    }
    let me = std::process::id().to_string();
    let out = inspect(&["enter", "--", &me, "--", "printf", "%s\n", "--help"])
        .assert()
        .success();
    assert_eq!(stdout(out.get_output()), "--help\n");
    // What follows the target is the command's, `--help` included.
    let out = inspect(&["enter", &me, "printf", "%s\n", "--help"])
        .assert()
        .success();
    assert_eq!(stdout(out.get_output()), "--help\n");
}

// Item 11: no path resolved twice; a user's symlink is not followed.
#[test]
fn keep_and_release_do_not_follow_a_users_symlink_on_the_way() {
    if !have_root("keep_and_release_do_not_follow_a_users_symlink_on_the_way") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    // `target` stands for /etc: root's. `user` is nobody's directory,
    // where nobody has put symlinks (as if swapped in between steps):
    // a naive keep or release resolves them by name and lands in
    // `target`.
    let target = ScratchDir::new();
    let user = SharedDir::new();
    let nobody = nslab_testkit::NOBODY;
    std::os::unix::fs::chown(&user.path, Some(nobody), Some(nobody)).unwrap();
    let link = |name: &str, to: &str| {
        let at = user.path.join(name);
        std::os::unix::fs::symlink(to, &at).unwrap();
        std::os::unix::fs::lchown(&at, Some(nobody), Some(nobody)).unwrap();
        at.display().to_string()
    };
    let dir_link = link("d", &target.0.display().to_string());
    let kept = target.join("kept");
    let file_link = link("x", &kept);
    let me = std::process::id().to_string();
    let mounts = ScratchMounts::new();

    // keep through nobody's link to root's directory: refused.
    let out = mounts
        .inspect(&["keep", &me, "uts", &format!("{dir_link}/evil")])
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        "is a symbolic link owned by uid 65534",
        "anywhere",
    );
    assert!(!Path::new(&target.join("evil")).exists());

    // release through nobody's links to root's kept namespace: refused,
    // and the namespace stays kept.
    mounts.inspect_ok(&["keep", &me, "uts", &kept]);
    let out = mounts.inspect(&["release", &file_link]).output().unwrap();
    assert_one_line_error(
        &out,
        "is not a kept namespace (a symbolic link",
        "nsfs",
    );
    let out = mounts
        .inspect(&["release", &format!("{dir_link}/kept")])
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        "is a symbolic link owned by uid 65534",
        "anywhere",
    );
    assert_eq!(mounts.mounts_at(&kept), 1, "the kept namespace stays");
    // The symlinks themselves are untouched.
    assert!(Path::new(&file_link).symlink_metadata().is_ok());
    mounts.inspect_ok(&["release", &kept]);
    drop(user);
    drop(target);
    before.assert_unchanged();
}

// Item 12: cost interleaves its rounds and prints their spread.
#[test]
fn cost_prints_median_and_spread_of_interleaved_blocks() {
    if !have_root("cost_prints_median_and_spread_of_interleaved_blocks") {
        return;
    }
    let text = inspect_ok(&["cost", "10"]);
    assert!(
        text.starts_with(
            "10 rounds of clone3 + exit + wait per type, in 5 interleaved \
             blocks after a warm-up\n"
        ),
        "{text}"
    );
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(
        names,
        [
            "(none)", "cgroup", "ipc", "mnt", "net", "pid", "time", "user",
            "uts"
        ]
    );
    for row in &rows {
        let median: f64 = row[1].parse().unwrap();
        let (min, max) = row[2].split_once('-').unwrap();
        let (min, max): (f64, f64) =
            (min.parse().unwrap(), max.parse().unwrap());
        assert!(min <= median && median <= max, "{row:?}");
        if row[0] != "(none)" {
            let extra: f64 = row[3].parse().unwrap();
            assert!(extra.is_finite(), "{row:?}");
        }
    }
}

/// `enter` and `unshare` run their command with the chapters' contract:
/// every signal a process sends is passed on, and so is a hang-up when
/// the tool leads the session (script(1) here).
#[test]
fn enter_and_unshare_pass_on_every_signal_and_a_hang_up() {
    if !have_root("enter_and_unshare_pass_on_every_signal_and_a_hang_up") {
        return;
    }
    let me = std::process::id().to_string();
    for before in [&["enter", &me, "--"][..], &["unshare", "uts", "--"]] {
        nslab_testkit::hostile::every_signal_reaches("ch07-inspect", before);
        nslab_testkit::hostile::a_hang_up_reaches("ch07-inspect", before);
    }
}
