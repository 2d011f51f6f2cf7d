//! # ch01-uts: a shell with a hostname of its own
//!
//! Step 1 of nslab adds **`CLONE_NEWUTS`**. The UTS namespace holds the
//! hostname and the NIS domain name; a process in a new one can rename
//! its "machine" while the host keeps its name.
//!
//! Try it (as root):
//!
//! ```text
//! $ cargo run -p ch01-uts
//! # hostname bash; hostname    # prints: bash
//! # exit
//! $ hostname                   # the host's name, unchanged
//! ```
//!
//! Where the article's Go program sets `SysProcAttr.Cloneflags` and lets
//! `exec.Cmd` call `clone(2)`, we call `clone` ourselves: the child
//! `execvp`s the command and the parent `waitpid`s for it.

use std::ffi::{CString, OsString};
use std::io::{IsTerminal, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, clone};
use nix::sys::prctl;
use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction,
    sigprocmask,
};
use nix::sys::termios::{SetArg, Termios, tcgetattr, tcsetattr};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, Uid, execvp, pipe2, read, write};

const TOOL: &str = "ch01-uts";

// ANCHOR: flags
/// The namespaces this chapter creates: a new UTS namespace.
const NAMESPACES: CloneFlags = CloneFlags::CLONE_NEWUTS;
// ANCHOR_END: flags

/// The `/proc/sys/user` file that limits each type created above.
const LIMIT_FILES: &[&str] = &["max_uts_namespaces"];

/// Printed when the user starts an interactive shell.
const WELCOME: &str = "new UTS namespace: try `hostname bash; hostname`, \
                       then `exit` and `hostname` on the host";

const HELP: &str = "\
ch01-uts: run a command in a new UTS namespace (its own hostname)

Usage: ch01-uts [OPTIONS] [--] [COMMAND [ARG...]]

Adds CLONE_NEWUTS. Without COMMAND it starts an interactive bash
(or sh). Creating a namespace needs root: `cargo sudo-run -p ch01-uts`.

Try inside:     hostname bash; hostname    -> bash
Then outside:   hostname                   -> the host's name, unchanged

Options:
  -h, --help    print this help

Exit status: the command's own; 128+N when it was killed by signal N;
125 when the namespace could not be made; 126 when COMMAND cannot be
executed; 127 when it is not found.
";

/// Docker's exit statuses for failures that are not the command's own.
const EXIT_TOOL_FAILED: u8 = 125;
const EXIT_CANNOT_EXECUTE: u8 = 126;
const EXIT_NOT_FOUND: u8 = 127;

/// The child's stack: `clone` runs the child on memory we hand it.
const STACK_SIZE: usize = 1024 * 1024;

/// What the command line asked for.
struct Options {
    /// The command and its arguments; empty means an interactive shell.
    command: Vec<OsString>,
}

/// A failure of the tool itself: what failed, and the kernel's errno.
struct Failure {
    what: String,
    errno: Errno,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args_os().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{TOOL}: {message}");
            eprintln!("hint: `{TOOL} --help` shows the usage");
            return ExitCode::from(EXIT_TOOL_FAILED);
        }
    };
    match run(options) {
        Ok(status) => ExitCode::from(status),
        Err(failure) => {
            eprintln!("{TOOL}: {}: {}", failure.what, failure.errno);
            if let Some(hint) = hint_for(&failure) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(EXIT_TOOL_FAILED)
        }
    }
}

/// Options come before the command; `--` ends them. `Ok(None)` is --help.
fn parse_args(
    args: impl Iterator<Item = OsString>,
) -> Result<Option<Options>, String> {
    let mut args = args.peekable();
    let is_option =
        |arg: &OsString| arg.to_str().is_some_and(|a| a.starts_with('-'));
    if let Some(arg) = args.next_if(is_option) {
        match arg.to_str() {
            Some("-h" | "--help") => return Ok(None),
            Some("--") => {}
            _ => return Err(format!("unknown option '{}'", arg.display())),
        }
    }
    Ok(Some(Options {
        command: args.collect(),
    }))
}

