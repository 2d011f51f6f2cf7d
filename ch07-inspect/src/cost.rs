//! `cost [N]`: how long it takes to create and free each type.

use std::ffi::OsString;
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, Uid};

use crate::nsfs::KINDS;
use crate::{Failure, Result, usage_error, words};

pub const HELP: &str = "\
ch07-inspect cost: what each namespace type costs

Usage: ch07-inspect cost [N]

For each type, N times (default 200): create a child in a new namespace
of that one type (clone3(2) with that CLONE_NEW* flag), let it exit at
once, and wait for it. Prints the microseconds per round, and the extra
over a child without a new namespace (the first line).

Network and mount namespaces are the expensive ones: a network
namespace gets its own loopback device, routing tables, sysctls and
more; a mount namespace copies the whole mount table. Freeing a network
namespace is asynchronous: the kernel's cleanup_net work runs later, so
its true cost partly lands after the numbers shown.

Try: ch07-inspect cost; ch07-inspect cost 500
";

/// clone3(2)'s argument, version 0 (64 bytes). clone(2) cannot create a
/// time namespace: its flag (0x80) is in the byte that clone(2) uses
/// for the exit signal; clone3 has a field of its own for the signal.
#[repr(C)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
}

pub fn command(args: Vec<OsString>) -> Result<u8> {
    let usage = "cost [N]";
    let words = words(args, usage)?;
    let rounds = match words.as_slice() {
        [] => 200,
        [n] => n
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| {
                usage_error(&format!("'{n}' is not a count (1-100000)"), usage)
            })?,
        _ => return Err(usage_error("too many arguments", usage)),
    };
    // ANCHOR: cost
    let baseline = time_rounds(0, rounds)
        .map_err(|e| Failure::new(format!("cannot create a child: {e}")))?;
    outln!("{rounds} rounds of clone3 + exit + wait per type");
    outln!("{:<8} {:>10} {:>10}", "TYPE", "µs/round", "extra µs");
    outln!("{:<8} {baseline:>10.1} {:>10}", "(none)", "-");
    for kind in KINDS {
        let micros = time_rounds(kind.flag as u64, rounds).map_err(|e| {
            let failure = Failure::new(format!(
                "cannot create a {} namespace: {e}",
                kind.name
            ));
            match e {
                Errno::EPERM if !Uid::effective().is_root() => {
                    failure.hint("creating namespaces needs root (sudo)")
                }
                Errno::ENOSPC => failure.hint(format!(
                    "the limit {} was reached",
                    kind.limit_file()
                )),
                _ => failure,
            }
        })?;
        let note = match kind.name {
            "net" => "  (and more later: netns cleanup is asynchronous)",
            "mnt" => "  (copies every mount)",
            _ => "",
        };
        outln!(
            "{:<8} {micros:>10.1} {:>10.1}{note}",
            kind.name,
            // Below the noise of the baseline: show 0.
            (micros - baseline).max(0.0)
        );
    }
    Ok(0)
}

/// Microseconds per round of: clone3 a child with `flags`, which exits
/// at once; wait for it.
fn time_rounds(flags: u64, rounds: u32) -> std::result::Result<f64, Errno> {
    let start = Instant::now();
    for _ in 0..rounds {
        let args = CloneArgs {
            flags,
            pidfd: 0,
            child_tid: 0,
            parent_tid: 0,
            exit_signal: libc::SIGCHLD as u64,
            stack: 0,
            stack_size: 0,
            tls: 0,
        };
        // SAFETY: without a stack, clone3 behaves like fork(2): the child
        // runs on a copy of our memory. We are single-threaded and the
        // child only calls _exit(2), which is async-signal-safe.
        let pid = unsafe {
            libc::syscall(
                libc::SYS_clone3,
                &args as *const CloneArgs,
                std::mem::size_of::<CloneArgs>(),
            )
        };
        match pid {
            // SAFETY: see above; _exit skips Rust's and libc's cleanup.
            0 => unsafe { libc::_exit(0) },
            -1 => return Err(Errno::last()),
            pid => loop {
                match waitpid(Pid::from_raw(pid as i32), None) {
                    Ok(WaitStatus::Exited(..)) => break,
                    Err(Errno::EINTR) | Ok(_) => continue,
                    Err(e) => return Err(e),
                }
            },
        }
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds))
}
// ANCHOR_END: cost
