//! What ch03-pid promises: the command is PID 1, PID 1's signal rule
//! holds and has a way out, and `--init` makes the command PID 2.

use std::time::Duration;

use nslab_testkit::{Running, bin, chapter, have_root, libc, stdout};

nslab_testkit::contract_tests!(
    "ch03-pid",
    new: &["uts", "ipc", "pid"],
    limit: "max_pid_namespaces",
    pid_namespace: true,
    needs_root: true,
);

#[test]
fn echo_dollar_dollar_prints_1() {
    if !have_root("echo_dollar_dollar_prints_1") {
        return;
    }
    let out = chapter("ch03-pid", &["--", "sh", "-c", "echo $$"])
        .assert()
        .success();
    let pid = stdout(out.get_output());
    assert_eq!(
        pid,
        "1\n",
        "`echo $$` printed {} inside ch03-pid: the command is not PID 1 of a \
         new PID namespace; is CLONE_NEWPID in NAMESPACES?",
        pid.trim()
    );
}

#[test]
fn with_init_the_command_is_pid_2() {
    if !have_root("with_init_the_command_is_pid_2") {
        return;
    }
    let out = chapter("ch03-pid", &["--init", "--", "sh", "-c", "echo $$"])
        .assert()
        .success();
    assert_eq!(stdout(out.get_output()), "2\n");
}

/// A PID 1 with no handler for any signal, so one signal does nothing.
/// (Not `sh -c 'echo ready; exec sleep 100'`: dash catches SIGINT while
/// it runs a `-c` string, and a SIGINT passed on before the exec would
/// end it.)
fn pid1_sleep() -> Running {
    let script = "import signal, time\n\
                  signal.signal(signal.SIGINT, signal.SIG_DFL)\n\
                  print('ready', flush=True)\n\
                  time.sleep(100)\n";
    Running::start(&bin("ch03-pid"), &["--", "python3", "-c", script])
}

#[test]
fn pid1_ignores_sigterm_and_a_second_one_kills_it() {
    if !have_root("pid1_ignores_sigterm_and_a_second_one_kills_it") {
        return;
    }
    let mut running = pid1_sleep();
    running.signal(libc::SIGTERM);
    assert!(
        running.still_running_after(Duration::from_millis(500)),
        "PID 1 sleep must ignore a SIGTERM it has no handler for"
    );
    running.signal(libc::SIGTERM);
    let (code, _) = running.wait(Duration::from_secs(5));
    assert_eq!(code, Some(128 + libc::SIGKILL));
}

#[test]
fn a_second_ctrl_c_kills_pid1() {
    if !have_root("a_second_ctrl_c_kills_pid1") {
        return;
    }
    let mut running = pid1_sleep();
    running.signal(libc::SIGINT);
    assert!(running.still_running_after(Duration::from_millis(300)));
    running.signal(libc::SIGINT);
    let (code, _) = running.wait(Duration::from_secs(5));
    assert_eq!(code, Some(128 + libc::SIGKILL));
}

#[test]
fn signals_far_apart_do_not_kill_pid1() {
    if !have_root("signals_far_apart_do_not_kill_pid1") {
        return;
    }
    let mut running = pid1_sleep();
    running.signal(libc::SIGTERM);
    assert!(running.still_running_after(Duration::from_millis(3300)));
    running.signal(libc::SIGTERM);
    assert!(
        running.still_running_after(Duration::from_millis(500)),
        "two signals 3.3 s apart are not an insistence"
    );
    running.signal(libc::SIGTERM);
    assert_eq!(running.wait(Duration::from_secs(5)).0, Some(137));
}

#[test]
fn under_init_sigterm_stops_sleep() {
    if !have_root("under_init_sigterm_stops_sleep") {
        return;
    }
    let running = Running::start(
        &bin("ch03-pid"),
        &["--init", "--", "sh", "-c", "echo ready; exec sleep 100"],
    );
    running.signal(libc::SIGTERM);
    let (code, _) = running.wait(Duration::from_secs(5));
    assert_eq!(code, Some(128 + libc::SIGTERM));
}

#[test]
fn under_init_the_exit_status_passes_through() {
    if !have_root("under_init_the_exit_status_passes_through") {
        return;
    }
    chapter("ch03-pid", &["--init", "--", "sh", "-c", "exit 42"])
        .assert()
        .code(42);
    chapter("ch03-pid", &["--init", "--", "nslab-no-such-command"])
        .assert()
        .code(127);
}

#[test]
fn help_explains_pid1_and_the_way_out() {
    let out = chapter("ch03-pid", &["--help"]).assert().success();
    let text = stdout(out.get_output());
    assert!(text.contains("--init"), "{text}");
    assert!(text.contains("twice"), "{text}");
}

#[test]
fn unshare_without_fork_gets_a_hint_about_fork() {
    if !have_root("unshare_without_fork_gets_a_hint_about_fork") {
        return;
    }
    // unshare -p without --fork: our children's PID namespace is not our
    // own, and the kernel refuses a new one below it (EINVAL). That is
    // no missing kernel feature.
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .arg("--pid")
        .arg(bin("ch03-pid"))
        .arg("true")
        .timeout(nslab_testkit::TIMEOUT)
        .output()
        .unwrap();
    let err = nslab_testkit::stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(err.contains("EINVAL"), "{err}");
    assert!(err.contains("unshare --fork"), "{err}");
    assert!(!err.contains("Linux >="), "{err}");
}

#[test]
fn a_hang_up_ends_pid1_at_once() {
    if !have_root("a_hang_up_ends_pid1_at_once") {
        return;
    }
    // When the terminal goes, no one can press Ctrl-C twice: one SIGHUP
    // must end a PID 1 that has no handler for it.
    let running = pid1_sleep();
    running.signal(libc::SIGHUP);
    let (code, _) = running.wait(Duration::from_secs(5));
    assert_eq!(code, Some(128 + libc::SIGKILL));
}

#[test]
fn root_needs_a_mount_namespace() {
    // Not an option of ch03: it has no mount namespace to pivot in.
    let out = chapter("ch03-pid", &["--root", "/", "--", "true"])
        .assert()
        .code(125);
    let err = nslab_testkit::stderr(out.get_output());
    assert_eq!(
        err,
        "ch03-pid: --root needs a mount namespace (ch04-mount on)\n\
         hint: `ch03-pid --help` shows the usage\n"
    );
}

/// The page's pitfall: `/proc` is still the host's, so `/proc/$$` is
/// the host's PID 1, while `/proc/self` names the caller (by its host
/// PID), whose UTS namespace is the new one.
#[test]
fn proc_is_the_hosts_and_only_proc_self_names_the_caller() {
    if !have_root("proc_is_the_hosts_and_only_proc_self_names_the_caller") {
        return;
    }
    let script = "echo $$; cat /proc/$$/comm; readlink /proc/self; \
                  readlink /proc/self/ns/uts";
    let out = chapter("ch03-pid", &["--", "sh", "-c", script])
        .assert()
        .success();
    let text = stdout(out.get_output());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], "1", "{text}");
    let host_init = std::fs::read_to_string("/proc/1/comm").unwrap();
    assert_eq!(lines[1], host_init.trim(), "/proc/$$ is the host's PID 1");
    let self_pid: u32 = lines[2].parse().expect("/proc/self names a PID");
    assert_ne!(self_pid, 1, "/proc/self names the host PID: {text}");
    let host_uts = nslab_testkit::host_ns("uts");
    assert!(lines[3].starts_with("uts:["), "{text}");
    assert_ne!(lines[3], host_uts, "/proc/self/ns/uts is the new one");
}
