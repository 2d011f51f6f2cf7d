//! # ch06-net: a network stack of its own
//!
//! Step 6 of nslab adds **`CLONE_NEWNET`** to the user, UTS, IPC, PID
//! and mount namespaces. A network namespace has its own interfaces,
//! addresses, routes, firewall rules and sockets. A new one holds only a
//! loopback interface, `lo`, and even that is down: the command is cut
//! off until someone connects it (a veth pair, for example).
//!
//! Try it (as root, or as any user):
//!
//! ```text
//! $ cargo run -p ch06-net
//! $ ip addr                     # only lo, DOWN
//! $ exit
//! $ cargo run -p ch06-net -- --map-root
//! # ip link set lo up && ping -c1 127.0.0.1
//! ```
//!
//! Fallback tunnel devices such as `tunl0` or `sit0` may show up too:
//! the kernel adds one to every new network namespace when their module
//! is loaded on the host.

use std::ffi::{CString, OsString};
use std::io::{IsTerminal, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{MsFlags, mount};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, clone};
use nix::sys::prctl;
use nix::sys::signal::{
    SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal, sigaction,
    sigprocmask,
};
use nix::sys::termios::{SetArg, Termios, tcgetattr, tcsetattr};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::time::{ClockId, clock_gettime};
use nix::unistd::{
    ForkResult, Gid, Pid, Uid, execvp, fork, pipe2, read, write,
};

const TOOL: &str = "ch06-net";

// ANCHOR: flags
/// The namespaces this chapter creates: UTS (ch01), IPC (ch02), PID
/// (ch03), mount (ch04), user (ch05) and network.
const NAMESPACES: CloneFlags = CloneFlags::CLONE_NEWUTS
    .union(CloneFlags::CLONE_NEWIPC)
    .union(CloneFlags::CLONE_NEWPID)
    .union(CloneFlags::CLONE_NEWNS)
    .union(CloneFlags::CLONE_NEWUSER)
    .union(CloneFlags::CLONE_NEWNET);
// ANCHOR_END: flags

/// The `/proc/sys/user` file that limits each type created above.
const LIMIT_FILES: &[&str] = &[
    "max_uts_namespaces",
    "max_ipc_namespaces",
    "max_pid_namespaces",
    "max_mnt_namespaces",
    "max_user_namespaces",
    "max_net_namespaces",
];

/// Printed when the user starts an interactive shell.
const WELCOME: &str = "new network, user, UTS, IPC, PID and mount \
                       namespaces: try `ip addr` (only lo, DOWN)";

const HELP: &str = "\
ch06-net: run a command in a new network namespace (only lo)

Usage: ch06-net [OPTIONS] [--] [COMMAND [ARG...]]

Adds CLONE_NEWNET to CLONE_NEWUSER, CLONE_NEWUTS, CLONE_NEWIPC,
CLONE_NEWPID and CLONE_NEWNS: interfaces, addresses, routes and sockets
of its own. As in ch05, any user can run it. Without COMMAND it starts
an interactive bash (or sh).

Try inside:     ip addr                  -> only lo, DOWN
With --map-root:
                ip link set lo up && ping -c1 127.0.0.1   -> a reply

Fallback tunnels (tunl0, sit0, ...) appear where their modules are
loaded on the host.

Without --map-root, `hostname x` and `mount -t proc` fail (EPERM): a
uid with no mapping keeps no capabilities across execve(2). With
--map-root, root inside is your own uid outside: files it creates on
the host belong to you.

PID 1 ignores every signal it has no handler for, so
`ch06-net -- sleep 100` shrugs off Ctrl-C and SIGTERM. To leave anyway,
press Ctrl-C twice (or send SIGTERM twice) within 3 seconds: the tool
then kills PID 1 with SIGKILL. Or run it with --init.

Options:
      --init    stay as a tiny init (PID 1) that runs COMMAND as PID 2,
                passes signals on to it and reaps orphans
      --map-root
                map uid and gid 0 inside to your own uid and gid
                outside (one line each in uid_map and gid_map)
  -h, --help    print this help

Exit status: the command's own; 128+N when it was killed by signal N;
125 when the namespace could not be made; 126 when COMMAND cannot be
executed; 127 when it is not found.
";

/// Docker's exit statuses for failures that are not the command's own.
const EXIT_TOOL_FAILED: u8 = 125;
const EXIT_CANNOT_EXECUTE: u8 = 126;
const EXIT_NOT_FOUND: u8 = 127;

/// A second Ctrl-C or SIGTERM within this time kills PID 1 (SIGKILL).
const INSIST_WINDOW_MS: u64 = 3000;

