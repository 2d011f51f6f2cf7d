//! Signals: what the tool inherited, what it changes for itself, and
//! passing signals on to the command.
//!
//! The rule is the one `nohup`, `nice`, `unshare(1)` and `nsenter(1)`
//! follow: the command gets the dispositions and the mask that the tool
//! was started with. The tool changes only what it must, and gives that
//! back in the child before exec:
//!
//! - SIGPIPE: the tool ignores it for itself, first thing, once it has
//!   read how it was inherited (see [`take_sigpipe`]).
//! - SIGCHLD: if whoever started us ignored it, the kernel would reap our
//!   children for us and `waitpid` could not see the command end; the
//!   tool sets it back to the default for itself.
//! - the mask: every signal is blocked from just before `clone` until the
//!   parent's handlers know the child's PID.
//! - handlers for the forwarded signals: installed in the parent after
//!   `clone`, so the child never has them (exec would reset them anyway).
//!   A signal that was ignored when the tool started is not caught.

use std::mem::MaybeUninit;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
use nix::unistd::Pid;

// ANCHOR: sigpipe
/// True when SIGPIPE was ignored by whoever started the tool.
static SIGPIPE_WAS_IGNORED: AtomicBool = AtomicBool::new(false);

/// Records how the caller left SIGPIPE, then ignores it for the tool
/// itself: a write to a closed pipe is then an error, not a death. The
/// first thing the tool does (see [`crate::entry`]), so nothing can have
/// changed it before.
pub fn take_sigpipe() {
    // SAFETY: sigaction is plain data; all zeroes is a valid value.
    let mut ignore: libc::sigaction = unsafe { std::mem::zeroed() };
    ignore.sa_sigaction = libc::SIG_IGN;
    // SAFETY: zeroed, then filled by sigaction(2) with the old action.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: SIG_IGN installs no code of ours; one call both sets it
    // and reads what was there.
    if unsafe { libc::sigaction(libc::SIGPIPE, &ignore, &mut old) } == 0 {
        let ignored = old.sa_sigaction == libc::SIG_IGN;
        SIGPIPE_WAS_IGNORED.store(ignored, Ordering::Relaxed);
    }
}
// ANCHOR_END: sigpipe

/// The kernel's current action for `signal`, without changing it.
fn action_of(signal: libc::c_int) -> Option<libc::sigaction> {
    let mut old = MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: a null new action only reads the current one into `old`,
    // which is valid (zeroed) memory of the right type.
    let status =
        unsafe { libc::sigaction(signal, std::ptr::null(), old.as_mut_ptr()) };
    // SAFETY: zeroed, then filled by a successful sigaction(2).
    (status == 0).then(|| unsafe { old.assume_init() })
}

/// True when `signal` is ignored (SIG_IGN) right now.
pub fn is_ignored(signal: libc::c_int) -> bool {
    action_of(signal).is_some_and(|action| action.sa_sigaction == libc::SIG_IGN)
}

/// Sets `signal` to SIG_DFL or SIG_IGN.
fn set_simple(signal: libc::c_int, ignore: bool) {
    let disposition = if ignore { libc::SIG_IGN } else { libc::SIG_DFL };
    // SAFETY: SIG_DFL and SIG_IGN install no code of ours.
    unsafe { libc::signal(signal, disposition) };
}

/// What the tool inherited and changed, to give back before exec.
#[derive(Clone)]
pub struct Inherited {
    mask: SigSet,
    sigchld_ignored: bool,
    sigpipe_ignored: bool,
}

// ANCHOR: inherited
impl Inherited {
    /// Blocks every signal and makes SIGCHLD work for the tool; returns
    /// what was there before. Call just before `clone` or `fork`.
    pub fn block_all() -> Result<Inherited, Errno> {
        let mut mask = SigSet::empty();
        sigprocmask(
            SigmaskHow::SIG_SETMASK,
            Some(&SigSet::all()),
            Some(&mut mask),
        )?;
        let sigchld_ignored = is_ignored(libc::SIGCHLD);
        if sigchld_ignored {
            set_simple(libc::SIGCHLD, false);
        }
        Ok(Inherited {
            mask,
            sigchld_ignored,
            sigpipe_ignored: SIGPIPE_WAS_IGNORED.load(Ordering::Relaxed),
        })
    }