fn run(options: Options) -> Result<u8, Failure> {
    let interactive = options.command.is_empty();
    let command = to_c_strings(options.command)?;
    if interactive {
        eprintln!("{TOOL}: {WELCOME}");
    }
    // Anything still buffered would be written twice: by us and the child.
    let _ = std::io::stdout().flush();
    let terminal = saved_terminal();

    // The child waits on this pipe until we say "go" (or die).
    let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC)
        .map_err(|errno| Failure::new("cannot create a pipe", errno))?;

    // Block every signal until our handlers know the child's PID; the
    // child starts with this mask too and resets it before exec.
    let saved_mask = block_all_signals()?;

    // ANCHOR: clone
    let mut stack = vec![0u8; STACK_SIZE];
    let child_main = Box::new(|| child(&command, &go_read, &go_write));
    // SAFETY: we are single-threaded, so the child (a copy of this
    // process, running `child_main` on `stack`) cannot inherit a lock
    // held by another thread; it leaves by exec or by returning a status.
    let cloned = unsafe {
        clone(child_main, &mut stack, NAMESPACES, Some(libc::SIGCHLD))
    };
    // ANCHOR_END: clone
    let child_pid = match cloned {
        Ok(pid) => pid,
        Err(errno) => {
            restore_signal_mask(&saved_mask);
            return Err(Failure::new(
                "cannot create namespaces (clone)",
                errno,
            ));
        }
    };
    drop(go_read);
    forward_signals_to(child_pid);
    restore_signal_mask(&saved_mask);

    // The child is set up: let it exec. `go_write` stays open until we
    // exit, so that the child can tell when we are gone.
    let _ = write(&go_write, b"!");
    let status = wait_for(child_pid);
    if let (Some(saved), true) = (terminal, status > 128) {
        restore_terminal(&saved);
    }
    Ok(status)
}

// ANCHOR: child
/// Runs in the new namespaces. Returns a status only on failure.
fn child(command: &[CString], go_read: &OwnedFd, go_write: &OwnedFd) -> isize {
    if !wait_for_go(go_read, go_write) {
        return EXIT_TOOL_FAILED.into();
    }
    exec_command(command)
}
// ANCHOR_END: child

/// Waits for the parent's "go". False when the parent is gone: then we
/// must not run the command, or it would outlive the tool.
fn wait_for_go(go_read: &OwnedFd, go_write: &OwnedFd) -> bool {
    // If the tool dies (even by SIGKILL), the kernel kills us.
    let _ = prctl::set_pdeathsig(Signal::SIGKILL);
    // Our copy of the write end must go, or we would wait for ourselves.
    // SAFETY: closing our copy of the write end; the `OwnedFd` in this
    // process is never dropped, because the child ends by exec or exit.
    unsafe { libc::close(std::os::fd::AsRawFd::as_raw_fd(go_write)) };
    let mut byte = [0u8; 1];
    if !matches!(read(go_read, &mut byte), Ok(1)) {
        return false;
    }
    // The parent may have died between its "go" and our prctl above:
    // then its write end is closed and the pipe reports a hang-up.
    let mut fds = [PollFd::new(go_read.as_fd(), PollFlags::empty())];
    let hung_up = poll(&mut fds, PollTimeout::ZERO).is_ok()
        && fds[0]
            .revents()
            .is_some_and(|r| r.contains(PollFlags::POLLHUP));
    !hung_up
}

// ANCHOR: exec
/// Replaces this process with the command; returns only on failure.
fn exec_command(command: &[CString]) -> isize {
    reset_signals();
    close_inherited_fds();
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
        EXIT_NOT_FOUND.into()
    } else {
        eprintln!("{TOOL}: cannot execute '{name}': {errno}");
        eprintln!("hint: is it a file with execute permission?");
        EXIT_CANNOT_EXECUTE.into()
    }
}
// ANCHOR_END: exec

