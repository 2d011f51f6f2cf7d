//! `--root DIR` carried into ch05: it works inside a user namespace too,
//! where the host's mounts are locked (MNT_LOCKED) and the old root can
//! be detached only because pivot_root hands the lock on to the new
//! root; a new proc is refused there (the book says why); and `--veth`
//! is not an option here (no network namespace).

use nslab_testkit::{
    HostSnapshot, Rootfs, chapter, have_root, host_lock, stderr, stdout,
};

#[test]
fn root_works_in_a_user_namespace_with_and_without_a_map() {
    if !have_root("root_works_in_a_user_namespace_with_and_without_a_map") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    // Unmapped, the command is the overflow uid; nothing of the host's
    // /proc is left (the rootfs's /proc is an empty directory).
    let script = "ls /; ls /proc | wc -l; id -u";
    let out = chapter(
        "ch05-user",
        &["--root", rootfs.arg(), "--", "/bin/sh", "-c", script],
    )
    .assert()
    .success();
    let (overflow, _) = nslab_testkit::overflow_ids();
    assert_eq!(
        stdout(out.get_output()),
        format!(
            "bin\ndev\netc\nproc\nroot\nsbin\nsys\ntmp\nusr\n0\n{overflow}\n"
        )
    );
    // Mapped to root, it is root in the new root, but cannot mount a
    // proc there: in a user namespace the kernel allows a new proc only
    // where one is already fully visible in the mount namespace, and the
    // host's went with the old root (fs/namespace.c, mount_too_revealing).
    let script = "id -u; touch /tmp/mine && echo wrote; \
                  mount -t proc proc /proc || echo refused";
    let out = chapter(
        "ch05-user",
        &[
            "--map-root",
            "--root",
            rootfs.arg(),
            "--",
            "/bin/sh",
            "-c",
            script,
        ],
    )
    .assert()
    .success();
    assert_eq!(stdout(out.get_output()), "0\nwrote\nrefused\n");
    assert!(
        stderr(out.get_output()).contains("permission denied"),
        "{}",
        stderr(out.get_output())
    );
    before.assert_unchanged();
}

#[test]
fn veth_needs_a_network_namespace() {
    let out = chapter("ch05-user", &["--veth", "--", "true"])
        .assert()
        .code(125);
    assert_eq!(
        stderr(out.get_output()),
        "ch05-user: --veth needs a network namespace (ch06-net on)\n\
         hint: `ch05-user --help` shows the usage\n"
    );
}

/// A DIR that the caller cannot search (root's, mode 0700, for nobody)
/// would fail in the child; it is refused before `clone`, with the
/// reason.
#[test]
fn a_dir_the_caller_cannot_search_is_refused_with_a_hint() {
    if !have_root("a_dir_the_caller_cannot_search_is_refused_with_a_hint") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let shared = nslab_testkit::SharedDir::new();
    let dir = shared.path.join("private");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .unwrap();
    let dir = dir.to_str().unwrap();
    let (mut command, _copy) =
        nslab_testkit::as_nobody("ch05-user", &["--root", dir, "--", "true"]);
    let out = command.assert().code(125);
    let err = stderr(out.get_output());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("ch05-user: --root "), "{err}");
    assert!(lines[0].contains("EACCES"), "{err}");
    assert!(lines[1].starts_with("hint: "), "{err}");
    assert!(lines[1].contains("search DIR"), "{err}");
}