/// The child's stack: `clone` runs the child on memory we hand it.
const STACK_SIZE: usize = 1024 * 1024;

/// What the command line asked for.
struct Options {
    /// The command and its arguments; empty means an interactive shell.
    command: Vec<OsString>,
    /// `--init`: a tiny init is PID 1 and the command PID 2.
    init: bool,
    /// `--map-root`: root inside is the invoking user outside.
    map_root: bool,
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
    let mut init = false;
    let mut map_root = false;
    while let Some(arg) = args.next_if(is_option) {
        match arg.to_str() {
            Some("-h" | "--help") => return Ok(None),
            Some("--init") => init = true,
            Some("--map-root") => map_root = true,
            Some("--") => break,
            _ => return Err(format!("unknown option '{}'", arg.display())),
        }
    }
    Ok(Some(Options {
        command: args.collect(),
        init,
        map_root,
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
    let child_main =
        Box::new(|| child(&command, options.init, &go_read, &go_write));
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

    // The child waits for "go" while we write its maps.
    if options.map_root
        && let Err(failure) = write_id_maps(child_pid)
    {
        // SAFETY: kill(2) on our own child, which must not run unmapped.
        unsafe { libc::kill(child_pid.as_raw(), libc::SIGKILL) };
        wait_for(child_pid);
        return Err(failure);
    }

    // The child is set up: let it exec. `go_write` stays open until we
    // exit, so that the child can tell when we are gone.
    let _ = write(&go_write, b"!");
    let status = wait_for(child_pid);
    if let (Some(saved), true) = (terminal, status > 128) {
        restore_terminal(&saved);
    }
    Ok(status)
}

// ANCHOR: map_root
/// `--map-root`: uid and gid 0 inside stand for the invoking user's own
/// uid and gid outside. One line each: never more than we own. Without
/// privilege the kernel requires setgroups(2) to be denied first, so
/// that the new root cannot drop a group that was denying it access.
fn write_id_maps(child_pid: Pid) -> Result<(), Failure> {
    let write_proc = |file: &str, text: String| {
        let path = format!("/proc/{child_pid}/{file}");
        std::fs::write(&path, text).map_err(|error| Failure {
            what: format!("cannot write {path}"),
            errno: Errno::from_raw(error.raw_os_error().unwrap_or(0)),
        })
    };
    write_proc("setgroups", "deny".into())?;
    write_proc("gid_map", format!("0 {} 1\n", Gid::current()))?;
    write_proc("uid_map", format!("0 {} 1\n", Uid::current()))
}
// ANCHOR_END: map_root

// ANCHOR: child
/// Runs in the new namespaces. Returns a status only on failure.
fn child(
    command: &[CString],
    init: bool,
    go_read: &OwnedFd,
    go_write: &OwnedFd,
) -> isize {
    if !wait_for_go(go_read, go_write) {
        return EXIT_TOOL_FAILED.into();
    }
    // ANCHOR: private
    // First, before anything is mounted: make every mount in our copy of
    // the tree private, so that no mount or unmount in here propagates
    // to the host. On systemd hosts `/` is shared; the copy would be too.
    let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
    if let Err(errno) =
        mount(None::<&str>, "/", None::<&str>, private, None::<&str>)
    {
        eprintln!(
            "{TOOL}: cannot make / private (mount --make-rprivate /): {errno}"
        );
        if !Uid::effective().is_root() {
            eprintln!("hint: {APPARMOR_HINT}");
        }
        return EXIT_TOOL_FAILED.into();
    }
    // ANCHOR_END: private
    // We are PID 1 of the new PID namespace.
    if init {
        return run_as_init(command);
    }
    exec_command(command)
}
// ANCHOR_END: child

// ANCHOR: init
/// `--init`: stay as PID 1, run the command as PID 2, pass signals on to
/// it and reap every child, until the command exits; then exit with its
/// status, and the kernel ends whatever else still runs in here.
fn run_as_init(command: &[CString]) -> isize {
    // SAFETY: we are single-threaded; the child resets signals and execs.
    let command_pid = match unsafe { fork() } {
        Ok(ForkResult::Child) => return exec_command(command),
        Ok(ForkResult::Parent { child }) => child,
        Err(errno) => {
            eprintln!("{TOOL}: --init cannot start the command: {errno}");
            return EXIT_TOOL_FAILED.into();
        }
    };
    // Every signal is still blocked (the parent blocked them before
    // clone), so none is lost: we take them one at a time.
    let all = SigSet::all();
    loop {
        let mut info = MaybeUninit::<libc::siginfo_t>::uninit();
        // SAFETY: sigwaitinfo fills `info` when it returns a signal.
        let signal =
            unsafe { libc::sigwaitinfo(all.as_ref(), info.as_mut_ptr()) };
        if signal == libc::SIGCHLD {
            if let Some(status) = reap_children(command_pid) {
                return status.into();
            }
        } else if signal > 0 {
            // SAFETY: sigwaitinfo returned a signal, so it filled `info`.
            let from_terminal =
                unsafe { info.assume_init() }.si_code == libc::SI_KERNEL;
            // Ctrl-C from the terminal went to the command as well.
            if !from_terminal
                && FORWARDED_SIGNALS.iter().any(|s| *s as i32 == signal)
            {
                // SAFETY: kill(2) on our own child.
                unsafe { libc::kill(command_pid.as_raw(), signal) };
            }
        }
    }
}

/// Reaps every child that has ended: the command, and orphans the kernel
/// handed to PID 1. Returns the command's exit status once it is done.
fn reap_children(command_pid: Pid) -> Option<u8> {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == command_pid => {
                return Some(code as u8);
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == command_pid => {
                return Some(128 + signal as u8);
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}
// ANCHOR_END: init

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

/// When the last Ctrl-C, Ctrl-\\ or SIGTERM reached us (monotonic ms).
static LAST_PLEA_MS: AtomicU64 = AtomicU64::new(0);

/// Passes a signal sent to the tool on to the command.
extern "C" fn on_signal(signal: libc::c_int) {
    let child_pid = CHILD_PID.load(Ordering::Relaxed);
    // Ctrl-C and Ctrl-\ come from the terminal, which sends them to the
    // whole foreground process group: the command has them already.
    if signal != libc::SIGINT && signal != libc::SIGQUIT {
        // SAFETY: kill(2) is async-signal-safe; the PID is our own child's.
        unsafe { libc::kill(child_pid, signal) };
    }
    // ANCHOR: insist
    // PID 1 ignores the signals it has no handler for: `sleep` as PID 1
    // shrugs off Ctrl-C and SIGTERM. Asked twice within 3 s, we use
    // SIGKILL, which PID 1 cannot refuse from outside its namespace.
    if signal == libc::SIGTERM
        || signal == libc::SIGINT
        || signal == libc::SIGQUIT
    {
        let now = clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(0, |t| {
            t.tv_sec() as u64 * 1000 + t.tv_nsec() as u64 / 1_000_000
        });
        let last = LAST_PLEA_MS.swap(now, Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) <= INSIST_WINDOW_MS {
            let note = b"ch06-net: asked twice: PID 1 ignores signals it has \
                         no handler for, so sending SIGKILL\n";
            // SAFETY: write(2) and kill(2) are async-signal-safe.
            unsafe {
                libc::write(
                    libc::STDERR_FILENO,
                    note.as_ptr().cast(),
                    note.len(),
                );
                libc::kill(child_pid, libc::SIGKILL);
            }
        }
    }
    // ANCHOR_END: insist
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

/// Ubuntu 24.04 lets unprivileged users create a user namespace but
/// (through AppArmor) takes the capabilities away inside it.
const APPARMOR_HINT: &str = "if kernel.apparmor_restrict_unprivileged_userns \
    = 1 (Ubuntu 24.04), AppArmor denies unprivileged user namespaces \
    their capabilities: run as root, or see the book's troubleshooting";

/// A hint for the failures whose cause we know.
fn hint_for(failure: &Failure) -> Option<String> {
    let sysctl = |name: &str| {
        let path = format!("/proc/sys/{}", name.replace('.', "/"));
        std::fs::read_to_string(path)
            .map(|v| v.trim().to_string())
            .ok()
    };
    match failure.errno {
        Errno::EPERM | Errno::EACCES
            if failure.what.starts_with("cannot write /proc/") =>
        {
            Some(APPARMOR_HINT.into())
        }
        Errno::EPERM
            if sysctl("kernel.unprivileged_userns_clone").as_deref()
                == Some("0") =>
        {
            Some(
                "kernel.unprivileged_userns_clone = 0 (a Debian kernel \
                 setting): user namespaces are for root only; run as root \
                 or `sysctl -w kernel.unprivileged_userns_clone=1`"
                    .into(),
            )
        }
        Errno::EPERM if !Uid::effective().is_root() => Some(format!(
            "user namespaces are denied to unprivileged users here: \
             {APPARMOR_HINT}"
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
    format!(
        "a namespace limit was reached: check {}, and the nesting depth \
         (at most 32 PID or user namespaces)",
        listed.join(", ")
    )
}

impl Failure {
    fn new(what: &str, errno: Errno) -> Self {
        Failure {
            what: what.into(),
            errno,
        }
    }
}
