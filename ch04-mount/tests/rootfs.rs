//! What `ch04-mount --root DIR` promises: DIR is the whole of `/` (the
//! mount table lists only it and what was mounted in it, no host path is
//! in reach, `ps` sees only the container), and a bad DIR is refused
//! before anything is made: one line, a hint, 125, the host unchanged.

use nslab_testkit::{
    HostSnapshot, Rootfs, TIMEOUT, chapter, have_root, host_lock, stderr,
    stdout,
};

/// What `make-rootfs.sh` puts at the top of DIR.
const ROOTFS_TOP: &str = "bin\ndev\netc\nproc\nroot\nsbin\nsys\ntmp\nusr\n";

#[test]
fn the_root_is_dir_and_only_dir() {
    if !have_root("the_root_is_dir_and_only_dir") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    let script = "mount -t proc proc /proc; ls /; echo ---; \
                  cut -d' ' -f4,5 /proc/self/mountinfo; echo ---; \
                  ps -o pid,comm; echo ---; \
                  ls /work /home /usr/lib 2>&1 | wc -l";
    let out = chapter(
        "ch04-mount",
        &["--root", rootfs.arg(), "--", "/bin/sh", "-c", script],
    )
    .assert()
    .success();
    let text = stdout(out.get_output());
    let parts: Vec<&str> = text.split("---\n").collect();
    assert_eq!(parts.len(), 4, "{text}");
    // `ls /` lists the root file system, nothing of the host's.
    assert_eq!(parts[0], ROOTFS_TOP, "{text}");
    // The mount table: the bind of DIR as `/` and the proc mounted in
    // it. The host's root and every other host mount are detached.
    let rootfs_path = rootfs.path.canonicalize().unwrap();
    assert_eq!(
        parts[1],
        format!("{} /\n/ /proc\n", rootfs_path.display()),
        "{text}"
    );
    // ps: the shell (PID 1) and ps, nothing of the host.
    let rows: Vec<Vec<&str>> = parts[2]
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["1", "sh"], "{text}");
    assert!(rows.iter().all(|r| r[1] == "sh" || r[1] == "ps"), "{text}");
    assert!(rows.len() <= 3, "{text}");
    // No host path: each `ls` says "No such file or directory", one line.
    assert_eq!(parts[3].trim(), "3", "{text}");
    before.assert_unchanged();
}

#[test]
fn an_interactive_shell_starts_in_the_new_root() {
    if !have_root("an_interactive_shell_starts_in_the_new_root") {
        return;
    }
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    // No bash in the rootfs: the machinery falls back to sh (busybox).
    let out = chapter("ch04-mount", &["--root", rootfs.arg()])
        .write_stdin("pwd; readlink /bin/sh; ls /\n")
        .assert()
        .success();
    assert_eq!(
        stdout(out.get_output()),
        format!("/\nbusybox\n{ROOTFS_TOP}")
    );
}

/// Runs `ch04-mount ARGS` (or a shell line that runs it as `$CH04`, in
/// a scratch mount namespace), and checks the refusal: 125, one line
/// that contains `what`, a hint that contains `hint`, the host as it
/// was.
fn refused(line: Option<&str>, args: &[&str], what: &str, hint: &str) {
    let _host = host_lock();
    let before = HostSnapshot::take();
    let mut command = match line {
        None => chapter("ch04-mount", args),
        Some(line) => {
            let mut command =
                nslab_testkit::assert_cmd::Command::new("unshare");
            command
                .args(["--mount", "sh", "-c", line])
                .env("CH04", nslab_testkit::bin("ch04-mount"))
                .timeout(TIMEOUT);
            command
        }
    };
    let out = command.write_stdin("").assert().code(125);
    let err = stderr(out.get_output());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("ch04-mount: "), "{err}");
    assert!(lines[0].contains(what), "{err}");
    assert!(lines[1].starts_with("hint: "), "{err}");
    assert!(lines[1].contains(hint), "{err}");
    assert!(stdout(out.get_output()).is_empty());
    before.assert_unchanged();
}

#[test]
fn a_missing_dir_is_refused() {
    if !have_root("a_missing_dir_is_refused") {
        return;
    }
    let args = ["--root", "/nslab/no/such/dir", "--", "true"];
    refused(None, &args, "ENOENT", "make-rootfs.sh");
}

#[test]
fn a_file_is_refused() {
    if !have_root("a_file_is_refused") {
        return;
    }
    let args = ["--root", "/etc/hostname", "--", "true"];
    refused(None, &args, "ENOTDIR", "make-rootfs.sh");
}

#[test]
fn a_root_without_a_shell_is_refused_for_a_shell() {
    if !have_root("a_root_without_a_shell_is_refused_for_a_shell") {
        return;
    }
    let empty = nslab_testkit::SharedDir::new();
    let dir = empty.path.to_str().unwrap();
    refused(None, &["--root", dir], "has no shell", "give a command");
}

#[test]
fn a_read_only_mount_is_refused() {
    if !have_root("a_read_only_mount_is_refused") {
        return;
    }
    // A read-only tmpfs in a scratch mount namespace: the host never
    // sees it.
    let line = "mount -t tmpfs -o ro,size=1m nslab-ro /mnt && \
                exec $CH04 --root /mnt -- true";
    refused(Some(line), &[], "read-only mount", "without `ro`");
}

