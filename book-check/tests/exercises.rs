//! Every exercise's solution, run: each test does what the solution says
//! and checks that the reader sees what it says they will see, and that
//! the host is left as it was. (The exercises of "A root of its own",
//! chapter 4, and "A cable to the host", chapter 6.)

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use nslab_testkit::{
    HostSnapshot, Rootfs, as_nobody, bin, chapter, have_root, host_lock,
    stderr, stdout,
};

fn rootfs() -> Rootfs {
    Rootfs::new(env!("CARGO_TARGET_TMPDIR"))
}

/// ch04, "A root of its own", exercise 1: no `/proc` until one is
/// mounted.
#[test]
fn ch04_root_exercise_1_no_proc_until_mounted() {
    if !have_root("ch04_root_exercise_1_no_proc_until_mounted") {
        return;
    }
    let rootfs = rootfs();
    let out = chapter(
        "ch04-mount",
        &["--root", rootfs.arg(), "--", "cat", "/proc/self/mountinfo"],
    )
    .assert()
    .code(1);
    assert_eq!(
        stderr(out.get_output()),
        "cat: can't open '/proc/self/mountinfo': No such file or directory\n"
    );
    let script = "mount -t proc proc /proc; cat /proc/self/mountinfo";
    let out = chapter(
        "ch04-mount",
        &["--root", rootfs.arg(), "--", "/bin/sh", "-c", script],
    )
    .assert()
    .success();
    assert_eq!(stdout(out.get_output()).lines().count(), 2);
}

/// ch04, "A root of its own", exercise 2: an absolute link is resolved
/// inside DIR.
#[test]
fn ch04_root_exercise_2_the_shell_is_looked_up_inside() {
    if !have_root("ch04_root_exercise_2_the_shell_is_looked_up_inside") {
        return;
    }
    let rootfs = rootfs();
    let sh = rootfs.path.join("bin/sh");
    std::fs::remove_file(&sh).unwrap();
    std::os::unix::fs::symlink("/bin/bash", &sh).unwrap();
    let out = chapter("ch04-mount", &["--root", rootfs.arg()])
        .write_stdin("")
        .assert()
        .code(125);
    let err = stderr(out.get_output());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "ch04-mount: --root {} has no shell (no /bin/bash, no /bin/sh)",
            rootfs.arg()
        )
    );
    assert!(lines[1].starts_with("hint: "), "{err}");
    // Restored, the shell starts.
    std::fs::remove_file(&sh).unwrap();
    std::os::unix::fs::symlink("busybox", &sh).unwrap();
    chapter("ch04-mount", &["--root", rootfs.arg()])
        .write_stdin("exit 3\n")
        .assert()
        .code(3);
}

/// ch04, "A root of its own", exercise 3: root in a user namespace may
/// not mount a proc after the pivot.
#[test]
fn ch04_root_exercise_3_no_new_proc_in_a_user_namespace() {
    if !have_root("ch04_root_exercise_3_no_new_proc_in_a_user_namespace") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let rootfs = rootfs();
    let script = "id -u; mount -t proc proc /proc";
    let args = ["--root", rootfs.arg(), "--", "/bin/sh", "-c", script];
    let user = [&["--map-root"][..], &args].concat();
    let out = chapter("ch05-user", &user).assert().code(1);
    assert_eq!(stdout(out.get_output()), "0\n");
    assert_eq!(
        stderr(out.get_output()),
        "mount: permission denied (are you root?)\n"
    );
    // In chapter 4, as real root, the same mount works.
    chapter("ch04-mount", &args).assert().success();
    before.assert_unchanged();
}

/// A `ch06-net --veth --map-root` container that runs `script` once the
/// test writes a line to it, after printing `ready`.
fn veth_container(script: &str) -> std::process::Child {
    let line = format!("echo ready; read go; {script}");
    let mut child = Command::new(bin("ch06-net"))
        .args(["--veth", "--map-root", "--", "sh", "-c", &line])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start ch06-net");
    let mut ready = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready, "ready\n");
    child
}

/// The veth end on the host that appeared since `before`.
fn new_host_end(before: &[String]) -> String {
    let now: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("veth-nslab"))
        .filter(|name| !before.contains(name))
        .collect();
    assert_eq!(now.len(), 1, "{now:?}");
    now[0].clone()
}

use nslab_testkit::veth_host_ends as host_ends;

/// ch06, "A cable to the host", exercise 1: deleting the host end
/// deletes `eth0` too.
#[test]
fn ch06_veth_exercise_1_one_end_takes_the_other() {
    if !have_root("ch06_veth_exercise_1_one_end_takes_the_other") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let ends = host_ends();
    let mut child =
        veth_container("ip -o link | cut -d: -f2 | tr -d ' '; ip route");
    let host_end = new_host_end(&ends);
    nslab_testkit::host("ip", &["link", "del", &host_end]);
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    let links: Vec<&str> = text.lines().collect();
    assert_eq!(links[0], "lo", "{text}");
    assert!(!text.contains("eth0"), "eth0 must be gone: {text}");
    assert!(!text.contains("default"), "no route out: {text}");
    before.assert_unchanged();
}

/// ch06, "A cable to the host", exercise 2: `--veth` needs root.
#[test]
fn ch06_veth_exercise_2_veth_needs_root() {
    if !have_root("ch06_veth_exercise_2_veth_needs_root") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let (mut command, _copy) = as_nobody("ch06-net", &["--veth", "--", "true"]);
    let out = command.assert().code(125);
    let err = stderr(out.get_output());
    assert!(err.starts_with("ch06-net: --veth: cannot create veth-nslab"));
    assert!(
        err.contains(": EPERM: Operation not permitted\nhint: "),
        "{err}"
    );
    assert!(err.contains("as root"), "{err}");
    before.assert_unchanged();
}

/// ch06, "A cable to the host", exercise 3: the routes on each side.
#[test]
fn ch06_veth_exercise_3_a_route_on_each_side() {
    if !have_root("ch06_veth_exercise_3_a_route_on_each_side") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let ends = host_ends();
    let mut child = veth_container("ip route");
    let host_end = new_host_end(&ends);
    let n: u8 = host_end.trim_start_matches("veth-nslab").parse().unwrap();
    let on_host = stdout(&nslab_testkit::host(
        "ip",
        &["route", "show", "dev", &host_end],
    ));
    assert_eq!(
        on_host,
        format!("10.199.{n}.0/24 proto kernel scope link src 10.199.{n}.1 \n")
    );
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        format!(
            "default via 10.199.{n}.1 dev eth0 \n\
             10.199.{n}.0/24 dev eth0 proto kernel scope link src \
             10.199.{n}.2 \n"
        )
    );
    assert_eq!(host_ends(), ends, "the tool removed its end");
    before.assert_unchanged();
}
