//! Waiting: the command's end becomes our exit status, and whatever it
//! left running is ended, so that nothing outlives the tool.
//!
//! The tool is a *subreaper* (`PR_SET_CHILD_SUBREAPER`): when a process
//! below it exits, its orphans become our children instead of init's.
//! That is how a tool without a PID namespace (ch01, ch02) can still
//! find and end what the command started in the background.

use std::ffi::CStr;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::unistd::Pid;

use crate::failure::Failure;

// ANCHOR: subreaper
/// Orphans below us become our children, so that we can end them.
pub fn become_subreaper() {
    // SAFETY: prctl(2) with an integer argument; it touches no memory.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}
// ANCHOR_END: subreaper

// ANCHOR: exit_status
/// The exit status `docker run` gives for how a process ended, from the
/// raw status that wait(2) returns: its exit code, or 128 + N when
/// signal N killed it. N may be a real-time signal (SIGRTMIN is 34), so
/// the status is decoded here, with the C macros, as `unshare(1)` and
/// runc do. `None` for a stop or a continue, which we never ask for.
pub fn exit_status(status: libc::c_int) -> Option<u8> {
    if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status) as u8)
    } else if libc::WIFSIGNALED(status) {
        Some(128u8.wrapping_add(libc::WTERMSIG(status) as u8))
    } else {
        None
    }
}
// ANCHOR_END: exit_status

/// One waitpid(2) for `pid` (-1: any child) with `flags`: the PID reaped
/// and its raw status, or `None` (with WNOHANG) when none has ended yet.
pub fn wait_raw(
    pid: libc::pid_t,
    flags: libc::c_int,
) -> Result<Option<(libc::pid_t, libc::c_int)>, Errno> {
    let mut status = 0;
    // SAFETY: waitpid(2) writes one int into `status`, which is ours.
    match unsafe { libc::waitpid(pid, &mut status, flags) } {
        -1 => Err(Errno::last()),
        0 => Ok(None),
        reaped => Ok(Some((reaped, status))),
    }
}

/// Waits until a child has ended and returns its PID, without reaping
/// it (`WNOWAIT`): its number stays ours until we reap it.
fn ended_child() -> Result<libc::pid_t, Errno> {
    // SAFETY: siginfo_t is plain data; all zeroes is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid(2) fills `info`, which is ours.
    let done = unsafe {
        libc::waitid(libc::P_ALL, 0, &mut info, libc::WEXITED | libc::WNOWAIT)
    };
    if done == -1 {
        return Err(Errno::last());
    }
    // SAFETY: waitid(2) succeeded with WEXITED, so it set si_pid.
    Ok(unsafe { info.si_pid() })
}

// ANCHOR: wait
/// Waits until `child` ends and returns its exit status, reaping the
/// orphans that reach us meanwhile. The signal handlers stop signalling
/// the command before it is reaped: after that its PID may be reused.
pub fn wait_for(child: Pid) -> Result<u8, Failure> {
    let failed = |errno| Failure::errno("cannot wait for the command", errno);
    loop {
        match ended_child() {
            Ok(pid) if pid == child.as_raw() => {
                crate::signals::child_ended();
                let reaped = loop {
                    match wait_raw(pid, 0) {
                        Err(Errno::EINTR) => continue,
                        other => break other,
                    }
                };
                return match reaped {
                    Ok(Some((_, status))) => {
                        Ok(exit_status(status)
                            .unwrap_or(crate::EXIT_TOOL_FAILED))
                    }
                    Ok(None) => Err(failed(Errno::ECHILD)),
                    Err(errno) => Err(failed(errno)),
                };
            }
            // An orphan ended: reap it and wait on.
            Ok(pid) => {
                let _ = wait_raw(pid, libc::WNOHANG);
            }
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(failed(errno)),
        }
    }
}
// ANCHOR_END: wait

/// `/proc`, opened once, while it shows our own PID namespace.
static PROC: OnceLock<Option<OwnedFd>> = OnceLock::new();

/// Opens `/proc` for later, if it is ours: its `self` names us. Call it
/// before anything can change which `/proc` the tool sees (joining
/// another mount namespace, a command mounting its own). True when it
/// is ours.
pub fn open_proc() -> bool {
    PROC.get_or_init(|| {
        let path = c"/proc";
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        // SAFETY: open(2) of a C string; we own the descriptor it returns.
        let fd = unsafe { libc::open(path.as_ptr(), flags) };
        if fd < 0 {
            return None;
        }
        // SAFETY: a descriptor that open(2) just returned to us.
        let proc = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut link = [0u8; 32];
        // SAFETY: readlinkat(2) writes at most `link.len()` bytes.
        let length = unsafe {
            libc::readlinkat(
                fd,
                c"self".as_ptr(),
                link.as_mut_ptr().cast(),
                link.len(),
            )
        };
        let me = std::process::id().to_string();
        let ours = usize::try_from(length)
            .is_ok_and(|length| &link[..length] == me.as_bytes());
        ours.then_some(proc)
    })
    .is_some()
}

