//! What ch04-mount promises: a `/proc` of its own shows only the
//! container, nothing mounted inside reaches the host, also where `/` is
//! shared, and `--init` reaps orphans.

use nslab_testkit::{
    HostSnapshot, TIMEOUT, bin, chapter, have_root, host_lock, stdout,
};

nslab_testkit::contract_tests!(
    "ch04-mount",
    new: &["uts", "ipc", "pid", "mnt"],
    limit: "max_mnt_namespaces",
    pid_namespace: true,
    needs_root: true,
);

#[test]
fn ps_sees_only_the_shell_and_ps() {
    if !have_root("ps_sees_only_the_shell_and_ps") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let out = chapter(
        "ch04-mount",
        &[
            "--",
            "sh",
            "-c",
            "mount -t proc proc /proc && ps -e -o pid=,comm=",
        ],
    )
    .assert()
    .success();
    let text = stdout(out.get_output());
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows.len(),
        2,
        "`ps -e` after mounting /proc inside ch04-mount lists {} processes, \
         not only the shell and ps (a new PID and mount namespace each?):\n{text}",
        rows.len()
    );
    assert_eq!(rows[0], ["1", "sh"], "{text}");
    assert_eq!(rows[1][1], "ps", "{text}");
    // The host's /proc and mount table are as they were.
    before.assert_unchanged();
    let host_processes = std::fs::read_dir("/proc")
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .parse::<u32>()
                .is_ok()
        })
        .count();
    assert!(host_processes > 2, "the host's /proc shows the host");
}

/// Runs `script` in a scratch mount namespace whose `/` is shared, like
/// a systemd host's; returns what it printed. The copy is made private
/// first, so that it shares nothing with the caller's mounts (on a
/// systemd host they are shared too, and a leak would reach them), then
/// shared: its own peer group.
fn on_a_shared_root(script: &str) -> String {
    let line = format!(
        "mount --make-rprivate / && mount --make-rshared / && {script}"
    );
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &line])
        .env("CH04", bin("ch04-mount"))
        .timeout(TIMEOUT)
        .assert()
        .success();
    stdout(out.get_output())
}

#[test]
fn root_is_private_inside_even_when_shared_outside() {
    if !have_root("root_is_private_inside_even_when_shared_outside") {
        return;
    }
    let text = on_a_shared_root(
        "findmnt -no PROPAGATION /; $CH04 -- findmnt -no PROPAGATION /",
    );
    assert_eq!(
        text,
        "shared\nprivate\n",
        "`findmnt -no PROPAGATION /` printed {:?} on a shared / and then \
         inside ch04-mount: / must be private inside (is it made private, \
         MS_REC | MS_PRIVATE, first?)",
        text.lines().collect::<Vec<_>>()
    );
}

#[test]
fn a_mount_inside_does_not_reach_a_shared_host() {
    if !have_root("a_mount_inside_does_not_reach_a_shared_host") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    // The danger is real: a plain copy of a shared tree propagates back.
    let leaked = on_a_shared_root(
        "unshare --mount --propagation unchanged \
         mount -t tmpfs nslab-leak /mnt; findmnt -no SOURCE /mnt",
    );
    assert_eq!(leaked, "nslab-leak\n", "the control must leak");
    // ch04 makes its copy private first: nothing comes back.
    let kept = on_a_shared_root(
        "$CH04 -- mount -t tmpfs nslab-kept /mnt; \
         findmnt -no SOURCE /mnt || echo not-mounted",
    );
    assert_eq!(
        kept,
        "not-mounted\n",
        "a tmpfs mounted inside ch04-mount appeared outside, on a shared / \
         (findmnt printed {:?}): / was not made private (MS_REC | \
         MS_PRIVATE) before the mount",
        kept.trim()
    );
    before.assert_unchanged();
}

#[test]
fn init_reaps_orphans() {
    if !have_root("init_reaps_orphans") {
        return;
    }
    // The subshell exits at once, so its sleep is orphaned and handed to
    // PID 1. Once killed, PID 1 must reap it: `kill -0` answers for a
    // zombie too, so the loop ends only when it is reaped (or never, and
    // the test fails by its time limit).
    let script = "mount -t proc proc /proc; \
                  orphan=$( (sleep 600 >/dev/null & echo $!) ); \
                  ps -o ppid= -p $orphan; kill $orphan; \
                  while kill -0 $orphan 2>/dev/null; do sleep 0.05; done; \
                  ps -e -o pid=,stat=,comm=";
    let out = chapter("ch04-mount", &["--init", "--", "sh", "-c", script])
        .assert()
        .success();
    let text = stdout(out.get_output());
    let (parent, text) = text.split_once('\n').unwrap();
    assert_eq!(parent.trim(), "1", "the orphan's parent is PID 1");
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(rows.iter().all(|row| !row[1].starts_with('Z')), "{text}");
    assert_eq!(rows[0][0], "1", "{text}");
    assert_eq!(rows[0][2], "ch04-mount", "the init is PID 1: {text}");
    assert_eq!(rows[1][..1], ["2"], "the command is PID 2: {text}");
    assert!(!text.contains("sleep"), "the orphan is gone: {text}");
}

/// Host PIDs of the children of host PID `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

/// The state letter of host PID `pid` (`S`, `R`, `Z`, ...).
fn state_of(pid: u32) -> String {
    let stat = nslab::proc_self::Stat::of(pid);
    stat.unwrap_or_else(|| panic!("no /proc/{pid}/stat"))
        .state
        .to_string()
}

#[test]
fn without_init_an_orphan_stays_a_zombie_of_pid1() {
    if !have_root("without_init_an_orphan_stays_a_zombie_of_pid1") {
        return;
    }
    // The control for the test above: `sleep` as PID 1 never calls
    // wait(2), so the orphan it inherits stays a zombie (seen from the
    // host, which sees every PID namespace).
    let script = "(sleep 0.1 &); echo ready; exec sleep 100";
    let mut running = nslab_testkit::Running::start(
        &bin("ch04-mount"),
        &["--", "sh", "-c", script],
    );
    let pid1 = children_of(running.child.id());
    assert_eq!(pid1.len(), 1);
    let deadline =
        std::time::Instant::now() + std::time::Duration::from_secs(5);
    let zombie = loop {
        let orphans = children_of(pid1[0]);
        if let Some(&orphan) = orphans.first()
            && state_of(orphan) == "Z"
        {
            break orphan;
        }
        assert!(std::time::Instant::now() < deadline, "no zombie appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(running.still_running_after(std::time::Duration::from_millis(300)));
    assert_eq!(state_of(zombie), "Z", "still a zombie: nobody reaps it");
    // Killing the tool ends PID 1, and with it the namespace.
    running.signal(nslab_testkit::libc::SIGKILL);
    assert_eq!(running.reap(std::time::Duration::from_secs(10)), None);
}
