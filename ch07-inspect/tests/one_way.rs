//! Joining a PID namespace from above, as `pid_namespaces(7)` and
//! `setns(2)` describe it: the process that `enter` forks there sees
//! its parent as PID 0 (the parent is outside), and its orphans go to
//! that namespace's PID 1, not to the tool, though the tool is a
//! subreaper. (Joining one above is refused: see `hints.rs`.) And how
//! deep user namespaces nest on this kernel: 33 levels below the
//! initial one, the 34th refused with ENOSPC.

mod common;

use common::{Background, inspect};
use nslab_testkit::{TIMEOUT, bin, have_root, stderr, stdout};

#[test]
fn entering_from_above_the_parent_is_0_and_orphans_go_to_its_pid_1() {
    if !have_root(
        "entering_from_above_the_parent_is_0_and_orphans_go_to_its_pid_1",
    ) {
        return;
    }
    let container = Background::start(
        &bin("ch04-mount"),
        &[
            "--",
            "sh",
            "-c",
            "mount -t proc proc /proc; echo ready; read x || :",
        ],
    );
    let pid = container.container_pid().to_string();
    // The subshell exits at once, leaving its sleep an orphan.
    let script = "echo \"parent $PPID\"; (sleep 300 >/dev/null 2>&1 &); \
                  echo \"orphan's parent $(ps -o ppid= -C sleep)\"";
    let out = inspect(&["enter", &pid, "sh", "-c", script])
        .assert()
        .success();
    let text = stdout(out.get_output());
    let words: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(words, ["parent", "0", "orphan's", "parent", "1"], "{text}");
}

#[test]
fn user_namespaces_nest_33_deep() {
    if !have_root("user_namespaces_nest_33_deep") {
        return;
    }
    // Counted from the initial user namespace: where the test runs in
    // another, the count would be shorter.
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap();
    let map: Vec<&str> = map.split_whitespace().collect();
    if map != ["0", "0", "4294967295"] {
        eprintln!(
            "user_namespaces_nest_33_deep: not in the initial user namespace: skipped"
        );
        return;
    }
    let script = r#"NEST='n=$((n + 1)); export n
        unshare --user --map-root-user sh -c "$NEST" || echo "refused below level $((n - 1))"'
        export NEST; n=0 sh -c "$NEST""#;
    let out = nslab_testkit::assert_cmd::Command::new("sh")
        .args(["-c", script])
        .timeout(TIMEOUT)
        .output()
        .expect("cannot run sh");
    assert_eq!(stdout(&out), "refused below level 33\n");
    let err = stderr(&out);
    assert!(err.contains("No space left on device"), "{err}");
}
