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
use std::os::fd::AsRawFd;
use std::sync::OnceLock;
use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering,
};

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

// ANCHOR: passed_on
/// True for the signals the tool passes on to the command while it
/// waits: every signal another process may send to ask something of the
/// command (SIGTERM, SIGHUP, SIGINT, SIGUSR1, SIGALRM, the real-time
/// signals...). Not those that concern the tool itself: its children
/// (SIGCHLD), job control, the faults of its own code, SIGPIPE from its
/// own writes, and those that cannot be caught.
pub fn passed_on(signal: libc::c_int) -> bool {
    let own = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGCHLD,
        libc::SIGCONT,
        libc::SIGTSTP,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGPIPE,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
        libc::SIGTRAP,
        libc::SIGSYS,
        libc::SIGABRT,
        libc::SIGURG,
        libc::SIGWINCH,
    ];
    // 32 and 33 are the C library's own (threads, set*id).
    let real_time = libc::SIGRTMIN()..=libc::SIGRTMAX();
    (1..32).contains(&signal) && !own.contains(&signal)
        || real_time.contains(&signal)
}
// ANCHOR_END: passed_on

/// The PID of our child, for the signal handler; 0 once it has ended.
static CHILD_PID: AtomicI32 = AtomicI32::new(0);

/// A pidfd of our child (-1: none): it names that process and no other,
/// even once its PID is given to another one.
static CHILD_PIDFD: AtomicI32 = AtomicI32::new(-1);

/// The child's `/proc/PID` directory (-1: none), to read which signals
/// the command handles.
static CHILD_PROC: AtomicI32 = AtomicI32::new(-1);

/// True when the command is PID 1 of a new PID namespace (no `--init`).
static COMMAND_IS_PID1: AtomicBool = AtomicBool::new(false);

/// The signals the tool inherited as ignored, one bit each.
static INHERITED_IGNORED: AtomicU64 = AtomicU64::new(0);

/// True once a request to stop that PID 1 dropped has started the grace
/// period.
static GRACE_STARTED: AtomicBool = AtomicBool::new(false);

/// How long a PID 1 that dropped a request to stop may run on before
/// SIGKILL, unless `NSLAB_STOP_GRACE` says otherwise: as long as
/// `docker stop` gives a container by default.
pub const GRACE_SECONDS: u32 = 10;

/// The environment variable that sets another grace period, in seconds
/// (as `docker run --stop-timeout` does for a container).
pub const GRACE_VARIABLE: &str = "NSLAB_STOP_GRACE";

/// The longest grace period `NSLAB_STOP_GRACE` may ask for: an hour.
const GRACE_MAX: u32 = 3600;

/// The grace period this run uses, in seconds (see [`set_grace`]).
static GRACE: AtomicU32 = AtomicU32::new(GRACE_SECONDS);

/// Reads `NSLAB_STOP_GRACE` and makes it the grace period; without it,
/// the period stays [`GRACE_SECONDS`]. A value that is not a whole
/// number of seconds from 1 to 3600 is refused with a hint. Call it
/// before `clone`.
pub fn set_grace() -> Result<(), crate::Failure> {
    let Some(value) = std::env::var_os(GRACE_VARIABLE) else {
        return Ok(());
    };
    let seconds = value.to_str().and_then(|v| v.parse::<u32>().ok());
    match seconds {
        Some(seconds @ 1..=GRACE_MAX) => {
            GRACE.store(seconds, Ordering::Relaxed);
            Ok(())
        }
        _ => Err(crate::Failure::new(format!(
            "{GRACE_VARIABLE} must be a whole number of seconds from 1 to \
             {GRACE_MAX}, not '{}'",
            value.to_string_lossy()
        ))
        .hint(format!(
            "unset it for the default of {GRACE_SECONDS} s, or set it to \
             2 for two seconds"
        ))),
    }
}

/// The tool's name, for the notes the handler prints.
static TOOL: OnceLock<&'static str> = OnceLock::new();

/// The notes the handler prints after the tool's name.
static DROPPED_NOTE: [&[u8]; 3] = [
    b": PID 1 has no handler for ",
    b", so the kernel dropped it: SIGKILL in ",
    b" s, or at once if asked again\n",
];
static INSIST_NOTE: &[u8] = b": asked twice: PID 1 ignores signals it \
                               has no handler for, so sending SIGKILL\n";
