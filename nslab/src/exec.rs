//! The last step in the child: exec the command, or say why not.

use std::ffi::CString;

use nix::errno::Errno;
use nix::unistd::execvp;

use crate::{EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND};
use crate::{output, shell};

// ANCHOR: fds
/// Marks every descriptor above stderr close-on-exec, so the command
/// inherits only 0, 1 and 2, whatever the tool was started with.
pub fn close_inherited_fds() {
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
// ANCHOR_END: fds

// ANCHOR: exec
/// Replaces this process with `command` (an interactive shell, bash or
/// sh, when it is empty); returns the exit status only when that fails.
/// The caller has given back the inherited signal dispositions.
pub fn exec_command(tool: &str, command: &[CString]) -> u8 {
    close_inherited_fds();
    let errno = if command.is_empty() {
        shell::exec_shell(tool)
    } else {
        execvp(&command[0], command).unwrap_err()
    };
    // SIGPIPE was given back for the command; for our own message it is
    // ignored again, so that a closed stderr costs the message and not
    // the status.
    // SAFETY: SIG_IGN installs no code of ours.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let name = command
        .first()
        .map_or("bash".into(), |c| c.to_string_lossy());
    if errno == Errno::ENOENT {
        output::stderr(&format!(
            "{tool}: cannot run '{name}': command not found ({errno})\n\
             hint: check the name, and PATH inside the namespace\n"
        ));
        EXIT_NOT_FOUND
    } else {
        output::stderr(&format!(
            "{tool}: cannot execute '{name}': {errno}\n\
             hint: is it a file with execute permission?\n"
        ));
        EXIT_CANNOT_EXECUTE
    }
}
// ANCHOR_END: exec