    /// In the parent: unblocks what the caller had unblocked.
    pub fn restore_mask(&self) {
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&self.mask), None);
    }

    /// In the parent, when no child was made: everything as it was.
    pub fn restore_all(&self) {
        if self.sigchld_ignored {
            set_simple(libc::SIGCHLD, true);
        }
        self.restore_mask();
    }

    /// In the child, just before exec: the dispositions and the mask the
    /// tool inherited. (Handlers would be reset by exec; we install none
    /// in the child.)
    pub fn give_back(&self) {
        set_simple(libc::SIGPIPE, self.sigpipe_ignored);
        if self.sigchld_ignored {
            set_simple(libc::SIGCHLD, true);
        }
        self.restore_mask();
    }
}
// ANCHOR_END: inherited

/// The signals the tool passes on to the command while it waits.
pub const FORWARDED: [libc::c_int; 6] = [
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// The PID of our child, for the signal handler.
static CHILD_PID: AtomicI32 = AtomicI32::new(0);

/// True when the command is PID 1 of a new PID namespace (no `--init`).
static COMMAND_IS_PID1: AtomicBool = AtomicBool::new(false);

/// When the last plea to stop (Ctrl-C, Ctrl-\, SIGTERM) reached us, in
/// monotonic milliseconds.
static LAST_PLEA_MS: AtomicU64 = AtomicU64::new(0);

/// A second plea within this time kills PID 1 with SIGKILL.
pub const INSIST_WINDOW_MS: u64 = 3000;

/// The tool's name, for the note a second plea prints.
static TOOL: OnceLock<&'static str> = OnceLock::new();

/// The note printed (after the tool's name) when a second plea kills
/// PID 1.
static INSIST_NOTE: &[u8] = b": asked twice: PID 1 ignores signals it \
                               has no handler for, so sending SIGKILL\n";

/// True once a hang-up has set the alarm.
static ALARM_SET: AtomicBool = AtomicBool::new(false);

/// How long PID 1 may take to act on a hang-up before SIGKILL.
const HANGUP_GRACE_SECONDS: libc::c_uint = 1;

/// The note printed (after the tool's name) when a hang-up ends PID 1.
static HANGUP_NOTE: &[u8] = b": hang-up: PID 1 ignores SIGHUP unless it has a \
                               handler, and no one is left to ask twice, so \
                               sending SIGKILL\n";

// ANCHOR: from_terminal
/// True when the kernel's terminal driver generated the signal (Ctrl-C,
/// Ctrl-\, a hang-up): it sent the same signal to the whole foreground
/// process group, the command included. `kill(2)` from a process gives
/// SI_USER (or SI_QUEUE, SI_TKILL) instead.
pub fn from_terminal(info: &libc::siginfo_t) -> bool {
    info.si_code == libc::SI_KERNEL
}
// ANCHOR_END: from_terminal

// ANCHOR: handler
extern "C" fn on_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    let child = CHILD_PID.load(Ordering::Relaxed);
    if signal == libc::SIGALRM {
        if child > 0 {
            crate::output::stderr_raw(
                TOOL.get().map_or("nslab", |t| t).as_bytes(),
            );
            crate::output::stderr_raw(HANGUP_NOTE);
            // SAFETY: kill(2) on our own child, not reaped yet (see
            // `child_ended`).
            unsafe { libc::kill(child, libc::SIGKILL) };
        }
        return;
    }
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    let from_terminal = unsafe { info.as_ref() }.is_some_and(from_terminal);
    if child > 0 && !from_terminal {
        // SAFETY: kill(2) is async-signal-safe; the PID is our own
        // child's, which we have not reaped (we reap only after it ends).
        unsafe { libc::kill(child, signal) };
    }
    // PID 1 ignores the signals it has no handler for: `sleep` as PID 1
    // shrugs off Ctrl-C and SIGTERM. Asked twice within 3 s, we use
    // SIGKILL, which PID 1 cannot refuse from outside its namespace.
    // A hang-up (the terminal is gone) leaves no one to ask twice: PID 1
    // gets a second to act on it (if it has a handler), then SIGKILL.
    if signal == libc::SIGHUP
        && child > 0
        && COMMAND_IS_PID1.load(Ordering::Relaxed)
    {
        ALARM_SET.store(true, Ordering::Relaxed);
        // SAFETY: alarm(2) is async-signal-safe; SIGALRM is ours (see
        // `forward_to`).
        unsafe { libc::alarm(HANGUP_GRACE_SECONDS) };
        return;
    }
    let plea = matches!(signal, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT);
    if plea && child > 0 && COMMAND_IS_PID1.load(Ordering::Relaxed) {
        let now = monotonic_ms();
        let last = LAST_PLEA_MS.swap(now, Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) <= INSIST_WINDOW_MS {
            let tool = TOOL.get().map_or("nslab", |tool| tool);
            crate::output::stderr_raw(tool.as_bytes());
            crate::output::stderr_raw(INSIST_NOTE);
            // SAFETY: as above.
            unsafe { libc::kill(child, libc::SIGKILL) };
        }
    }
}
// ANCHOR_END: handler