// ANCHOR: wait
/// Waits for the child and turns its end into our exit status.
fn wait_for(child_pid: Pid) -> u8 {
    loop {
        match waitpid(child_pid, None) {
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
// ANCHOR_END: wait

/// The signals the tool catches while the command runs.
const FORWARDED_SIGNALS: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
];

/// The PID of our child, for the signal handler.
static CHILD_PID: AtomicI32 = AtomicI32::new(0);

/// Passes a signal sent to the tool on to the command.
extern "C" fn on_signal(signal: libc::c_int) {
    // Ctrl-C and Ctrl-\ come from the terminal, which sends them to the
    // whole foreground process group: the command has them already.
    if signal == libc::SIGINT || signal == libc::SIGQUIT {
        return;
    }
    // SAFETY: kill(2) is async-signal-safe; the PID is our own child's.
    unsafe { libc::kill(CHILD_PID.load(Ordering::Relaxed), signal) };
}

/// While we wait, Ctrl-C must not kill the tool and orphan the command
/// (as in system(3)), and SIGTERM or SIGHUP sent to us must reach it.
fn forward_signals_to(child_pid: Pid) {
    CHILD_PID.store(child_pid.as_raw(), Ordering::Relaxed);
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

fn block_all_signals() -> Result<SigSet, Failure> {
    let mut saved = SigSet::empty();
    sigprocmask(
        SigmaskHow::SIG_SETMASK,
        Some(&SigSet::all()),
        Some(&mut saved),
    )
    .map_err(|errno| Failure::new("cannot block signals", errno))?;
    Ok(saved)
}

fn restore_signal_mask(saved: &SigSet) {
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(saved), None);
}

/// The command starts with default signal handling and nothing blocked,
/// whatever the tool (or whoever started it) ignored or blocked.
fn reset_signals() {
    // An all-zero kernel `struct sigaction` means SIG_DFL. We call the
    // kernel directly: glibc's sigaction(3) refuses the two real-time
    // signals it keeps for itself, and those can be inherited as ignored.
    let default_action = [0u64; 4];
    for signal in 1..=libc::SIGRTMAX() {
        // SAFETY: the kernel reads 32 bytes (handler, flags, restorer,
        // 8-byte mask) from a live array; SIGKILL/SIGSTOP fail harmlessly.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                default_action.as_ptr(),
                std::ptr::null_mut::<u64>(),
                8,
            )
        };
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}

/// Marks every descriptor above stderr close-on-exec, so the command
/// inherits only 0, 1 and 2, whatever the tool was started with.
fn close_inherited_fds() {
    // SAFETY: close_range(2) with CLOSE_RANGE_CLOEXEC only sets a flag on
    // descriptors; it does not close anything this process still uses.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
}

/// The terminal's settings, when stdin is one, to restore if the command
/// is killed while it has the terminal in a strange mode.
fn saved_terminal() -> Option<Termios> {
    let stdin = std::io::stdin();
    stdin
        .is_terminal()
        .then(|| tcgetattr(&stdin).ok())
        .flatten()
}

fn restore_terminal(saved: &Termios) {
    // SAFETY: ignoring SIGTTOU so that restoring the settings cannot stop
    // us when the command left the terminal to another process group.
    let _ = unsafe { libc::signal(libc::SIGTTOU, libc::SIG_IGN) };
    let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
}

fn to_c_strings(args: Vec<OsString>) -> Result<Vec<CString>, Failure> {
    args.into_iter()
        .map(|arg| CString::new(arg.into_vec()))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            Failure::new("an argument contains a NUL byte", Errno::EINVAL)
        })
}

/// A hint for the failures whose cause we know.
fn hint_for(failure: &Failure) -> Option<String> {
    match failure.errno {
        Errno::EPERM if !Uid::effective().is_root() => Some(format!(
            "creating namespaces needs root: run `cargo sudo-run -p {TOOL}` \
             or `sudo {}`",
            std::env::args().next().unwrap_or(TOOL.into())
        )),
        Errno::EPERM => Some(
            "root lacks CAP_SYS_ADMIN here (a container or a seccomp \
             filter?): try a Linux VM"
                .into(),
        ),
        Errno::ENOSPC => Some(limit_hint()),
        Errno::EINVAL => Some(
            "this kernel lacks a namespace type used here: nslab needs \
             Linux >= 5.6"
                .into(),
        ),
        _ => None,
    }
}

/// Names the `/proc/sys/user/max_*_namespaces` limit that was reached.
fn limit_hint() -> String {
    let limits: Vec<(String, String)> = LIMIT_FILES
        .iter()
        .map(|name| {
            let path = format!("/proc/sys/user/{name}");
            let value = std::fs::read_to_string(&path).unwrap_or_default();
            (format!("user.{name}"), value.trim().to_string())
        })
        .collect();
    if let Some((setting, _)) = limits.iter().find(|(_, value)| value == "0") {
        return format!(
            "the limit {setting} is 0 (/proc/sys/{}): raise it with \
             `sysctl -w {setting}=1000`",
            setting.replace('.', "/")
        );
    }
    let listed: Vec<String> = limits
        .iter()
        .map(|(setting, value)| format!("{setting} = {value}"))
        .collect();
    format!("a namespace limit was reached: check {}", listed.join(", "))
}

impl Failure {
    fn new(what: &str, errno: Errno) -> Self {
        Failure {
            what: what.into(),
            errno,
        }
    }
}