static GRACE_NOTE: [&[u8]; 2] = [
    b": PID 1 is still running ",
    b" s after a request to stop that it has no handler for, so sending \
      SIGKILL\n",
];
static HANGUP_NOTE: &[u8] = b": hang-up: PID 1 has no handler for SIGHUP \
                               and no one is left to ask twice, so \
                               sending SIGKILL\n";

// ANCHOR: from_terminal
/// True when the kernel's terminal driver generated the signal (Ctrl-C,
/// Ctrl-\, a hang-up) and sent the same signal to the whole foreground
/// process group, the command included. `kill(2)` from a process gives
/// SI_USER (or SI_QUEUE, SI_TKILL) instead. One exception: when the
/// terminal hangs up, the kernel sends SIGHUP to the session leader
/// only; if that is us (`ssh -t`, `script -c`, `setsid -c`), nobody else
/// got it.
pub fn from_terminal(info: &libc::siginfo_t) -> bool {
    // SAFETY: getsid(2) and getpid(2) read our own ids; both are
    // async-signal-safe.
    let leader = unsafe { libc::getsid(0) == libc::getpid() };
    info.si_code == libc::SI_KERNEL
        && !(info.si_signo == libc::SIGHUP && leader)
}
// ANCHOR_END: from_terminal

/// Sends `signal` to the command: through its pidfd, which can never
/// name another process; without one, by its PID, which stays ours
/// until `wait_for` reaps it (it clears `CHILD_PID` first).
fn send(signal: libc::c_int) {
    let pidfd = CHILD_PIDFD.load(Ordering::Relaxed);
    if pidfd >= 0 {
        // SAFETY: pidfd_send_signal(2) with a null siginfo; it touches
        // no memory of ours and is async-signal-safe.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                pidfd,
                signal,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        return;
    }
    let child = CHILD_PID.load(Ordering::Relaxed);
    if child > 0 {
        // SAFETY: kill(2) is async-signal-safe; `child` is our unreaped
        // child (see above).
        unsafe { libc::kill(child, signal) };
    }
}

/// Writes the tool's name and `parts` to stderr, without allocating.
fn note(parts: &[&[u8]]) {
    crate::output::stderr_raw(TOOL.get().map_or("nslab", |t| t).as_bytes());
    for part in parts {
        crate::output::stderr_raw(part);
    }
}

// ANCHOR: handler
extern "C" fn on_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // The code we interrupted may be about to read errno.
    // SAFETY: __errno_location() returns this thread's errno.
    let errno = unsafe { *libc::__errno_location() };
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    handle(signal, unsafe { info.as_ref() });
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
}

fn handle(signal: libc::c_int, info: Option<&libc::siginfo_t>) {
    if CHILD_PID.load(Ordering::Relaxed) <= 0 {
        return;
    }
    let code = info.map_or(libc::SI_USER, |info| info.si_code);
    if signal == libc::SIGALRM && code == libc::SI_KERNEL {
        // Our own alarm (see below): a sent SIGALRM has SI_USER.
        if GRACE_STARTED.load(Ordering::Relaxed) {
            let mut digits = [0u8; 10];
            let grace = decimal(GRACE.load(Ordering::Relaxed), &mut digits);
            note(&[GRACE_NOTE[0], grace, GRACE_NOTE[1]]);
            send(libc::SIGKILL);
        }
        return;
    }
    let ignored = INHERITED_IGNORED.load(Ordering::Relaxed) & bit(signal) != 0;
    if !info.is_some_and(from_terminal) && !ignored {
        send(signal);
    }
    // PID 1 of a PID namespace: the kernel drops every signal that it
    // has no handler for, so `sleep` as PID 1 shrugs off Ctrl-C and
    // SIGTERM. For a request to stop, we end it ourselves: with SIGKILL,
    // which PID 1 cannot refuse from outside its namespace.
    let stop = [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM];
    if !COMMAND_IS_PID1.load(Ordering::Relaxed)
        || !stop.contains(&signal)
        || command_decides(signal)
    {
        return;
    }
    if signal == libc::SIGHUP {
        // The terminal is gone: no one is left to ask twice.
        note(&[HANGUP_NOTE]);
        send(libc::SIGKILL);
    } else if GRACE_STARTED.swap(true, Ordering::Relaxed) {
        note(&[INSIST_NOTE]);
        send(libc::SIGKILL);
    } else {
        let seconds = GRACE.load(Ordering::Relaxed);
        let mut digits = [0u8; 10];
        let grace = decimal(seconds, &mut digits);
        let dropped = DROPPED_NOTE;
        note(&[dropped[0], name(signal), dropped[1], grace, dropped[2]]);
        // SAFETY: alarm(2) is async-signal-safe; SIGALRM is caught (see
        // `forward`).
        unsafe { libc::alarm(seconds) };
    }
}
// ANCHOR_END: handler