/// Milliseconds of CLOCK_MONOTONIC; async-signal-safe.
fn monotonic_ms() -> u64 {
    let mut now = MaybeUninit::<libc::timespec>::zeroed();
    // SAFETY: clock_gettime(2) fills a valid timespec; async-signal-safe.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, now.as_mut_ptr()) };
    // SAFETY: zeroed, then possibly filled by the kernel.
    let now = unsafe { now.assume_init() };
    now.tv_sec as u64 * 1000 + now.tv_nsec as u64 / 1_000_000
}

// ANCHOR: install
/// While we wait, a signal sent to us reaches the command, and Ctrl-C
/// does not kill the tool and orphan the command (as in system(3)).
/// Signals the tool inherited as ignored stay ignored.
pub fn forward_to(tool: &'static str, child: Pid, command_is_pid1: bool) {
    // (SIGALRM, where it is used, is the tool's own: caught even where it
    // was inherited ignored; the child, cloned before, keeps its copy.)
    let _ = TOOL.set(tool);
    CHILD_PID.store(child.as_raw(), Ordering::Relaxed);
    COMMAND_IS_PID1.store(command_is_pid1, Ordering::Relaxed);
    // SIGALRM is not passed on: it is the tool's own timer, for the
    // hang-up of a PID 1 (see `on_signal`).
    let timer = command_is_pid1.then_some(libc::SIGALRM);
    for signal in FORWARDED.into_iter().chain(timer) {
        // SAFETY: sigaction is plain data; all zeroes is a valid value.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        let handler: extern "C" fn(
            libc::c_int,
            *mut libc::siginfo_t,
            *mut libc::c_void,
        ) = on_signal;
        action.sa_sigaction = handler as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        // SAFETY: sa_mask is a valid sigset_t inside `action`.
        unsafe { libc::sigfillset(&mut action.sa_mask) };
        // SAFETY: zeroed, then filled by sigaction(2) with the old action.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: `on_signal` only reads atomics and calls kill(2),
        // write(2), alarm(2) and clock_gettime(2), all async-signal-safe.
        unsafe { libc::sigaction(signal, &action, &mut old) };
        // One call both installs and reads what was there: a signal that
        // was ignored gets its SIG_IGN back at once. (Every signal is
        // still blocked here, so none can reach the handler meanwhile.)
        if old.sa_sigaction == libc::SIG_IGN && signal != libc::SIGALRM {
            // SAFETY: restoring the action sigaction(2) just returned.
            unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
        }
    }
}
// ANCHOR_END: install

/// Called once the child has been reaped: its PID may now be reused, so
/// the handlers must no longer signal it.
pub fn child_ended() {
    CHILD_PID.store(0, Ordering::Relaxed);
    if ALARM_SET.load(Ordering::Relaxed) {
        // SAFETY: alarm(0) cancels a pending alarm; it touches no memory.
        unsafe { libc::alarm(0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_signal_is_told_apart_from_kill() {
        // SAFETY: siginfo_t is plain data; all zeroes is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        info.si_code = libc::SI_KERNEL;
        assert!(from_terminal(&info));
        info.si_code = libc::SI_USER;
        assert!(!from_terminal(&info));
        info.si_code = libc::SI_QUEUE;
        assert!(!from_terminal(&info));
    }
}
