//! What ch03-pid promises: the command is PID 1, PID 1's signal rule
//! holds and has a way out, and `--init` makes the command PID 2.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
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

/// ch03-pid running `python3 -c script`, with its stderr read line by
/// line on a thread, so that a test can wait for the tool's notes.
struct Noted {
    child: std::process::Child,
    stdout: BufReader<std::process::ChildStdout>,
    notes: mpsc::Receiver<String>,
}

impl Noted {
    /// Starts the tool and waits until the command prints `ready`.
    fn start(script: &str) -> Noted {
        let mut child = Command::new(bin("ch03-pid"))
            .args(["--", "python3", "-c", script])
            .env_remove("NSLAB_STOP_GRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (send, notes) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        Noted {
            child,
            stdout,
            notes,
        }
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the PID of a child we have not reaped yet.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0);
    }

    /// The next line the tool writes to stderr.
    fn note(&self) -> String {
        self.notes
            .recv_timeout(nslab_testkit::TIMEOUT)
            .expect("no note from the tool")
    }

    /// The next line the command writes to stdout.
    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line
    }

    /// Waits for the tool's exit status; kills it after TIMEOUT.
    fn status(mut self) -> Option<i32> {
        let limit = nslab_testkit::TIMEOUT;
        let Some(status) = nslab_testkit::exit_within(&mut self.child, limit)
        else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!("the tool did not exit");
        };
        status.code()
    }
}