/// Our `/proc`, if [`open_proc`] found it.
pub fn proc_dir() -> Option<BorrowedFd<'static>> {
    PROC.get()?.as_ref().map(|fd| {
        use std::os::fd::AsFd;
        fd.as_fd()
    })
}

// ANCHOR: leftovers
/// Ends every process still below us (they became our children as
/// orphans) with SIGKILL, and reaps them, until none is left. Each is
/// killed once, then waited for: a killed process takes a moment to go.
pub fn end_leftovers() {
    let mut killed = Vec::new();
    loop {
        match wait_raw(-1, libc::WNOHANG) {
            // One ended: look again.
            Ok(Some((pid, _))) => killed.retain(|&k| k != pid),
            // Children left, none ended yet: end them, wait for one.
            Ok(None) => {
                // Without our `/proc` they cannot be named; the tool said
                // so when it started, and does not wait for them.
                let Some(proc) = proc_dir() else { return };
                kill_children(proc, &mut killed);
                if let Ok(Some((pid, _))) = wait_raw(-1, 0) {
                    killed.retain(|&k| k != pid);
                }
            }
            Err(Errno::EINTR) => continue,
            // ECHILD: nothing is left.
            Err(_) => return,
        }
    }
}
// ANCHOR_END: leftovers

// ANCHOR: kill_children
/// Sends SIGKILL to each of our children found in `proc` (our own
/// `/proc`, see [`open_proc`]) that was not killed yet, and adds it to
/// `killed`.
fn kill_children(proc: BorrowedFd, killed: &mut Vec<libc::pid_t>) {
    let me = std::process::id();
    for pid in numbered_entries(proc) {
        if killed.contains(&pid) {
            continue;
        }
        let stat = read_at(proc, &format!("{pid}/stat"));
        if stat.and_then(|stat| parent_of(&stat)) == Some(me) {
            // SAFETY: kill(2); `pid` is our unreaped child, so the number
            // cannot have been given to another process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed.push(pid);
        }
    }
}
// ANCHOR_END: kill_children

/// The entries of the directory `dir` whose names are numbers.
fn numbered_entries(dir: BorrowedFd) -> Vec<libc::pid_t> {
    // SAFETY: open(2) of "." below `dir`: a new descriptor of our own,
    // with its own position, for fdopendir(3) to take.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c".".as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Vec::new();
    }
    // SAFETY: fdopendir takes `fd`, which we own, on success.
    let stream = unsafe { libc::fdopendir(fd) };
    if stream.is_null() {
        // SAFETY: fdopendir failed, so `fd` is still ours to close.
        unsafe { libc::close(fd) };
        return Vec::new();
    }
    let mut numbers = Vec::new();
    loop {
        // SAFETY: `stream` is an open directory stream.
        let entry = unsafe { libc::readdir(stream) };
        if entry.is_null() {
            break;
        }
        // SAFETY: d_name of an entry readdir(3) returned is a C string,
        // valid until the next readdir on `stream`.
        let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) };
        if let Some(number) = name.to_str().ok().and_then(|n| n.parse().ok()) {
            numbers.push(number);
        }
    }
    // SAFETY: closes the stream and `fd` with it; neither is used again.
    unsafe { libc::closedir(stream) };
    numbers
}

/// The text of the file `path` below the directory `dir`.
fn read_at(dir: BorrowedFd, path: &str) -> Option<String> {
    let path = std::ffi::CString::new(path).ok()?;
    // SAFETY: openat(2) of a C string; we own the descriptor it returns.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            path.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    // SAFETY: a descriptor that openat(2) just returned to us.
    let mut file = unsafe { File::from_raw_fd(fd) };
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    Some(text)
}

/// The parent PID in a `/proc/PID/stat` line. The command name in
/// parentheses may hold spaces and parentheses: read after the last `)`.
pub fn parent_of(stat: &str) -> Option<u32> {
    crate::proc_self::Stat::parse(stat).map(|stat| stat.parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_follow_docker() {
        // Raw statuses as the kernel encodes them (see wait(2)).
        assert_eq!(exit_status(42 << 8), Some(42));
        assert_eq!(exit_status(libc::SIGTERM), Some(143));
        assert_eq!(exit_status(libc::SIGKILL | 0x80), Some(137));
        assert_eq!(exit_status(libc::SIGRTMIN()), Some(162));
        assert_eq!(exit_status(libc::SIGRTMAX()), Some(192));
        // Stopped by SIGSTOP, and continued: not an end.
        assert_eq!(exit_status((libc::SIGSTOP << 8) | 0x7f), None);
        assert_eq!(exit_status(0xffff), None);
    }

    #[test]
    fn the_parent_is_read_after_the_command_name() {
        let tail = "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0";
        let sleep = format!("42 (sleep) S 7 42 42 0 {tail}");
        assert_eq!(parent_of(&sleep), Some(7));
        let odd = format!("42 (a) b) (c) R 99 1 1 {tail}");
        assert_eq!(parent_of(&odd), Some(99));
        assert_eq!(parent_of("garbage"), None);
    }
}
