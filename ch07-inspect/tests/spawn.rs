//! `ch07-inspect spawn`: clone3 with CLONE_INTO_CGROUP and CLONE_PIDFD
//! (Linux 5.7). In a scratch mount namespace, with a cgroup of the
//! test's own in the v2 hierarchy (removed at the end): the child is in
//! that cgroup from its start, the caller is not, the tool names the
//! pidfd, and the status comes back through it.

mod common;

use common::{assert_one_line_error, inspect};
use nslab_testkit::{TIMEOUT, bin, have_root, stderr, stdout};

#[test]
fn the_child_is_born_in_the_cgroup() {
    if !have_root("the_child_is_born_in_the_cgroup") {
        return;
    }
    let script = r#"
        mount -t cgroup2 none /mnt || exit 1
        cg=/mnt/nslab-spawn-$$
        mkdir "$cg" || exit 1
        trap 'rmdir "$cg"' EXIT
        "$0" spawn "$cg" -- sh -c 'grep "^0::" /proc/self/cgroup; exit 3'
        echo "status $?"
        grep "^0::" /proc/self/cgroup
        echo "$(basename "$cg")"
    "#;
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(bin("ch07-inspect"))
        .timeout(TIMEOUT)
        .assert()
        .success();
    let text = stdout(out.get_output());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], format!("0::/{}", lines[3]), "{text}");
    assert_eq!(lines[1], "status 3", "{text}");
    // The caller stays where it was (here, not in the new cgroup).
    assert_ne!(lines[2], lines[0], "{text}");
    let err = stderr(out.get_output());
    assert!(
        err.contains("clone3: PID ") && err.contains("by pidfd "),
        "{err}"
    );
}

#[test]
fn a_directory_outside_cgroup_v2_is_refused() {
    if !have_root("a_directory_outside_cgroup_v2_is_refused") {
        return;
    }
    let out = inspect(&["spawn", "/tmp", "--", "true"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        "cannot start the child (clone3): EBADF",
        "a directory of the cgroup v2 hierarchy",
    );
}

/// The command line: CGROUP, `--` and a COMMAND are all needed; a
/// command that is not found is 127, one that cannot be executed 126.
#[test]
fn usage_and_the_commands_status() {
    for args in [&["spawn"][..], &["spawn", "/tmp"], &["spawn", "/tmp", "--"]] {
        let out = inspect(args).output().unwrap();
        assert_one_line_error(
            &out,
            "spawn needs CGROUP, --, COMMAND",
            "usage:",
        );
    }
    if !have_root("usage_and_the_commands_status") {
        return;
    }
    let script = r#"
        mount -t cgroup2 none /mnt || exit 1
        cg=/mnt/nslab-spawn-$$
        mkdir "$cg" || exit 1
        trap 'rmdir "$cg"' EXIT
        "$0" spawn "$cg" -- nslab-no-such-command 2>/dev/null
        echo "not found: $?"
        "$0" spawn "$cg" -- /etc/passwd 2>/dev/null
        echo "not executable: $?"
    "#;
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(bin("ch07-inspect"))
        .timeout(TIMEOUT)
        .assert()
        .success();
    assert_eq!(
        stdout(out.get_output()),
        "not found: 127\nnot executable: 126\n"
    );
}