impl Drop for Noted {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A PID 1 that has left every signal at its default.
const SLEEPER: &str = "import signal, time\n\
    signal.signal(signal.SIGINT, signal.SIG_DFL)\n\
    print('ready', flush=True)\n\
    time.sleep(600)\n";

/// A first request to stop that PID 1 drops starts the grace period (the
/// tool says so); a second one ends PID 1 at once with SIGKILL.
fn asked_twice(signal: i32, name: &str) {
    let noted = Noted::start(SLEEPER);
    noted.signal(signal);
    let note = noted.note();
    assert!(
        note.contains(&format!("PID 1 has no handler for {name}")),
        "{note}"
    );
    assert!(note.contains("SIGKILL in 10 s"), "{note}");
    noted.signal(signal);
    let note = noted.note();
    assert!(note.contains("asked twice"), "{note}");
    assert_eq!(noted.status(), Some(128 + libc::SIGKILL));
}

#[test]
fn pid1_ignores_sigterm_and_a_second_one_kills_it() {
    if !have_root("pid1_ignores_sigterm_and_a_second_one_kills_it") {
        return;
    }
    asked_twice(libc::SIGTERM, "SIGTERM");
}

#[test]
fn a_second_ctrl_c_kills_pid1() {
    if !have_root("a_second_ctrl_c_kills_pid1") {
        return;
    }
    asked_twice(libc::SIGINT, "SIGINT");
}

/// What `timeout [--foreground] --preserve-status 600 ch03-pid -- sleep 600`
/// prints and returns when its time is up, with `NSLAB_STOP_GRACE=1`.
/// Its time is up when we say so, not after a guess at how long the
/// tool takes to start: SIGALRM is `timeout`'s own timer, and it acts on
/// one from outside as on its own. We send it once the command runs,
/// that is once the tool passes signals on. Plain `timeout` also sends
/// the SIGTERM to its process group, below.
fn under_timeout(foreground: bool) -> (Option<i32>, String) {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let mut args = vec!["--preserve-status", "600"];
    if foreground {
        args.insert(0, "--foreground");
    }
    let mut timeout = Command::new("timeout")
        .args(args)
        .arg(bin("ch03-pid"))
        .args(["--", "sh", "-c", "echo ready; exec sleep 600"])
        .env("NSLAB_STOP_GRACE", "1")
        // A group of its own, so that a hang ends with all of it.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run timeout");
    let group = timeout.id() as i32;
    let mut line = String::new();
    BufReader::new(timeout.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n", "the command did not start");
    // Not before timeout waits for its child (in sigsuspend, coreutils
    // 9.1; in waitpid, others): until it has stored the child's PID
    // after fork, its handler would _exit(143) and leave the tool
    // running (seen once, on a busy machine).
    let wchan = format!("/proc/{group}/wchan");
    let deadline = std::time::Instant::now() + nslab_testkit::TIMEOUT;
    while !std::fs::read_to_string(&wchan)
        .is_ok_and(|w| w.starts_with("sigsuspend") || w == "do_wait")
    {
        assert!(std::time::Instant::now() < deadline, "timeout never waits");
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: kill(2) on the PID of a child we have not reaped yet.
    assert_eq!(unsafe { libc::kill(group, libc::SIGALRM) }, 0);
    let limit = nslab_testkit::TIMEOUT;
    let Some(status) = nslab_testkit::exit_within(&mut timeout, limit) else {
        // SAFETY: kill(2) on the process group made above.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = timeout.wait();
        panic!("timeout and ch03-pid still ran after {limit:?}");
    };
    // Whatever of the group is left (the tool, had timeout gone first)
    // must not hold stderr open and hang the read below.
    // SAFETY: kill(2) on the process group made above.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let mut err = String::new();
    timeout
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), err)
}

/// The note of the first request to stop that PID 1 drops.
const DROPPED: &str = "ch03-pid: PID 1 has no handler for SIGTERM, so the \
    kernel dropped it: SIGKILL in 1 s, or at once if asked again\n";

/// The note when the grace period is over.
const GRACE_OVER: &str = "ch03-pid: PID 1 is still running 1 s after a \
    request to stop that it has no handler for, so sending SIGKILL\n";

/// A supervisor sends one SIGTERM and waits (`timeout --foreground`,
/// `docker stop`): PID 1 without a handler drops it, and the tool sends
/// SIGKILL once the grace period is over; `NSLAB_STOP_GRACE=1` makes it
/// one second (the default of 10 s is in the notes of `asked_twice`).
#[test]
fn one_sigterm_from_timeout_ends_pid1_after_the_grace_period() {
    if !have_root("one_sigterm_from_timeout_ends_pid1_after_the_grace_period") {
        return;
    }
    let (code, err) = under_timeout(true);
    assert_eq!(code, Some(128 + libc::SIGKILL), "{err}");
    assert_eq!(err, format!("{DROPPED}{GRACE_OVER}"));
}

/// Plain `timeout` sends its SIGTERM to the tool, then again to its own
/// process group, the tool included: one request, or two when the tool
/// handles the first before the second comes. Either way PID 1 ends by
/// the tool's SIGKILL, after the grace period or at once.
#[test]
fn plain_timeout_ends_pid1_too() {
    if !have_root("plain_timeout_ends_pid1_too") {
        return;
    }
    let (code, err) = under_timeout(false);
    assert_eq!(code, Some(128 + libc::SIGKILL), "{err}");
    let second = err.strip_prefix(DROPPED).unwrap_or_else(|| panic!("{err}"));
    assert!(
        [
            GRACE_OVER,
            "ch03-pid: asked twice: PID 1 ignores signals it has no handler \
             for, so sending SIGKILL\n",
        ]
        .contains(&second),
        "{err}"
    );
}

/// `NSLAB_STOP_GRACE` takes a whole number of seconds from 1 to 3600;
/// anything else is refused before the namespaces are made.
#[test]
fn a_bad_stop_grace_is_refused_with_a_hint() {
    if !have_root("a_bad_stop_grace_is_refused_with_a_hint") {
        return;
    }
    for value in ["0", "3601", "-1", "1.5", "ten", ""] {
        let out = nslab_testkit::assert_cmd::Command::new(bin("ch03-pid"))
            .args(["--", "echo", "ran"])
            .env("NSLAB_STOP_GRACE", value)
            .timeout(nslab_testkit::TIMEOUT)
            .output()
            .unwrap();
        let err = nslab_testkit::stderr(&out);
        assert_eq!(out.status.code(), Some(125), "{value}: {err}");
        assert_eq!(nslab_testkit::stdout(&out), "", "{value}: it ran");
        assert_eq!(
            err,
            format!(
                "ch03-pid: cannot prepare the child: NSLAB_STOP_GRACE must be \
                 a whole number of seconds from 1 to 3600, not '{value}'\n\
                 hint: unset it for the default of 10 s, or set it to 2 for \
                 two seconds\n"
            )
        );
    }
}

/// A PID 1 that handles the signal gets each one, and is never killed
/// for being asked twice: `python3 -q` catches Ctrl-C.
#[test]
fn a_pid1_that_handles_sigint_is_not_killed_when_asked_twice() {
    if !have_root("a_pid1_that_handles_sigint_is_not_killed_when_asked_twice") {
        return;
    }
    // os.write, not print, in the handler: the next signal may come
    // while print still runs, and print cannot be entered again.
    let script = "import os, signal, sys, time\n\
        signal.signal(signal.SIGINT, lambda *_: os.write(1, b'got\\n'))\n\
        signal.signal(signal.SIGUSR1, lambda *_: sys.exit(3))\n\
        print('ready', flush=True)\n\
        while True:\n\
        \x20   time.sleep(1)\n";
    let mut noted = Noted::start(script);
    for _ in 0..3 {
        noted.signal(libc::SIGINT);
        assert_eq!(noted.line(), "got\n");
    }
    noted.signal(libc::SIGUSR1);
    assert_eq!(noted.status(), Some(3));
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

/// A signal that PID 1 ignores on purpose is its own choice (an
/// interactive shell ignores SIGQUIT), except SIGTERM: a supervisor's
/// request to stop ends it anyway, as `docker stop` does.
#[test]
fn a_pid1_that_ignores_sigquit_keeps_running_but_not_sigterm() {
    if !have_root("a_pid1_that_ignores_sigquit_keeps_running_but_not_sigterm") {
        return;
    }
    let script = "import signal, time\n\
        signal.signal(signal.SIGQUIT, signal.SIG_IGN)\n\
        signal.signal(signal.SIGTERM, signal.SIG_IGN)\n\
        print('ready', flush=True)\n\
        time.sleep(600)\n";
    let noted = Noted::start(script);
    noted.signal(libc::SIGQUIT);
    noted.signal(libc::SIGQUIT);
    // A pending SIGQUIT is delivered before SIGTERM (the lower number
    // first), so the first note is about SIGTERM only if the two SIGQUITs
    // started nothing.
    noted.signal(libc::SIGTERM);
    let note = noted.note();
    assert!(note.contains("PID 1 has no handler for SIGTERM"), "{note}");
    noted.signal(libc::SIGTERM);
    assert!(noted.note().contains("asked twice"));
    assert_eq!(noted.status(), Some(128 + libc::SIGKILL));
}
