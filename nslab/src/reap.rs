//! Waiting: the command's end becomes our exit status, and whatever it
//! left running is ended, so that nothing outlives the tool.
//!
//! The tool is a *subreaper* (`PR_SET_CHILD_SUBREAPER`): when a process
//! below it exits, its orphans become our children instead of init's.
//! That is how a tool without a PID namespace (ch01, ch02) can still
//! find and end what the command started in the background.

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
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
/// The exit status `docker run` gives for how a process ended.
pub fn exit_status(status: WaitStatus) -> Option<u8> {
    match status {
        WaitStatus::Exited(_, code) => Some(code as u8),
        WaitStatus::Signaled(_, signal, _) => Some(128 + signal as u8),
        _ => None,
    }
}
// ANCHOR_END: exit_status

// ANCHOR: wait
/// Waits until `child` ends and returns its exit status, reaping the
/// orphans that reach us meanwhile.
pub fn wait_for(child: Pid) -> Result<u8, Failure> {
    loop {
        match waitpid(None, None) {
            Ok(status) if status.pid() == Some(child) => {
                if let Some(code) = exit_status(status) {
                    crate::signals::child_ended();
                    return Ok(code);
                }
            }
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(errno) => {
                return Err(Failure::errno(
                    "cannot wait for the command",
                    errno,
                ));
            }
        }
    }
}
// ANCHOR_END: wait

// ANCHOR: leftovers
/// Ends every process still below us (they became our children as
/// orphans) with SIGKILL, and reaps them, until none is left.
pub fn end_leftovers() {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            // One ended: look again.
            Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) => continue,
            // Children left, none ended yet: end them.
            Ok(_) => {
                if !kill_children() {
                    // We cannot name them: wait for them instead.
                    let _ = waitpid(None, None);
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
/// Sends SIGKILL to each of our children, found in `/proc`. False when
/// `/proc` cannot tell: it is missing, or it belongs to another PID
/// namespace (its numbers would name other processes).
fn kill_children() -> bool {
    let me = std::process::id();
    let ours = std::fs::read_link("/proc/self")
        .is_ok_and(|link| link.as_os_str() == me.to_string().as_str());
    if !ours {
        return false;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    let mut found = false;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        if stat.ok().and_then(|stat| parent_of(&stat)) == Some(me) {
            found = true;
            // SAFETY: kill(2); `pid` is our unreaped child, so the number
            // cannot have been given to another process.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
    found
}
// ANCHOR_END: kill_children

/// The parent PID in a `/proc/PID/stat` line. The command name in
/// parentheses may hold spaces and parentheses: read after the last `)`.
pub fn parent_of(stat: &str) -> Option<u32> {
    crate::proc_self::Stat::parse(stat).map(|stat| stat.parent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::signal::Signal;

    #[test]
    fn exit_statuses_follow_docker() {
        let pid = Pid::from_raw(7);
        assert_eq!(exit_status(WaitStatus::Exited(pid, 42)), Some(42));
        assert_eq!(
            exit_status(WaitStatus::Signaled(pid, Signal::SIGTERM, false)),
            Some(143)
        );
        assert_eq!(
            exit_status(WaitStatus::Signaled(pid, Signal::SIGKILL, true)),
            Some(137)
        );
        assert_eq!(exit_status(WaitStatus::StillAlive), None);
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
