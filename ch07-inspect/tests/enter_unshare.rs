//! enter (setns) and unshare (unshare on ourselves), through the tool.

mod common;

use common::{Background, inspect, inspect_ok, line_starting, ns_inode};
use nslab_testkit::{HostSnapshot, bin, have_root, host_lock, stderr};

#[test]
fn enter_a_ch04_container_sees_its_hostname_proc_and_pid_1() {
    if !have_root("enter_a_ch04_container_sees_its_hostname_proc_and_pid_1") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let container = Background::start(
        &bin("ch04-mount"),
        &[
            "--",
            "sh",
            "-c",
            "hostname inner; mount -t proc proc /proc; echo ready; read x || :",
        ],
    );
    let pid = container.container_pid().to_string();
    let script = "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; \
                  echo $$; ls /proc | grep -c '^[0-9]'; pwd; \
                  readlink /proc/self/ns/uts /proc/self/ns/mnt";
    let out = inspect(&["enter", &pid, "sh", "-c", script])
        .assert()
        .success();
    let text = nslab_testkit::stdout(out.get_output());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "inner", "its hostname: {text}");
    // Its /proc: PID 1 is the container's shell...
    assert!(lines[1].starts_with("sh -c hostname inner;"), "{text}");
    // ...we are a small PID in its PID namespace, and see few processes.
    let me: u32 = lines[2].parse().unwrap();
    assert!((2..100).contains(&me), "{text}");
    let count: u32 = lines[3].parse().unwrap();
    assert!((2..10).contains(&count), "{text}");
    assert_eq!(lines[4], "/", "{text}");
    assert_eq!(lines[5], format!("uts:[{}]", ns_inode(&pid, "uts")));
    assert_eq!(lines[6], format!("mnt:[{}]", ns_inode(&pid, "mnt")));
    let err = stderr(out.get_output());
    assert!(
        err.starts_with(&format!(
            "ch07-inspect: entered cgroup ipc uts net pid mnt time of \
             PID {pid} (user: the same as ours, skipped)"
        )),
        "{err}"
    );
    assert_eq!(container.stop(), Some(0));
    before.assert_unchanged();
}

#[test]
fn enter_passes_on_the_commands_exit_status() {
    if !have_root("enter_passes_on_the_commands_exit_status") {
        return;
    }
    let me = std::process::id().to_string();
    inspect(&["enter", &me, "sh", "-c", "exit 42"])
        .assert()
        .code(42);
    inspect(&["enter", &me, "sh", "-c", "kill -TERM $$"])
        .assert()
        .code(143);
    let out = inspect(&["enter", &me, "--", "nslab-no-such-command"])
        .assert()
        .code(127);
    let err = stderr(out.get_output());
    assert!(
        err.contains(
            "ch07-inspect: cannot run 'nslab-no-such-command': \
                      command not found\n"
        ) || err.contains("command not found (ENOENT"),
        "{err}"
    );
    inspect(&["enter", &me, "/etc/passwd"]).assert().code(126);
}

#[test]
fn enter_without_root_fails_with_a_hint() {
    if !have_root("enter_without_root_fails_with_a_hint") {
        return;
    }
    let shell = Background::start(
        std::path::Path::new("unshare"),
        &["--uts", "sh", "-c", "echo ready; read x || :"],
    );
    let pid = shell.pid().to_string();
    // As nobody, /proc/PID/ns of a root process cannot even be opened.
    let (mut command, _copy) =
        nslab_testkit::as_nobody("ch07-inspect", &["enter", &pid, "true"]);
    let err = stderr(command.assert().code(125).get_output());
    assert!(err.contains("permission denied (EACCES)"), "{err}");
    assert!(err.contains("hint: ") && err.contains("root"), "{err}");
    assert_eq!(shell.stop(), Some(0));
}