/// `n` in decimal, written into the end of `digits`: the handler may
/// not allocate, so no `format!`.
fn decimal(mut n: u32, digits: &mut [u8; 10]) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &digits[start..];
        }
    }
}

/// The bit of `signal` in a 64-bit signal set, as `/proc/PID/status`
/// shows them.
fn bit(signal: libc::c_int) -> u64 {
    1u64 << ((signal - 1) & 63)
}

/// The name of a request to stop, for the note.
fn name(signal: libc::c_int) -> &'static [u8] {
    match signal {
        libc::SIGHUP => b"SIGHUP",
        libc::SIGINT => b"SIGINT",
        libc::SIGQUIT => b"SIGQUIT",
        _ => b"SIGTERM",
    }
}

// ANCHOR: command_decides
/// True when the command decides for itself what `signal` does: it has
/// a handler for it (`SigCgt` of `/proc/PID/status`), or it ignores it
/// (`SigIgn`: an interactive shell ignores SIGQUIT, a `nohup` command
/// SIGHUP), unless that is SIGTERM, which supervisors send to stop a
/// container whatever it ignores. False when that cannot be read.
/// Allocates nothing: it runs in the signal handler.
fn command_decides(signal: libc::c_int) -> bool {
    let dir = CHILD_PROC.load(Ordering::Relaxed);
    if dir < 0 {
        return false;
    }
    let mut text = [0u8; 8192];
    // SAFETY: openat(2), read(2) and close(2) are async-signal-safe; the
    // read fills at most the free part of `text`.
    let length = unsafe {
        let flags = libc::O_RDONLY | libc::O_CLOEXEC;
        let fd = libc::openat(dir, c"status".as_ptr(), flags);
        if fd < 0 {
            return false;
        }
        let mut length = 0;
        while length < text.len() {
            let free = &mut text[length..];
            let got = libc::read(fd, free.as_mut_ptr().cast(), free.len());
            if got <= 0 {
                break;
            }
            length += got as usize;
        }
        libc::close(fd);
        length
    };
    let text = &text[..length];
    let has = |field: &[u8]| {
        mask_after(text, field).is_some_and(|mask| mask & bit(signal) != 0)
    };
    has(b"\nSigCgt:\t") || has(b"\nSigIgn:\t") && signal != libc::SIGTERM
}
// ANCHOR_END: command_decides

/// The hexadecimal mask after `field` in `text`.
fn mask_after(text: &[u8], field: &[u8]) -> Option<u64> {
    let start = text.windows(field.len()).position(|w| w == field)?;
    let digits = &text[start + field.len()..];
    let mut mask = 0u64;
    let mut seen = 0;
    for &digit in digits.iter().take_while(|d| d.is_ascii_hexdigit()) {
        mask = mask << 4 | (digit as char).to_digit(16)? as u64;
        seen += 1;
    }
    (seen > 0).then_some(mask)
}

