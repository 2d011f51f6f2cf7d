//! The contract under hostile conditions: signals the caller ignored,
//! blocked or left to a terminal, writes that fail, a small address
//! space, and what the command leaves running. [`crate::contract_tests!`]
//! calls each of these once per tool.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{Running, TIMEOUT, bin, processes_with, stderr, stdout};

/// Runs `line` with bash, the tool's path in `$TOOL`; returns its output.
fn bash(tool: &str, line: &str) -> std::process::Output {
    assert_cmd::Command::new("bash")
        .args(["-c", line])
        .env("TOOL", bin(tool))
        .timeout(TIMEOUT)
        .output()
        .expect("cannot run bash")
}

/// The `SigIgn`, `SigBlk` or `SigCgt` mask of a `/proc/PID/status` text.
pub fn mask(status: &str, name: &str) -> u64 {
    let line = status
        .lines()
        .find(|line| line.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {status:?}"));
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

/// The bit of `signal` in a signal mask of `/proc/PID/status`.
pub fn bit(signal: i32) -> u64 {
    1 << (signal - 1)
}

/// Starts the tool from a python3 caller that ignores the signals in
/// `ignore` and blocks those in `block` (names such as `SIGHUP`); returns
/// the caller's `/proc/self/status` just before it execs the tool, and
/// the command's.
fn caller_and_command(
    tool: &str,
    ignore: &[&str],
    block: &[&str],
) -> (String, String) {
    caller_and_command_of(tool, &["--"], ignore, block)
}

/// [`caller_and_command`] for a tool whose arguments before the command
/// are `args` (`["unshare", "uts", "--"]` for `ch07-inspect`).
fn caller_and_command_of(
    tool: &str,
    args: &[&str],
    ignore: &[&str],
    block: &[&str],
) -> (String, String) {
    // python3 ignores SIGPIPE and SIGXFSZ for itself: undo that first.
    let script = "import os, signal, sys\n\
        for number in (signal.SIGPIPE, signal.SIGXFSZ):\n\
        \x20   signal.signal(number, signal.SIG_DFL)\n\
        for name in sys.argv[2].split():\n\
        \x20   signal.signal(getattr(signal, name), signal.SIG_IGN)\n\
        blocked = {getattr(signal, name) for name in sys.argv[3].split()}\n\
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)\n\
        print(open('/proc/self/status').read(), '====', flush=True)\n\
        os.execv(sys.argv[1], [sys.argv[1], *sys.argv[4].split(), 'cat', '/proc/self/status'])\n";
    let out = assert_cmd::Command::new("python3")
        .args(["-c", script])
        .arg(bin(tool))
        .args([ignore.join(" "), block.join(" "), args.join(" ")])
        .timeout(TIMEOUT)
        .output()
        .expect("cannot run python3");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (caller, command) = text
        .split_once("====\n")
        .unwrap_or_else(|| panic!("{text}{}", stderr(&out)));
    (caller.to_string(), command.to_string())
}

/// Checks that the command got exactly the caller's ignored and blocked
/// signals, and that the caller had the ones it asked for.
fn assert_passed_on(caller: &str, command: &str, ignored: u64, blocked: u64) {
    assert_eq!(mask(caller, "SigIgn") & ignored, ignored, "{caller}");
    assert_eq!(mask(caller, "SigBlk") & blocked, blocked, "{caller}");
    for name in ["SigIgn", "SigBlk"] {
        assert_eq!(
            mask(command, name),
            mask(caller, name),
            "{name}: the command's differs from its caller's"
        );
    }
}

/// The command starts with the dispositions and the mask its caller
/// had: the tool gives back what it changed (SIGPIPE, which Rust's
/// runtime ignores; its handlers; its mask).
pub fn command_starts_with_what_the_caller_had(tool: &str) {
    let (caller, command) = caller_and_command(tool, &[], &[]);
    assert_passed_on(&caller, &command, 0, 0);
    assert_eq!(mask(&command, "SigIgn") & bit(libc::SIGPIPE), 0);
    assert_eq!(mask(&command, "SigBlk"), 0);
}

/// SIGPIPE reaches the command as the caller left it, ignored or not,
/// although the tool ignores it for itself: the tool must read it before
/// anything changes it (Rust's runtime would, before a Rust `main`).
/// `args` are the tool's arguments before the command.
pub fn sigpipe_reaches_the_command_as_the_caller_left_it(
    tool: &str,
    args: &[&str],
) {
    for ignore in [&["SIGPIPE"][..], &[]] {
        let (caller, command) = caller_and_command_of(tool, args, ignore, &[]);
        let ignored = if ignore.is_empty() {
            0
        } else {
            bit(libc::SIGPIPE)
        };
        assert_eq!(mask(&caller, "SigIgn") & bit(libc::SIGPIPE), ignored);
        assert_eq!(
            mask(&command, "SigIgn") & bit(libc::SIGPIPE),
            ignored,
            "the caller {} SIGPIPE; the command's SigIgn is {:x}",
            if ignore.is_empty() {
                "did not ignore"
            } else {
                "ignored"
            },
            mask(&command, "SigIgn"),
        );
    }
}

/// What the caller ignored reaches the command ignored, as with `nohup`;
/// what it blocked reaches it blocked.
pub fn ignored_and_blocked_signals_pass_to_the_command(tool: &str) {
    let ignore = ["SIGHUP", "SIGINT", "SIGPIPE", "SIGCHLD"];
    let (caller, command) = caller_and_command(tool, &ignore, &["SIGUSR1"]);
    let ignored = [libc::SIGHUP, libc::SIGINT, libc::SIGPIPE, libc::SIGCHLD]
        .into_iter()
        .map(bit)
        .sum::<u64>();
    assert_passed_on(&caller, &command, ignored, bit(libc::SIGUSR1));
}

/// A signal the caller ignored is not caught by the tool: `kill -HUP`
/// of the tool under `nohup` leaves the command running.
pub fn an_ignored_signal_is_not_caught(tool: &str) {
    // The command ends when the tool passes it SIGUSR1, sent after the
    // two ignored signals: had one of them killed the tool, nothing
    // would pass SIGUSR1 on. (Pending signals are taken lowest first.)
    let line = "trap '' HUP INT; exec \"$TOOL\" -- sh -c \
                \"trap 'exit 3' USR1; echo ready; \
                while :; do sleep 0.1; done\"";
    let mut child = Command::new("bash")
        .args(["-c", line])
        .env("TOOL", bin(tool))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start bash");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ready = String::new();
    stdout.read_line(&mut ready).unwrap();
    assert_eq!(ready, "ready\n");
    let pid = child.id() as i32;
    // The tool installs its handlers once the command may run, in one
    // pass from signal 1 up: once SIGTERM (15) is caught, what it does
    // with SIGHUP (1) and SIGINT (2) is settled.
    let deadline = std::time::Instant::now() + crate::TIMEOUT;
    // The assertions come once the tool is reaped, so that a failed one
    // leaves nothing running.
    let caught = loop {
        // Our child, unreaped: its /proc/PID stays until we wait.
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .expect("cannot read the tool's status");
        let caught = mask(&status, "SigCgt");
        if caught & bit(libc::SIGTERM) != 0
            || std::time::Instant::now() > deadline
        {
            break caught;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    for signal in [libc::SIGHUP, libc::SIGINT, libc::SIGUSR1] {
        // SAFETY: kill(2) on our own unreaped child.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }
    let Some(status) = crate::exit_within(&mut child, crate::TIMEOUT) else {
        // SIGTERM, which the tool passes on: the command ends too.
        // SAFETY: kill(2) on our own unreaped child.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let _ = child.wait();
        panic!("SIGUSR1 did not end the command");
    };
    assert_ne!(caught & bit(libc::SIGTERM), 0, "TERM is not caught");
    assert_eq!(caught & bit(libc::SIGHUP), 0, "HUP must not be caught");
    assert_eq!(caught & bit(libc::SIGINT), 0, "INT must not be caught");
    assert_eq!(status.code(), Some(3));
}

/// `kill -INT` of the tool (not a terminal's Ctrl-C) reaches the
/// command: only the terminal sends it to the command by itself.
pub fn sigint_sent_by_a_process_reaches_the_command(tool: &str) {
    let script = "trap 'exit 99' INT; echo ready; \
                  while :; do sleep 0.1; done";
    let running = Running::start(&bin(tool), &["--", "sh", "-c", script]);
    running.signal(libc::SIGINT);
    assert_eq!(running.wait(Duration::from_secs(10)).0, Some(99));
}

/// Ctrl-C at a terminal: the kernel sends SIGINT to the whole foreground
/// process group, tool and command alike, so the tool must not send it
/// a second time. The command here leaves that group (so that only a
/// forwarded signal could reach it) and keeps a child in it, which shows
/// that the terminal's SIGINT did go out.
pub fn ctrl_c_at_a_terminal_is_not_passed_on(tool: &str) {
    let python = "import os, signal, sys\n\
        r, w = os.pipe()\n\
        if os.fork() == 0:\n\
        \x20   signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n\
        \x20   os.write(w, b'!'); signal.sigwaitinfo({signal.SIGINT})\n\
        \x20   print('group got SIGINT', flush=True); os._exit(0)\n\
        os.read(r, 1)\n\
        os.setpgid(0, 0)\n\
        def forwarded(*_):\n\
        \x20   print('command got SIGINT', flush=True); os._exit(9)\n\
        signal.signal(signal.SIGINT, forwarded)\n\
        print('ready', flush=True)\n\
        os.wait()\n\
        signal.sigtimedwait([], 0.5)\n\
        print('done', flush=True)\n";
    let program = bin(tool);
    let path = std::env::temp_dir().join(crate::unique("nslab-ctrl-c.py"));
    std::fs::write(&path, python).unwrap();
    let line =
        format!("exec {} -- python3 {}", program.display(), path.display());
    // script(1) runs the line on a new terminal; our writes are typed on
    // it, so \x03 is a real Ctrl-C.
    // From `/`: inside a user namespace the checkout (the tests' working
    // directory) may be closed, and some tools refuse to start there.
    let mut child = Command::new("script")
        .args(["-qefc", &line, "/dev/null"])
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start script(1)");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("ready") {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        seen.push_str(&line);
    }
    stdin.write_all(b"\x03").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    let _ = std::fs::remove_file(&path);
    let all = seen + &rest;
    assert!(
        all.contains("group got SIGINT"),
        "no Ctrl-C went out: {all}"
    );
    assert!(
        !all.contains("command got SIGINT"),
        "passed on twice: {all}"
    );
    assert!(all.contains("done"), "{all}");
    assert_eq!(status.code(), Some(0), "{all}");
}

/// A caller that ignores SIGCHLD (`trap '' CHLD`) would make the kernel
/// reap the tool's children for it; the tool still gets the command's
/// status, and the command still inherits the ignored SIGCHLD.
pub fn ignored_sigchld_still_gives_the_status(tool: &str, init: bool) {
    let option = if init { "--init" } else { "--" };
    let out = bash(
        tool,
        &format!("trap '' CHLD; exec $TOOL {option} sh -c 'exit 42'"),
    );
    assert_eq!(out.status.code(), Some(42), "{}", stderr(&out));
}

/// When the command ends, what it left running in the background ends
/// too: the tool is a subreaper and ends its orphans before it exits.
pub fn nothing_the_command_left_outlives_the_tool(tool: &str) {
    let marker = crate::unique_number();
    // The sleep lets go of the tool's stdout and stderr: otherwise reading
    // them to the end would wait for it.
    let script = format!("sleep 100 {marker} >/dev/null 2>&1 & echo started");
    let out = assert_cmd::Command::new(bin(tool))
        .args(["--", "sh", "-c", &script])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "started\n");
    // The tool has exited: it must have ended the sleep before that.
    assert_none_left(&marker);
}

/// The same when the command ends on a signal passed on by the tool.
pub fn nothing_outlives_a_forwarded_sigterm(tool: &str) {
    let marker = crate::unique_number();
    // The sleep lets go of stdout, which `wait` reads to the end.
    let script = format!(
        "trap 'exit 5' TERM; sleep 100 {marker} >/dev/null 2>&1 & \
         echo ready; wait"
    );
    let running = Running::start(&bin(tool), &["--", "sh", "-c", &script]);
    running.signal(libc::SIGTERM);
    assert_eq!(running.wait(Duration::from_secs(10)).0, Some(5));
    assert_none_left(&marker);
}

/// Fails when a process with `marker` on its command line still runs,
/// after ending it, so that a failing run leaves nothing behind either.
fn assert_none_left(marker: &str) {
    let left = processes_with(marker);
    for pid in &left {
        // SAFETY: kill(2); these processes carry our unique marker.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
    }
    assert!(left.is_empty(), "{left:?} ({marker}) outlived the tool");
}

/// `--help` to a full disk or a closed pipe: the message is lost, the
/// status is not, and nothing panics.
pub fn help_survives_a_full_or_closed_stdout(tool: &str) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(bin(tool))
        .arg("--help")
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two descriptors that we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned here.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read_end);
    let out = Command::new(bin(tool))
        .arg("--help")
        .stdout(write_end)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

/// A standard fd that the caller closed reaches the command as
/// `/dev/null`, as Rust's runtime would make it: never closed, and never
/// one of the tool's own files (its go pipe would otherwise take the
/// lowest free number).
pub fn closed_standard_fds_reach_the_command_as_dev_null(tool: &str) {
    // The command copies the fd to fd 3 and reads where that leads (its
    // own /proc/self: the command may be PID 1 of a new PID namespace);
    // the answer goes to whichever of stdout and stderr stays open.
    for (fd, redirect, answer_to) in
        [(0, "<&-", ""), (1, ">&-", ">&2"), (2, "2>&-", "")]
    {
        let out = bash(
            tool,
            &format!(
                "exec $TOOL -- sh -c \
                 'exec 3>&{fd}; readlink /proc/self/fd/3 {answer_to}' {redirect}"
            ),
        );
        let answer = if fd == 1 { stderr(&out) } else { stdout(&out) };
        assert_eq!(
            (answer.as_str(), out.status.code()),
            ("/dev/null\n", Some(0)),
            "fd {fd} closed by the caller"
        );
    }
}

/// An error that cannot be written costs the message, not the status.
pub fn errors_to_a_full_or_closed_stderr_keep_the_status(tool: &str) {
    for redirect in ["2>/dev/full", "2>&-"] {
        let out = bash(
            tool,
            &format!("exec $TOOL -- nslab-no-such-command {redirect}"),
        );
        assert_eq!(out.status.code(), Some(127), "with {redirect}");
    }
    // A pipe whose reader is gone: the message would raise SIGPIPE, which
    // the command gets back at its default before the exec that failed.
    for (command, status) in
        [("nslab-no-such-command", 127), ("/etc/passwd", 126)]
    {
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills two descriptors that we then own.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors were just created and are owned here.
        let (read_end, write_end) = unsafe {
            (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
        };
        drop(read_end);
        let out = Command::new(bin(tool))
            .args(["--", command])
            .stderr(write_end)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(status), "{command}, broken pipe");
    }
}

/// A small address space: the child's stack cannot be allocated, which
/// is a failure of the tool (125 and a hint), not an abort.
///
/// How much address space the tool needs to start at all depends on the
/// size of its binary, so the limit is raised step by step: below some
/// limit the runtime cannot even start (out of the tool's hands); from
/// the first limit where the tool reports the stack, every run must end
/// in that report or in success, never in a crash.
pub fn a_small_address_space_fails_cleanly(tool: &str) {
    let mut reported = None;
    let mut succeeded = false;
    for limit in (1000..=12000).step_by(250) {
        let out = bash(tool, &format!("ulimit -v {limit}; exec $TOOL -- true"));
        let err = stderr(&out);
        let report = out.status.code() == Some(125)
            && err.contains("cannot allocate the child's stack")
            && err.contains("\nhint: ")
            && err.contains("ulimit -v");
        if report {
            reported.get_or_insert(limit);
        } else if out.status.success() {
            succeeded = true;
            break;
        } else {
            assert!(
                reported.is_none(),
                "ulimit -v {limit}: {:?} {err}",
                out.status
            );
        }
    }
    assert!(reported.is_some(), "no limit made the stack fail cleanly");
    assert!(succeeded, "the tool never ran, even with 12000 KiB");
}

/// Exit status 128 + N for a command killed by a real-time signal N
/// (SIGRTMIN is 34: 162), as for any other signal. Where the command
/// would be PID 1, which its own signal cannot kill, it runs under
/// `--init`; without a PID namespace, an orphan killed that way while
/// the command still runs must not disturb the wait either.
pub fn a_death_by_a_real_time_signal_gives_128_plus_n(
    tool: &str,
    pid_namespace: bool,
) {
    let rtmin = libc::SIGRTMIN();
    let option = if pid_namespace { "--init" } else { "--" };
    let out = bash(
        tool,
        &format!("exec \"$TOOL\" {option} sh -c 'kill -s RTMIN $$'"),
    );
    assert_eq!(out.status.code(), Some(128 + rtmin), "{}", stderr(&out));
    if pid_namespace {
        return;
    }
    // The orphan ends (and is reaped by the tool) before the command.
    let script = "pid=$(sh -c 'sh -c \"kill -s RTMIN \\$\\$\" >/dev/null & \
                  echo $!'); while kill -0 $pid 2>/dev/null; do sleep 0.01; \
                  done; exit 3";
    let out = crate::chapter(tool, &["--", "sh", "-c", script])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

/// Every signal that a process sends to the tool reaches the command,
/// not only the usual six: SIGALRM (the tool of a PID 1 has a timer of
/// its own, which must not be confused with it), the real-time ones,
/// SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ.
pub fn every_signal_a_process_sends_reaches_the_command(
    tool: &str,
    pid_namespace: bool,
) {
    every_signal_reaches(tool, &["--"]);
    if pid_namespace {
        every_signal_reaches(tool, &["--init", "--"]);
    }
}

/// [`every_signal_a_process_sends_reaches_the_command`] with `before`
/// in front of the command (`--`, `--init --`, `unshare uts --`).
pub fn every_signal_reaches(tool: &str, before: &[&str]) {
    let signals = [
        libc::SIGALRM,
        libc::SIGRTMIN(),
        libc::SIGRTMIN() + 1,
        libc::SIGRTMAX(),
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGXCPU,
        libc::SIGXFSZ,
        libc::SIGUSR1,
    ];
    // Not signal.pause(): a signal that comes between two calls would
    // only run its handler at the next one. A sleep is cut short. The
    // handler writes with os.write, not print: the next signal may come
    // as soon as the line is out, while print is still running, and
    // print refuses to be entered again from a handler.
    let script = "import os, signal, sys, time\n\
        def got(number, _):\n\
        \x20   os.write(1, b'got %d\\n' % number)\n\
        for number in sys.argv[1:]:\n\
        \x20   signal.signal(int(number), got)\n\
        signal.signal(signal.SIGUSR2, lambda *_: os._exit(5))\n\
        print('ready', flush=True)\n\
        while True:\n\
        \x20   time.sleep(1)\n";
    let numbers: Vec<String> = signals.iter().map(i32::to_string).collect();
    let mut args: Vec<&str> = before.to_vec();
    args.extend(["python3", "-c", script]);
    args.extend(numbers.iter().map(String::as_str));
    let mut running = Running::start(&bin(tool), &args);
    for signal in signals {
        running.signal(signal);
        let mut line = String::new();
        running.stdout.read_line(&mut line).unwrap();
        assert_eq!(line, format!("got {signal}\n"), "{before:?}");
    }
    running.signal(libc::SIGUSR2);
    assert_eq!(running.wait(Duration::from_secs(10)).0, Some(5));
}

/// A hang-up where the tool leads the session (`ssh -t`, `script -c`,
/// `setsid -c`): the kernel sends SIGHUP to the session leader only, so
/// the tool must pass it on, or tool and command outlive their
/// terminal. script(1) makes the tool a session leader on a new
/// terminal; killing script(1) hangs that terminal up.
pub fn a_hang_up_reaches_the_command_when_the_tool_leads_the_session(
    tool: &str,
    pid_namespace: bool,
) {
    a_hang_up_reaches(tool, &["--"]);
    if pid_namespace {
        a_hang_up_reaches(tool, &["--init", "--"]);
    }
}

/// [`a_hang_up_reaches_the_command_when_the_tool_leads_the_session`]
/// with `before` in front of the command.
pub fn a_hang_up_reaches(tool: &str, before: &[&str]) {
    let marker = crate::unique_number();
    let dir = crate::SharedDir::new();
    let got = dir.path.join("got");
    let line = format!(
        "exec {} {} sh -c 'trap \"echo hup > {}; exit 7\" HUP; \
         echo ready; while :; do sleep {marker}; done'",
        bin(tool).display(),
        before.join(" "),
        got.display()
    );
    let mut script = Command::new("script")
        .args(["-qefc", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start script(1)");
    let mut stdout = BufReader::new(script.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("ready") {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        seen.push_str(&line);
    }
    assert!(seen.contains("ready"), "{seen}");
    script.kill().unwrap();
    script.wait().unwrap();
    let sleep = format!("sleep {marker}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !processes_with(&sleep).is_empty()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let left = processes_with(&sleep);
    // Whatever the outcome, nothing is left behind by the test.
    for pid in &left {
        // SAFETY: kill(2); these processes carry our unique marker.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
    }
    assert!(
        left.is_empty(),
        "{before:?}: outlived the terminal: {left:?}"
    );
    let text = std::fs::read_to_string(&got).unwrap_or_default();
    assert_eq!(text, "hup\n", "{before:?}: the command got no SIGHUP");
}

/// Where `/proc` does not show the tool's PID namespace (an empty
/// `/proc` here, in a scratch mount namespace), the processes the
/// command leaves cannot be named: the tool says so when it starts and
/// does not wait for them. With a PID namespace, the kernel ends them.
pub fn leftovers_where_proc_is_not_ours(tool: &str, pid_namespace: bool) {
    let marker = crate::unique_number();
    let line = format!(
        "mount -t tmpfs none /proc && exec \"$TOOL\" -- sh -c \
         'sleep 1000 {marker} >/dev/null 2>&1 & echo started'"
    );
    let out = assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &line])
        .env("TOOL", bin(tool))
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let left = processes_with(&marker);
    for pid in &left {
        // SAFETY: kill(2); these processes carry our unique marker.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
    }
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(stdout(&out), "started\n");
    let note = "/proc here does not show this PID namespace";
    if pid_namespace {
        assert!(left.is_empty(), "{left:?} outlived the tool");
        assert!(!err.contains(note), "{err}");
    } else {
        assert!(err.contains(note), "{err}");
    }
}

/// When the command ends, each process it left is sent SIGKILL once,
/// then waited for, not again and again while it dies (strace counts
/// the tool's kill(2) calls). A process with much memory takes a while
/// to die: here one with 256 MiB, and a few sleeps.
pub fn each_leftover_is_killed_once(tool: &str) {
    let dir = crate::SharedDir::new();
    let trace = dir.path.join("trace");
    let fifo = dir.path.join("ready");
    crate::host("mkfifo", &[fifo.to_str().unwrap()]);
    let script = format!(
        "for i in 1 2 3; do sleep 1000 & done; \
         python3 -c 'import sys, time; b = b\"x\" * (256 << 20); \
         open(sys.argv[1], \"w\").write(\"r\"); time.sleep(1000)' {fifo} & \
         read x < {fifo}; echo started",
        fifo = fifo.display()
    );
    let out = assert_cmd::Command::new("strace")
        .arg("-o")
        .arg(&trace)
        .args(["-e", "trace=kill", "-e", "signal=none"])
        .arg(bin(tool))
        .args(["--", "sh", "-c", &script])
        .timeout(TIMEOUT)
        .output()
        .expect("cannot run strace");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "started\n");
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut kills: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("kill(") && line.contains("SIGKILL"))
        .map(|line| line.split(',').next().unwrap())
        .collect();
    let all = kills.len();
    kills.sort();
    kills.dedup();
    assert_eq!(kills.len(), 4, "{text}");
    assert_eq!(all, 4, "killed more than once: {text}");
}