#[test]
fn unshare_pid_leaves_us_in_ours_and_makes_the_child_pid_1() {
    if !have_root("unshare_pid_leaves_us_in_ours_and_makes_the_child_pid_1") {
        return;
    }
    let out = inspect(&["unshare", "pid", "--", "sh", "-c", "echo shell $$"])
        .assert()
        .success();
    // stdout is the command's alone; the report is on stderr.
    assert_eq!(nslab_testkit::stdout(out.get_output()), "shell 1\n");
    let text = stderr(out.get_output());
    let host_pid = ns_inode("self", "pid").to_string();
    let pid = line_starting(&text, "pid");
    assert_eq!(pid[1..4], [&host_pid, &host_pid, "unchanged:"], "{text}");
    let children = line_starting(&text, "pid_for_children");
    assert_eq!(children[1..4], [&host_pid, "-", "dangling:"], "{text}");
    let after = text
        .lines()
        .find(|l| l.contains("pid_for_children is now "))
        .unwrap_or_else(|| panic!("{text}"));
    let new_pid = after
        .split_whitespace()
        .nth(4)
        .unwrap_or_default()
        .trim_end_matches(':');
    assert!(new_pid.parse::<u64>().is_ok(), "{text}");
    assert_ne!(new_pid, host_pid, "{text}");
}

#[test]
fn unshare_makes_all_eight_types_for_the_child() {
    if !have_root("unshare_makes_all_eight_types_for_the_child") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let script = format!(
        "echo namespaces:; {}; hostname x; mount -t tmpfs none /mnt",
        nslab_testkit::print_namespaces_script()
    );
    let out = inspect(&[
        "unshare", "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts",
        "--", "sh", "-c", &script,
    ])
    .assert()
    .success();
    let inside = nslab_testkit::stdout(out.get_output());
    let report = &stderr(out.get_output());
    let inside = inside.strip_prefix("namespaces:\n").unwrap();
    nslab_testkit::assert_namespaces(inside, &nslab_testkit::NS_TYPES);
    // The tool itself moved into all but pid and time: for those two
    // only the children's link changes.
    for kind in ["cgroup", "ipc", "mnt", "net", "user", "uts"] {
        assert_eq!(line_starting(report, kind)[3], "new", "{kind}: {report}");
    }
    assert_eq!(line_starting(report, "time")[3], "unchanged:", "{report}");
    assert_eq!(line_starting(report, "time_for_children")[3], "new");
    // The hostname and the tmpfs stayed inside.
    before.assert_unchanged();
}