// ANCHOR: install
/// Names `child` to the handlers: its PID, a pidfd and, for a PID 1, its
/// `/proc` directory. Call it before the child may run, while every
/// signal is still blocked.
pub fn watch(tool: &'static str, child: Pid, command_is_pid1: bool) {
    let _ = TOOL.set(tool);
    CHILD_PID.store(child.as_raw(), Ordering::Relaxed);
    // SAFETY: pidfd_open(2) (Linux 5.3) returns a new descriptor or -1.
    let pidfd =
        unsafe { libc::syscall(libc::SYS_pidfd_open, child.as_raw(), 0) };
    CHILD_PIDFD.store(pidfd as libc::c_int, Ordering::Relaxed);
    COMMAND_IS_PID1.store(command_is_pid1, Ordering::Relaxed);
    if command_is_pid1 && let Some(proc) = crate::reap::proc_dir() {
        let path = std::ffi::CString::new(child.as_raw().to_string())
            .expect("a number has no NUL");
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
        // SAFETY: openat(2) of a C string; the descriptor is kept for
        // the handler until the tool exits.
        let dir =
            unsafe { libc::openat(proc.as_raw_fd(), path.as_ptr(), flags) };
        CHILD_PROC.store(dir, Ordering::Relaxed);
    }
}

/// While we wait, a signal sent to us reaches the command that [`watch`]
/// named, and Ctrl-C does not kill the tool and orphan the command (as
/// in system(3)). Signals the tool inherited as ignored stay ignored.
pub fn forward() {
    let command_is_pid1 = COMMAND_IS_PID1.load(Ordering::Relaxed);
    for signal in (1..=libc::SIGRTMAX()).filter(|&s| passed_on(s)) {
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
        // SAFETY: `on_signal` calls only async-signal-safe functions
        // (kill, pidfd_send_signal, write, alarm, openat, read, close,
        // getsid, getpid) and reads atomics; it restores errno.
        unsafe { libc::sigaction(signal, &action, &mut old) };
        if old.sa_sigaction != libc::SIG_IGN {
            continue;
        }
        // One call both installs and reads what was there: a signal that
        // was ignored gets its SIG_IGN back at once. (Every signal is
        // still blocked here, so none can reach the handler meanwhile.)
        // SIGALRM stays caught for a PID 1 command: it is our timer too.
        INHERITED_IGNORED.fetch_or(bit(signal), Ordering::Relaxed);
        if !(command_is_pid1 && signal == libc::SIGALRM) {
            // SAFETY: restoring the action sigaction(2) just returned.
            unsafe { libc::sigaction(signal, &old, std::ptr::null_mut()) };
        }
    }
}
// ANCHOR_END: install

/// Called once the child has ended, before it is reaped (after that its
/// PID may be reused): the handlers must no longer signal it.
pub fn child_ended() {
    CHILD_PID.store(0, Ordering::Relaxed);
    if GRACE_STARTED.load(Ordering::Relaxed) {
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
        info.si_signo = libc::SIGINT;
        assert!(from_terminal(&info));
        info.si_code = libc::SI_USER;
        assert!(!from_terminal(&info));
        info.si_code = libc::SI_QUEUE;
        assert!(!from_terminal(&info));
    }

    #[test]
    fn what_is_passed_on() {
        for signal in [libc::SIGTERM, libc::SIGALRM, libc::SIGXCPU] {
            assert!(passed_on(signal), "{signal}");
        }
        assert!(passed_on(libc::SIGRTMIN()) && passed_on(libc::SIGRTMAX()));
        for signal in [libc::SIGCHLD, libc::SIGKILL, libc::SIGSEGV, 32, 33] {
            assert!(!passed_on(signal), "{signal}");
        }
    }

    #[test]
    fn numbers_are_written_without_allocating() {
        let mut digits = [0u8; 10];
        assert_eq!(decimal(0, &mut digits), b"0");
        assert_eq!(decimal(10, &mut digits), b"10");
        assert_eq!(decimal(3600, &mut digits), b"3600");
        assert_eq!(decimal(u32::MAX, &mut digits), b"4294967295");
    }

    #[test]
    fn masks_are_read_from_a_status_text() {
        let status = b"Name:\tsleep\nSigIgn:\t0000000000000004\n\
                       SigCgt:\t0000000180004002\n";
        assert_eq!(mask_after(status, b"\nSigIgn:\t"), Some(4));
        assert_eq!(mask_after(status, b"\nSigCgt:\t"), Some(0x180004002));
        assert_eq!(mask_after(status, b"\nSigBlk:\t"), None);
    }
}