#[test]
fn a_nosuid_mount_is_refused() {
    if !have_root("a_nosuid_mount_is_refused") {
        return;
    }
    let line = "mount -t tmpfs -o nosuid,size=1m nslab-nosuid /mnt && \
                exec $CH04 --root /mnt -- true";
    refused(Some(line), &[], "nosuid mount", "without `nosuid`");
}

#[test]
fn root_needs_its_directory() {
    let out = chapter("ch04-mount", &["--root"]).assert().code(125);
    let err = stderr(out.get_output());
    assert!(
        err.starts_with("ch04-mount: --root needs a directory"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "{err}");
}

#[test]
fn the_hosts_own_root_is_refused_before_the_welcome() {
    if !have_root("the_hosts_own_root_is_refused_before_the_welcome") {
        return;
    }
    // No command: the refusal comes before the welcome line.
    refused(None, &["--root", "/"], "host's own /", "make-rootfs.sh");
}

#[test]
fn a_dir_longer_than_path_max_is_told_so() {
    if !have_root("a_dir_longer_than_path_max_is_told_so") {
        return;
    }
    let long = "./".repeat(4096) + "rootfs";
    let args = ["--root", long.as_str(), "--", "true"];
    refused(None, &args, "ENAMETOOLONG", "PATH_MAX");
}

#[test]
fn root_dot_is_the_working_directory() {
    if !have_root("root_dot_is_the_working_directory") {
        return;
    }
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    let out = chapter("ch04-mount", &["--root", ".", "--", "/bin/ls", "/"])
        .current_dir(&rootfs.path)
        .assert()
        .success();
    assert_eq!(stdout(out.get_output()), ROOTFS_TOP);
}

/// DIR is looked up once: a symlink flipped between a good root and a
/// `noexec` one, as fast as a shell can, never gets a command run in the
/// `noexec` one (126: exec refused), however the flips fall between the
/// tool's check and the child's `pivot_root`. Every run either uses the
/// good root (0) or is refused before `clone` (125).
#[test]
fn a_root_swapped_after_the_check_is_never_used() {
    if !have_root("a_root_swapped_after_the_check_is_never_used") {
        return;
    }
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    let scratch = nslab_testkit::SharedDir::new();
    // In a scratch mount namespace: a noexec bind of the good root, a
    // symlink that a bounded loop flips between the two, and 300 runs.
    let line = r#"
        set -u
        mkdir "$S/bad" && mount --bind "$GOOD" "$S/bad" &&
            mount -o remount,bind,noexec "$S/bad" || exit 99
        i=0
        while [ $i -lt 100000 ] && [ ! -e "$S/stop" ]; do
            ln -sfn "$GOOD" "$S/link"; ln -sfn "$S/bad" "$S/link"
            i=$((i + 1))
        done &
        n=0
        while [ $n -lt 300 ]; do
            "$CH04" --root "$S/link" -- /bin/true 2>/dev/null
            echo $?
            n=$((n + 1))
        done
        touch "$S/stop"
        wait
    "#;
    let _host = host_lock();
    let before = HostSnapshot::take();
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", line])
        .env("CH04", nslab_testkit::bin("ch04-mount"))
        .env("GOOD", &rootfs.path)
        .env("S", &scratch.path)
        .timeout(std::time::Duration::from_secs(300))
        .assert()
        .success();
    let text = stdout(out.get_output());
    let statuses: Vec<&str> = text.lines().collect();
    assert_eq!(statuses.len(), 300, "{text}");
    let count = |s: &str| statuses.iter().filter(|&&x| x == s).count();
    assert_eq!(count("126"), 0, "a command ran in the noexec root: {text}");
    assert_eq!(count("0") + count("125"), 300, "{text}");
    assert!(count("0") > 0, "the good root was never used: {text}");
    before.assert_unchanged();
}

/// Under `--root DIR` there is no `/proc` of ours until one is mounted:
/// a file that DIR itself has at `/proc/self/fd/N` is not our start-up
/// file, and sh must not be told to run it.
#[test]
fn a_start_up_file_in_the_root_is_not_taken_for_ours() {
    if !have_root("a_start_up_file_in_the_root_is_not_taken_for_ours") {
        return;
    }
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    let fds = rootfs.path.join("proc/self/fd");
    std::fs::create_dir_all(&fds).unwrap();
    for n in 3..=9 {
        std::fs::write(fds.join(n.to_string()), "echo DIR-RC-$((6 * 7))\n")
            .unwrap();
    }
    let home = nslab_testkit::SharedDir::new();
    let shown = nslab_testkit::terminal::typed_on_a_terminal_with(
        "ch04-mount",
        "exec \"$TOOL\" --root \"$R\"",
        &home.path,
        "echo typed-$((6 * 7))\nexit\n",
        &[("R", rootfs.arg())],
    );
    assert!(shown.contains("typed-42"), "{shown}");
    assert!(!shown.contains("DIR-RC-42"), "{shown}");
}
