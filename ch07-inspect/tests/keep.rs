//! keep and release, and the end-to-end tour: inspect a running chapter,
//! enter it, keep one of its namespaces, let it exit, enter what was
//! kept, release it, and leave nothing behind.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Background, ScratchDir, inspect, inspect_ok, ns_inode};
use nslab_testkit::{
    HostSnapshot, bin, have_root, host_lock, processes_with, stdout,
};

/// The mountinfo lines (of this test process) whose mount point is `path`.
fn mounts_at(path: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.split_whitespace().nth(4) == Some(path))
        .map(Into::into)
        .collect()
}

#[test]
fn end_to_end_inspect_enter_keep_exit_enter_release() {
    if !have_root("end_to_end_inspect_enter_keep_exit_enter_release") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let dir = ScratchDir::new();
    let kept = dir.join("uts");
    let marker = nslab_testkit::unique("nslab-ch07-e2e");
    let script = format!(
        ": {marker}; hostname inner; mount -t proc proc /proc; echo ready; \
         read x || :"
    );
    let container =
        Background::start(&bin("ch04-mount"), &["--", "sh", "-c", &script]);
    let pid = container.container_pid().to_string();
    let uts = ns_inode(&pid, "uts");

    // Inspect: list finds its UTS namespace, with its shell in it.
    let list = inspect_ok(&["list", "uts"]);
    assert!(
        list.lines().any(|l| l.split_whitespace().take(4).eq([
            uts.to_string().as_str(),
            "uts",
            "1",
            &pid
        ])),
        "{list}"
    );
    // Enter: its hostname.
    let out = inspect(&["enter", &pid, "hostname"]).assert().success();
    assert_eq!(stdout(out.get_output()), "inner\n");

    // Keep its UTS namespace on a file.
    let text = inspect_ok(&["keep", &pid, "uts", &kept]);
    assert!(
        text.starts_with(&format!("kept uts:[{uts}] of PID {pid} at {kept}")),
        "{text}"
    );
    assert_eq!(
        std::fs::metadata(&kept)
            .map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.ino()
            })
            .unwrap(),
        uts,
        "the file is the namespace"
    );
    assert_eq!(mounts_at(&kept).len(), 1, "one nsfs mount on {kept}");

    // The container exits; all its processes are gone.
    assert_eq!(container.stop(), Some(0));
    let deadline = Instant::now() + Duration::from_secs(2);
    while !processes_with(&marker).is_empty() {
        assert!(Instant::now() < deadline, "the container outlived its exit");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The namespace persists: no process in it, held by the mount.
    let list = inspect_ok(&["list", "uts"]);
    let line = list
        .lines()
        .find(|l| l.starts_with(&uts.to_string()))
        .unwrap_or_else(|| panic!("uts:[{uts}] is gone:\n{list}"));
    assert!(
        line.contains(&format!(
            "uts         0       - -        (bind mount at {kept})"
        )),
        "{line}"
    );
    // ...and can be entered.
    let out = inspect(&[
        "enter",
        &kept,
        "sh",
        "-c",
        "hostname; readlink /proc/self/ns/uts",
    ])
    .assert()
    .success();
    assert_eq!(stdout(out.get_output()), format!("inner\nuts:[{uts}]\n"));

    // Release: the mount and the file go, and the namespace with them.
    let text = inspect_ok(&["release", &kept]);
    assert!(
        text.starts_with(&format!("released uts:[{uts}] from {kept}")),
        "{text}"
    );
    assert!(!Path::new(&kept).exists(), "release must remove {kept}");
    assert!(mounts_at(&kept).is_empty());
    let list = inspect_ok(&["list", "uts"]);
    assert!(!list.contains(&uts.to_string()), "{list}");
    assert!(processes_with(&marker).is_empty());
    drop(dir);
    before.assert_unchanged();
}

/// Runs `script` as sh in a scratch mount namespace whose / is shared,
/// as on a systemd host (this machine's own / is private).
fn on_a_shared_root(script: &str) -> std::process::Output {
    let script = format!("mount --make-rshared / && {script}");
    std::process::Command::new("unshare")
        .args(["-m", "--propagation", "unchanged", "sh", "-c", &script])
        .env("INSPECT", bin("ch07-inspect"))
        .output()
        .expect("cannot run unshare")
}

#[test]
fn keep_makes_a_shared_directory_a_private_mount_point() {
    if !have_root("keep_makes_a_shared_directory_a_private_mount_point") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let dir = ScratchDir::new();
    let d = dir.0.display().to_string();
    let script = format!(
        "\"$INSPECT\" keep $$ uts {d}/uts && echo mounts: && \
         grep ' {d}' /proc/self/mountinfo && \"$INSPECT\" release {d}/uts"
    );
    let out = on_a_shared_root(&script);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}{}",
        nslab_testkit::stderr(&out)
    );
    assert!(
        text.starts_with(&format!("{d} was on a shared mount (/ is shared:")),
        "{text}"
    );
    let (_, mounts) = text.split_once("mounts:\n").unwrap();
    let lines: Vec<Vec<&str>> = mounts
        .lines()
        .take_while(|l| !l.starts_with("released"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    // The directory became a mount point of its own, and not shared;
    // the namespace file on it is not shared either.
    let dir_mount = lines.iter().find(|w| w[4] == d).expect("dir mount");
    let file_mount = lines
        .iter()
        .find(|w| w[4] == format!("{d}/uts"))
        .expect("file mount");
    for mount in [dir_mount, file_mount] {
        assert!(!mount.iter().any(|w| w.starts_with("shared:")), "{text}");
    }
    assert!(file_mount.contains(&"nsfs"), "{text}");
    assert!(text.contains("released uts:["), "{text}");
    assert!(!Path::new(&format!("{d}/uts")).exists());
    drop(dir);
    before.assert_unchanged();
}

#[test]
fn keep_refuses_a_shared_mount_point() {
    if !have_root("keep_refuses_a_shared_mount_point") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let dir = ScratchDir::new();
    let d = dir.0.display().to_string();
    let script = format!(
        "mount --bind {d} {d} && mount --make-shared {d} && \
         \"$INSPECT\" keep $$ uts {d}/uts; echo status $?; \
         ls -A {d}; grep -c ' {d}/uts ' /proc/self/mountinfo"
    );
    let out = on_a_shared_root(&script);
    let err = nslab_testkit::stderr(&out);
    assert!(
        err.starts_with(&format!(
            "ch07-inspect: {d} is a shared mount point (shared:"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "\nhint: make it private (`mount --make-private {d}`)"
        )),
        "{err}"
    );
    // Status 125, no file, no mount.
    assert_eq!(stdout(&out), "status 125\n0\n", "{err}");
    drop(dir);
    before.assert_unchanged();
}
