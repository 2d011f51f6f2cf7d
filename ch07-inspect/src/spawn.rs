//! `spawn CGROUP -- COMMAND`: clone3 with CLONE_PIDFD and
//! CLONE_INTO_CGROUP (Linux 5.7).

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;

use crate::clone3::{CloneArgs, clone3};
use crate::{Failure, Result, TOOL, usage_error};

pub const HELP: &str = "\
ch07-inspect spawn: start a command in a cgroup, and hold it by a pidfd

Usage: ch07-inspect spawn CGROUP -- COMMAND [ARG...]

One clone3(2) call does what a runtime needs at a container's start:
CLONE_INTO_CGROUP puts the child in CGROUP (a directory of the cgroup
v2 hierarchy) as it is born, before it runs anything, and CLONE_PIDFD
returns a pidfd for it, a descriptor that names this process and never
a later one with the same number. The tool waits for the child through
the pidfd (waitid P_PIDFD), then says which PID and pidfd it got (on
stderr). Needs Linux >= 5.7 and the right to write to CGROUP's
cgroup.procs. A plain demonstration: no signals are passed on.

Try it in a throwaway mount namespace (unshare --mount bash):
  mount -t cgroup2 none /mnt && mkdir /mnt/demo
  ch07-inspect spawn /mnt/demo -- cat /proc/self/cgroup

Exit status: the command's own; 128+N when it was killed by signal N;
125 when the tool fails; 126 when COMMAND cannot be executed and 127
when it is not found.
";

const USAGE: &str = "spawn CGROUP -- COMMAND [ARG...]";

/// CLONE_INTO_CGROUP, from linux/sched.h: it does not fit in clone(2)'s
/// int flags, so libc's c_int constant for it overflows.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

pub fn command(args: Vec<OsString>) -> Result<u8> {
    let mut args = args.into_iter();
    let cgroup = args.next().filter(|a| a != "--");
    let dashes = args.next();
    let command: Vec<CString> = args
        .map(|a| CString::new(a.as_bytes()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| usage_error("an argument with a NUL", USAGE))?;
    let (Some(cgroup), Some("--"), false) = (
        cgroup,
        dashes.as_ref().and_then(|d| d.to_str()),
        command.is_empty(),
    ) else {
        return Err(usage_error("spawn needs CGROUP, --, COMMAND", USAGE));
    };
    let dir = std::fs::File::open(&cgroup).map_err(|e| {
        Failure::new(format!("cannot open {}: {e}", cgroup.display()))
            .hint("name a directory of the cgroup v2 hierarchy")
    })?;
    // ANCHOR: spawn
    let mut pidfd: libc::c_int = -1;
    let clone_args = CloneArgs {
        flags: libc::CLONE_PIDFD as u64 | CLONE_INTO_CGROUP,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: dir.as_raw_fd() as u64,
        ..Default::default()
    };
    // SAFETY: clone3(2) writes `pidfd` and reads the cgroup's fd, which
    // both live across the call. We are single-threaded, and the child
    // only execs or calls _exit(2).
    let pid = unsafe { clone3(&clone_args) }.map_err(spawn_failure)?;
    if pid == 0 {
        // The child, in CGROUP from its first instruction on.
        let errno = nix::unistd::execvp(&command[0], &command).unwrap_err();
        let name = command[0].to_string_lossy();
        nslab::output::say(TOOL, &format!("cannot run {name}: {errno}"));
        let status = if errno == Errno::ENOENT { 127 } else { 126 };
        // SAFETY: _exit(2) ends the child without running the parent's
        // exit handlers or flushing its buffers twice.
        unsafe { libc::_exit(status) };
    }
    // SAFETY: clone3 returned a new pidfd in `pidfd`; nobody else owns it.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    // SAFETY: waitid(2) writes the zeroed siginfo_t we own.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid(2) with P_PIDFD waits for the child that our pidfd
    // names, and fills `info`.
    let waited = unsafe {
        libc::waitid(
            libc::P_PIDFD,
            pidfd.as_raw_fd() as libc::id_t,
            &mut info,
            libc::WEXITED,
        )
    };
    // ANCHOR_END: spawn
    if waited < 0 {
        let errno = Errno::last();
        return Err(Failure::errno(
            "cannot wait for the child (waitid)",
            errno,
        ));
    }
    // SAFETY: waitid filled `info` for an exited or killed child.
    let status = unsafe { info.si_status() };
    // Said once the child has ended, so that its output comes first.
    nslab::output::say(
        TOOL,
        &format!(
            "clone3: PID {pid} was born in {}, waited for by pidfd {}",
            cgroup.display(),
            pidfd.as_raw_fd()
        ),
    );
    Ok(match info.si_code {
        libc::CLD_EXITED => status as u8,
        _ => 128u8.wrapping_add(status as u8),
    })
}

fn spawn_failure(errno: Errno) -> Failure {
    let failure = Failure::errno("cannot start the child (clone3)", errno);
    match errno {
        Errno::ENOSYS => failure.hint("clone3 needs Linux >= 5.3"),
        Errno::EINVAL | Errno::E2BIG => {
            failure.hint("CLONE_INTO_CGROUP needs Linux >= 5.7")
        }
        Errno::EBADF | Errno::EOPNOTSUPP => failure.hint(
            "CGROUP must be a directory of the cgroup v2 hierarchy (not v1)",
        ),
        Errno::EACCES | Errno::EPERM => {
            failure.hint("we may not write to CGROUP's cgroup.procs")
        }
        _ => failure,
    }
}
