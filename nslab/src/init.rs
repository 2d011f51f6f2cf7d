//! `--init`: a tiny PID 1 for a new PID namespace.
//!
//! The first process in a PID namespace is its init: the kernel gives it
//! every orphan to reap, and protects it from every signal it has no
//! handler for. A shell or `sleep` makes a poor init. With `--init` the
//! child stays as PID 1, runs the command as PID 2, passes signals on to
//! it, and reaps everything, until the command exits; then it exits with
//! the command's status, and the kernel ends whatever else still runs in
//! the namespace.

use std::ffi::CString;
use std::mem::MaybeUninit;

use nix::sys::signal::SigSet;
use nix::unistd::{ForkResult, Pid, fork};

use crate::launch::Launch;
use crate::reap::{exit_status, wait_raw};
use crate::signals::{from_terminal, passed_on};
use crate::{EXIT_TOOL_FAILED, output};

// ANCHOR: init
/// Runs as PID 1: forks the command, then waits for signals until it is
/// done. Every signal is still blocked (the tool blocked them before
/// `clone`), so none is lost: we take them one at a time.
pub fn run_as_init(launch: &Launch, command: &[CString]) -> u8 {
    // SAFETY: we are single-threaded; the child gives back the signal
    // state and execs.
    let command_pid = match unsafe { fork() } {
        Ok(ForkResult::Child) => return launch.exec(command),
        Ok(ForkResult::Parent { child }) => child,
        Err(errno) => {
            output::say(
                launch.tool(),
                &format!("--init cannot start the command: {errno}"),
            );
            return EXIT_TOOL_FAILED;
        }
    };
    let all = SigSet::all();
    loop {
        let mut info = MaybeUninit::<libc::siginfo_t>::uninit();
        // SAFETY: sigwaitinfo fills `info` when it returns a signal.
        let signal =
            unsafe { libc::sigwaitinfo(all.as_ref(), info.as_mut_ptr()) };
        if signal == libc::SIGCHLD {
            if let Some(status) = reap_children(command_pid) {
                return status;
            }
        } else if signal > 0 {
            // SAFETY: sigwaitinfo returned a signal, so it filled `info`.
            let info = unsafe { info.assume_init() };
            // Ctrl-C from the terminal went to the command as well.
            if !from_terminal(&info) && passed_on(signal) {
                // SAFETY: kill(2) on our own child, which we reap only in
                // this loop, and then return.
                unsafe { libc::kill(command_pid.as_raw(), signal) };
            }
        }
    }
}
// ANCHOR_END: init

// ANCHOR: reap_children
/// Reaps every child that has ended: the command, and orphans the kernel
/// handed to PID 1. Returns the command's exit status once it is done.
fn reap_children(command_pid: Pid) -> Option<u8> {
    loop {
        match wait_raw(-1, libc::WNOHANG) {
            Ok(None) | Err(_) => return None,
            Ok(Some((pid, status))) if pid == command_pid.as_raw() => {
                return exit_status(status);
            }
            Ok(Some(_)) => continue,
        }
    }
}
// ANCHOR_END: reap_children
