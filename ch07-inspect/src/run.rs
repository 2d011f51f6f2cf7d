//! Running a command as our child, for `enter` and `unshare`: the same
//! contract as the chapters (exit status, signals), with fork(2) instead
//! of clone(2), because here the namespaces are joined or made *before*
//! the child exists.

use std::ffi::{CString, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sys::prctl;
use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction,
    sigprocmask,
};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, execvp, fork, getpid, getppid};

use crate::{Failure, Result, TOOL};

const EXIT_TOOL_FAILED: u8 = 125;
const EXIT_CANNOT_EXECUTE: u8 = 126;
const EXIT_NOT_FOUND: u8 = 127;

pub fn to_c_strings(args: Vec<OsString>) -> Result<Vec<CString>> {
    args.into_iter()
        .map(|arg| CString::new(arg.into_vec()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Failure::new("an argument contains a NUL byte"))
}

/// Forks; the child runs `in_child`, then execs `command` (an
/// interactive bash or sh when empty). Returns the command's status.
pub fn fork_and_exec(
    command: &[CString],
    in_child: impl FnOnce(),
) -> Result<u8> {
    // Anything still buffered would be written twice: by us and the child.
    let _ = std::io::stdout().flush();
    // Block signals until our handlers know the child's PID.
    let mut saved = SigSet::empty();
    let _ = sigprocmask(
        SigmaskHow::SIG_SETMASK,
        Some(&SigSet::all()),
        Some(&mut saved),
    );
    let parent = getpid();
    // SAFETY: we are single-threaded, so the child cannot inherit a lock
    // held by another thread; it ends by exec or exit.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            // If the tool dies (even by SIGKILL), the kernel kills us.
            let _ = prctl::set_pdeathsig(Signal::SIGKILL);
            // (In a new PID namespace our parent is outside: getppid()
            // is 0 there, and cannot tell us whether it is still alive.)
            let ppid = getppid();
            if ppid != parent && ppid.as_raw() != 0 {
                std::process::exit(EXIT_TOOL_FAILED.into());
            }
            in_child();
            std::process::exit(exec_command(command).into());
        }
        Ok(ForkResult::Parent { child }) => {
            forward_signals_to(child);
            let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&saved), None);
            Ok(wait_for(child))
        }
        Err(errno) => {
            let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&saved), None);
            let failure = Failure::new(format!("cannot fork: {errno}"));
            Err(match errno {
                Errno::ENOMEM => failure.hint(
                    "the PID namespace has no init any more (its PID 1 \
                     exited): no process can join it",
                ),
                _ => failure,
            })
        }
    }
}

// ANCHOR: exec
/// Replaces this process with the command; returns only on failure.
fn exec_command(command: &[CString]) -> u8 {
    reset_signals();
    let errno = if command.is_empty() {
        // The article runs bash; a minimal system may only have sh.
        match execvp(c"bash", &[c"bash"]) {
            Err(Errno::ENOENT) => execvp(c"sh", &[c"sh"]).unwrap_err(),
            Err(errno) => errno,
        }
    } else {
        execvp(&command[0], command).unwrap_err()
    };
    let name = command
        .first()
        .map_or("bash".into(), |c| c.to_string_lossy());
    if errno == Errno::ENOENT {
        eprintln!("{TOOL}: cannot run '{name}': command not found ({errno})");
        eprintln!("hint: check the name, and PATH inside the namespace");
        EXIT_NOT_FOUND
    } else {
        eprintln!("{TOOL}: cannot execute '{name}': {errno}");
        eprintln!("hint: is it a file with execute permission?");
        EXIT_CANNOT_EXECUTE
    }
}
// ANCHOR_END: exec

/// Waits for the child and turns its end into our exit status.
fn wait_for(child: Pid) -> u8 {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => return code as u8,
            Ok(WaitStatus::Signaled(_, signal, _)) => {
                return 128 + signal as u8;
            }
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(errno) => {
                eprintln!("{TOOL}: cannot wait for the command: {errno}");
                return EXIT_TOOL_FAILED;
            }
        }
    }
}

/// The signals the tool passes on to the command while it waits.
const FORWARDED_SIGNALS: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

static CHILD_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Ctrl-C and Ctrl-\ come from the terminal, which sends them to the
    // whole foreground process group: the command has them already.
    if signal == libc::SIGINT || signal == libc::SIGQUIT {
        return;
    }
    // SAFETY: kill(2) is async-signal-safe; the PID is our own child's.
    unsafe { libc::kill(CHILD_PID.load(Ordering::Relaxed), signal) };
}

fn forward_signals_to(child: Pid) {
    CHILD_PID.store(child.as_raw(), Ordering::Relaxed);
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::all(),
    );
    for signal in FORWARDED_SIGNALS {
        // SAFETY: `on_signal` only reads an atomic and calls kill(2).
        let _ = unsafe { sigaction(signal, &action) };
    }
}

/// The command starts with default signal handling and nothing blocked.
fn reset_signals() {
    let default =
        SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for signal in Signal::iterator() {
        if signal != Signal::SIGKILL && signal != Signal::SIGSTOP {
            // SAFETY: restoring the default disposition installs no code.
            let _ = unsafe { sigaction(signal, &default) };
        }
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}