fn uptime() -> f64 {
    let text = std::fs::read_to_string("/proc/uptime").unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn unshare_time_shifts_the_childs_clocks() {
    if !have_root("unshare_time_shifts_the_childs_clocks") {
        return;
    }
    let up_before = uptime();
    // `--name=value` is accepted as well as `--name value`.
    let text = inspect_ok(&[
        "unshare",
        "--boottime=86400",
        "--monotonic",
        "3600",
        "time",
        "--",
        "sh",
        "-c",
        "cat /proc/uptime /proc/self/timens_offsets",
    ]);
    let up_after = uptime();
    // /proc/uptime shows CLOCK_BOOTTIME, as the child sees it.
    let inside: f64 = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert!(
        inside >= up_before + 86400.0 - 0.1
            && inside <= up_after + 86400.0 + 0.1,
        "{inside} vs {up_before}..{up_after}: {text}"
    );
    // The kernel's own account of the child's offsets.
    let offsets: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(offsets.contains(&vec!["monotonic", "3600", "0"]), "{text}");
    assert!(offsets.contains(&vec!["boottime", "86400", "0"]), "{text}");
    // Without offsets, the clocks are the host's.
    let text = inspect_ok(&["unshare", "time", "--", "cat", "/proc/uptime"]);
    let inside: f64 = text
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert!((inside - uptime()).abs() < 5.0, "{text}");
}

#[test]
fn unshare_passes_on_the_commands_exit_status() {
    if !have_root("unshare_passes_on_the_commands_exit_status") {
        return;
    }
    inspect(&["unshare", "uts", "--", "sh", "-c", "exit 42"])
        .assert()
        .code(42);
    inspect(&["unshare", "uts", "--", "sh", "-c", "kill -TERM $$"])
        .assert()
        .code(143);
    inspect(&["unshare", "uts", "--", "nslab-no-such-command"])
        .assert()
        .code(127);
    inspect(&["unshare", "uts", "--", "/etc/passwd"])
        .assert()
        .code(126);
}

#[test]
fn unshare_without_root_fails_with_a_hint() {
    if !have_root("unshare_without_root_fails_with_a_hint") {
        return;
    }
    let (mut command, _copy) = nslab_testkit::as_nobody(
        "ch07-inspect",
        &["unshare", "uts", "--", "true"],
    );
    let err = stderr(command.assert().code(125).get_output());
    assert!(
        err.starts_with("ch07-inspect: cannot unshare(CLONE_NEWUTS): EPERM"),
        "{err}"
    );
    assert!(
        err.contains("\nhint: creating namespaces needs root"),
        "{err}"
    );
}

#[test]
fn a_death_by_a_real_time_signal_gives_128_plus_n() {
    if !have_root("a_death_by_a_real_time_signal_gives_128_plus_n") {
        return;
    }
    let status = 128 + nslab_testkit::libc::SIGRTMIN();
    let me = std::process::id().to_string();
    inspect(&["enter", &me, "sh", "-c", "kill -s RTMIN $$"])
        .assert()
        .code(status);
    inspect(&["unshare", "uts", "--", "sh", "-c", "kill -s RTMIN $$"])
        .assert()
        .code(status);
}

/// The command mounts a `/proc` of its new PID namespace in the mount
/// namespace we share with it: our `/proc/self` is then gone, and the
/// report after the command must not cost its exit status.
#[test]
fn unshare_gives_the_status_of_a_command_that_mounts_proc() {
    if !have_root("unshare_gives_the_status_of_a_command_that_mounts_proc") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let script = "mount -t proc proc /proc; exit 3";
    let out = inspect(&["unshare", "mnt", "pid", "--", "sh", "-c", script])
        .assert()
        .code(3);
    let err = stderr(out.get_output());
    assert!(err.contains("pid_for_children is now "), "{err}");
    before.assert_unchanged();
}

/// `enter PID` opens `/proc/PID/ns/*` and `/proc/PID/root` one by one;
/// a process that exits meanwhile could see its number reused, and the
/// files would then mix two processes. strace stops the tool right after
/// its last open (`/proc/PID/root`); the target is then killed and
/// reaped, and the tool continued: it must refuse, and run nothing.
/// (strace is one of the tools the tests need, as preflight.sh says.)
#[test]
fn a_target_that_exits_between_the_opens_is_refused() {
    if !have_root("a_target_that_exits_between_the_opens_is_refused") {
        return;
    }
    let mut target = std::process::Command::new("sleep")
        .arg("1000")
        .spawn()
        .unwrap();
    let pid = target.id().to_string();
    let dir = nslab_testkit::SharedDir::new();
    let log = dir.path.join("strace.log");
    let marker = dir.path.join("ran");
    let root = format!("/proc/{pid}/root");
    let tool = bin("ch07-inspect");
    let mut traced = std::process::Command::new("strace")
        .args(["-qq", "-e", "trace=openat", "-e"])
        .args(["inject=openat:signal=SIGSTOP", "-P", &root, "-o"])
        .arg(&log)
        .arg(&tool)
        .args(["enter", &pid, "touch"])
        .arg(&marker)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // strace logs the stop once the tool is in it: then it stays there.
    let deadline = std::time::Instant::now() + nslab_testkit::TIMEOUT;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("stopped by SIGSTOP")
    {
        assert!(std::time::Instant::now() < deadline, "no stop");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let children = format!("/proc/{0}/task/{0}/children", traced.id());
    let stopped: i32 = std::fs::read_to_string(children)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    target.kill().unwrap();
    target.wait().unwrap();
    // SAFETY: kill(2) on the stopped tool, a child of our strace.
    unsafe { nslab_testkit::libc::kill(stopped, nslab_testkit::libc::SIGCONT) };
    let status = traced.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(traced.stderr.as_mut().unwrap(), &mut err)
        .unwrap();
    assert_eq!(status.code(), Some(125), "{err}");
    // strace's own notes aside.
    let lines: Vec<&str> =
        err.lines().filter(|l| !l.starts_with("strace: ")).collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[0],
        format!(
            "ch07-inspect: PID {pid} exited while its namespaces were being \
             opened"
        ),
        "{err}"
    );
    assert!(lines[1].starts_with("hint: nothing was entered"), "{err}");
    assert!(!marker.exists(), "the command ran");
}

/// `enter PID` joins all the namespaces it enters with one `setns(2)` on
/// a pidfd of PID (Linux 5.8), as the ch07 page shows with strace: one
/// call, whose mask names every type that differs from ours.
#[test]
fn enter_joins_with_one_setns_on_a_pidfd() {
    if !have_root("enter_joins_with_one_setns_on_a_pidfd") {
        return;
    }
    let mut target = std::process::Command::new("unshare")
        .args(["--uts", "--net", "sleep", "1000"])
        .spawn()
        .unwrap();
    let pid = target.id().to_string();
    // unshare execs sleep once the namespaces are made.
    let deadline = std::time::Instant::now() + nslab_testkit::TIMEOUT;
    while std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .is_ok_and(|comm| comm != "sleep\n")
    {
        assert!(std::time::Instant::now() < deadline, "no sleep");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let dir = nslab_testkit::SharedDir::new();
    let log = dir.path.join("strace.log");
    let out = std::process::Command::new("strace")
        .args(["-qq", "-e", "trace=pidfd_open,setns", "-o"])
        .arg(&log)
        .arg(bin("ch07-inspect"))
        .args(["enter", &pid, "true"])
        .output()
        .unwrap();
    target.kill().unwrap();
    target.wait().unwrap();
    assert!(out.status.success(), "{}", nslab_testkit::stderr(&out));
    let calls = std::fs::read_to_string(&log).unwrap();
    let setns: Vec<&str> =
        calls.lines().filter(|l| l.starts_with("setns(")).collect();
    assert_eq!(setns.len(), 1, "{calls}");
    let pidfd = calls
        .lines()
        .find(|l| l.starts_with(&format!("pidfd_open({pid}, 0)")))
        .and_then(|l| l.rsplit_once("= "))
        .map(|(_, fd)| fd.trim().to_string())
        .unwrap_or_else(|| panic!("no pidfd_open of {pid}: {calls}"));
    assert!(setns[0].starts_with(&format!("setns({pidfd}, ")), "{calls}");
    for kind in ["CLONE_NEWUTS", "CLONE_NEWNET"] {
        assert!(setns[0].contains(kind), "{kind}: {calls}");
    }
    assert!(setns[0].ends_with("= 0"), "{calls}");
}

/// Joined to a mount namespace whose `/proc` shows another PID
/// namespace, `enter` still finds and ends what its command left
/// running: it opened our own `/proc` before joining.
#[test]
fn leftovers_are_ended_under_a_proc_of_another_pid_namespace() {
    if !have_root("leftovers_are_ended_under_a_proc_of_another_pid_namespace") {
        return;
    }
    let mut target = std::process::Command::new("unshare")
        .args([
            "--pid",
            "--fork",
            "--kill-child",
            "--mount",
            "--mount-proc",
            "sleep",
            "1000",
        ])
        .spawn()
        .unwrap();
    let pid = target.id();
    // The proc mount is made before sleep is executed.
    let children = format!("/proc/{pid}/task/{pid}/children");
    let deadline = std::time::Instant::now() + nslab_testkit::TIMEOUT;
    let sleeping = |child: &str| {
        std::fs::read_to_string(format!("/proc/{child}/comm"))
            .is_ok_and(|comm| comm == "sleep\n")
    };
    while !std::fs::read_to_string(&children)
        .unwrap_or_default()
        .split_whitespace()
        .any(sleeping)
    {
        assert!(std::time::Instant::now() < deadline, "no sleep");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    // `sleep 600.9PID...`: ten minutes, and a mark of this run.
    let marker = format!("600{}", &nslab_testkit::unique_number()[1..]);
    let script = format!("sleep {marker} >/dev/null 2>&1 & echo started");
    let mnt = format!("/proc/{pid}/ns/mnt");
    let out = inspect(&["enter", &mnt, "--", "sh", "-c", &script]).output();
    let left = nslab_testkit::processes_with(&marker);
    for &leftover in &left {
        // SAFETY: kill(2); a test's own leftover, found just above.
        unsafe { nslab_testkit::libc::kill(leftover as i32, 9) };
    }
    target.kill().unwrap();
    target.wait().unwrap();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(nslab_testkit::stdout(&out), "started\n");
    assert_eq!(
        left,
        Vec::<u32>::new(),
        "the command's sleep outlived enter"
    );
}
