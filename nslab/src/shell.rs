//! The interactive shell that runs when no COMMAND is given: `bash`, as
//! the article runs it (or `sh` where there is no bash), with the tool's
//! name in front of its prompt, `(ch03-pid) root@host:~#`, so that a
//! shell inside a chapter never looks like one on the host.
//!
//! The prompt is set the way `nix-shell` sets its own: bash starts with
//! `--rcfile FILE`, a start-up file of ours that reads `~/.bashrc` (bash
//! reads `/etc/bash.bashrc` before it either way, where it is built to),
//! then puts the name in front of whatever `PS1` those files set. `sh`
//! (dash, busybox) reads the file that `$ENV` names instead. The file is
//! a memfd, read through `/proc/self/fd/N`: nothing is written to any
//! file system, and the file's first line closes the descriptor, so the
//! commands typed in the shell inherit only 0, 1 and 2 as always.
//! Where that cannot work (no terminal, so the shell is not interactive;
//! no `/proc`, as under `--root DIR` until one is mounted; an `$ENV` of
//! the user's own for sh), the shell starts as it would have without us.

use std::ffi::{CStr, CString};
use std::io::IsTerminal;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::unistd::{AccessFlags, access, execvp, execvpe, write};

// ANCHOR: shell
/// Replaces this process with an interactive shell: bash, or sh where
/// there is no bash, each with `tool` in front of its prompt. Returns
/// the errno only when neither can be executed.
pub fn exec_shell(tool: &str) -> Errno {
    // A shell is interactive (reads a start-up file, shows a prompt)
    // when its stdin and stderr are terminals.
    let interactive =
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let bash_rc = interactive.then(|| StartupFile::new(tool, bash_rc));
    let errno = match bash_rc.flatten() {
        Some(rc) => execvp(c"bash", &[c"bash", c"--rcfile", rc.path()]),
        None => execvp(c"bash", &[c"bash"]),
    }
    .unwrap_err();
    // The article runs bash; a minimal system may only have sh.
    if errno != Errno::ENOENT {
        return errno;
    }
    let user_has_env = std::env::var_os("ENV").is_some();
    let sh_rc =
        (interactive && !user_has_env).then(|| StartupFile::new(tool, sh_rc));
    match sh_rc.flatten() {
        Some(rc) => execvpe(c"sh", &[c"sh"], &env_naming(rc.path())),
        None => execvp(c"sh", &[c"sh"]),
    }
    .unwrap_err()
}

/// bash's start-up file: close our descriptor, read the user's own rc
/// file as bash would have, then name the chapter in the prompt.
fn bash_rc(tool: &str, fd: RawFd) -> String {
    format!(
        "exec {fd}<&-\n\
         if [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n\
         {}",
        name_in_prompt(tool)
    )
}

/// sh's: close our descriptor, unset `ENV` (it names this file, which a
/// shell started inside would look for), then name the chapter. sh has
/// no rc file of its own to read: only `$ENV`, which the user had not
/// set.
fn sh_rc(tool: &str, fd: RawFd) -> String {
    format!(
        "exec {fd}<&-\n\
         unset ENV\n\
         {}",
        name_in_prompt(tool)
    )
}

/// Names the chapter in front of the prompt, after the chapters this
/// shell was started in (`NSLAB_CHAPTERS`, which the shells inside
/// inherit): a chapter started inside another one's shell shows
/// `(ch01-uts > ch02-ipc)`, one chapter too many for what a page shows.
fn name_in_prompt(tool: &str) -> String {
    format!(
        "NSLAB_CHAPTERS=\"${{NSLAB_CHAPTERS:+$NSLAB_CHAPTERS > }}{tool}\"\n\
         export NSLAB_CHAPTERS\n\
         PS1=\"($NSLAB_CHAPTERS) ${{PS1-}}\"\n"
    )
}
// ANCHOR_END: shell

/// A start-up file that exists only as a descriptor the shell inherits
/// (a memfd, not close-on-exec), named by `/proc/self/fd/N`.
struct StartupFile {
    _fd: OwnedFd,
    path: CString,
}

impl StartupFile {
    /// The file with `text(tool, N)` in it, or None when the shell could
    /// not read it (no `/proc`) or could not close it (sh knows only
    /// descriptors 0 to 9).
    fn new(tool: &str, text: fn(&str, RawFd) -> String) -> Option<Self> {
        let fd = memfd_create(c"nslab-rc", MFdFlags::empty()).ok()?;
        let number = fd.as_raw_fd();
        if number > 9 {
            return None;
        }
        let text = text(tool, number);
        if write(&fd, text.as_bytes()).ok()? != text.len() {
            return None;
        }
        let path = CString::new(format!("/proc/self/fd/{number}")).ok()?;
        access(path.as_c_str(), AccessFlags::R_OK).ok()?;
        Some(StartupFile { _fd: fd, path })
    }

    fn path(&self) -> &CStr {
        &self.path
    }
}

/// This process's environment with `ENV=path`.
fn env_naming(path: &CStr) -> Vec<CString> {
    let mut env: Vec<CString> = std::env::vars_os()
        .filter(|(name, _)| name != "ENV")
        .filter_map(|(name, value)| {
            let mut entry = name.as_bytes().to_vec();
            entry.push(b'=');
            entry.extend_from_slice(value.as_bytes());
            CString::new(entry).ok()
        })
        .collect();
    let mut entry = b"ENV=".to_vec();
    entry.extend_from_slice(path.to_bytes());
    env.extend(CString::new(entry).ok());
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_up_files_close_their_descriptor_first() {
        for rc in [bash_rc, sh_rc] {
            let text = rc("ch03-pid", 4);
            assert!(text.starts_with("exec 4<&-\n"), "{text}");
            assert!(
                text.ends_with("PS1=\"($NSLAB_CHAPTERS) ${PS1-}\"\n"),
                "{text}"
            );
            assert!(text.contains(" > }ch03-pid\"\n"), "{text}");
        }
        assert!(bash_rc("ch03-pid", 4).contains(". ~/.bashrc"));
        assert!(sh_rc("ch03-pid", 4).contains("unset ENV"));
    }
}
