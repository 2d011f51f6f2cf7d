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
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;

use nix::errno::Errno;
use nix::sys::memfd::{MFdFlags, memfd_create};
use nix::sys::stat::{fstat, stat};
use nix::unistd::{AccessFlags, access, execvp, execvpe, write};

use crate::output;

// ANCHOR: shell
/// Replaces this process with an interactive shell: bash, or sh where
/// there is no bash, each with `tool` in front of its prompt. Returns
/// the errno only when neither can be executed.
pub fn exec_shell(tool: &str) -> Errno {
    // A shell is interactive (reads a start-up file, shows a prompt)
    // when its stdin and stderr are terminals.
    let interactive =
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let chapters = chapters(tool);
    let user_has_env = std::env::var_os("ENV").is_some();
    // In POSIX mode bash ignores --rcfile and reads `$ENV`, as sh does.
    let errno = if !bash_is_posix() {
        let rc =
            interactive.then(|| StartupFile::new(tool, &chapters, bash_rc));
        match rc.flatten() {
            Some(rc) => execvp(c"bash", &[c"bash", c"--rcfile", rc.path()]),
            None => execvp(c"bash", &[c"bash"]),
        }
    } else {
        let rc = (interactive && !user_has_env)
            .then(|| StartupFile::new(tool, &chapters, sh_rc));
        match rc.flatten() {
            Some(rc) => execvpe(c"bash", &[c"bash"], &env_naming(rc.path())),
            None => execvp(c"bash", &[c"bash"]),
        }
    }
    .unwrap_err();
    // The article runs bash; a minimal system may only have sh.
    if errno != Errno::ENOENT {
        return errno;
    }
    let sh_rc = (interactive && !user_has_env)
        .then(|| StartupFile::new(tool, &chapters, sh_rc));
    match sh_rc.flatten() {
        Some(rc) => execvpe(c"sh", &[c"sh"], &env_naming(rc.path())),
        None => execvp(c"sh", &[c"sh"]),
    }
    .unwrap_err()
}

/// bash's start-up file: close our descriptor, read the user's own rc
/// file as bash would have, then name the chapter in the prompt.
fn bash_rc(chapters: &str, fd: RawFd) -> String {
    format!(
        "exec {fd}<&-\n\
         if [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n\
         {}",
        name_in_prompt(chapters)
    )
}

/// sh's (and bash's in POSIX mode): close our descriptor, unset `ENV`
/// (it names this file, which a shell started inside would look for),
/// then name the chapter. sh has no rc file of its own to read: only
/// `$ENV`, which the user had not set.
fn sh_rc(chapters: &str, fd: RawFd) -> String {
    format!(
        "exec {fd}<&-\n\
         unset ENV\n\
         {}",
        name_in_prompt(chapters)
    )
}

/// Names the chapters in front of the prompt, and keeps them in
/// `NSLAB_CHAPTERS` for the shells started inside. The text is ours
/// (checked by [`chapters`]): nothing in it is expanded or run.
fn name_in_prompt(chapters: &str) -> String {
    format!(
        "NSLAB_CHAPTERS='{chapters}'\n\
         export NSLAB_CHAPTERS\n\
         PS1=\"({chapters}) ${{PS1-}}\"\n"
    )
}
// ANCHOR_END: shell

/// The chapters this shell is started in, outer first: `ch01-uts >
/// ch02-ipc` for chapter 2 started inside chapter 1's shell. What the
/// environment says is used only when it is a list of chapter names
/// that a shell of ours could have set, and not too long to show; any
/// other `NSLAB_CHAPTERS` (`$(rm ...)`, 50 KB) is not ours, and the
/// prompt names this chapter alone.
fn chapters(tool: &str) -> String {
    chapters_after(std::env::var("NSLAB_CHAPTERS").ok(), tool)
}

/// [`chapters`], given what the environment says.
fn chapters_after(outer: Option<String>, tool: &str) -> String {
    let outer = outer.filter(|outer| {
        outer.len() <= 200
            && outer.split(" > ").all(|name| {
                !name.is_empty()
                    && name.bytes().all(|b| {
                        b.is_ascii_lowercase()
                            || b.is_ascii_digit()
                            || b == b'-'
                    })
            })
    });
    match outer {
        Some(outer) => format!("{outer} > {tool}"),
        None => tool.to_string(),
    }
}

/// True when bash will start in POSIX mode, where it reads `$ENV` and
/// not `--rcfile`: `POSIXLY_CORRECT` in the environment, or `posix` in
/// an exported `SHELLOPTS`.
fn bash_is_posix() -> bool {
    std::env::var_os("POSIXLY_CORRECT").is_some()
        || std::env::var("SHELLOPTS")
            .is_ok_and(|options| options.split(':').any(|o| o == "posix"))
}

/// A start-up file that exists only as a descriptor the shell inherits
/// (a memfd, not close-on-exec), named by `/proc/self/fd/N`.
struct StartupFile {
    _fd: OwnedFd,
    path: CString,
}

impl StartupFile {
    /// The file with `text(chapters, N)` in it, or None when the shell
    /// could not read it (no `/proc` of ours) or could not close it (sh
    /// knows only descriptors 0 to 9; then the tool says so).
    fn new(
        tool: &str,
        chapters: &str,
        text: fn(&str, RawFd) -> String,
    ) -> Option<Self> {
        let fd = memfd_create(c"nslab-rc", MFdFlags::empty()).ok()?;
        let Some(fd) = below_ten(fd) else {
            output::say(
                tool,
                "descriptors 3 to 9 are all in use: the prompt does not \
                 name the chapter",
            );
            return None;
        };
        let number = fd.as_raw_fd();
        let text = text(chapters, number);
        if write(&fd, text.as_bytes()).ok()? != text.len() {
            return None;
        }
        let path = CString::new(format!("/proc/self/fd/{number}")).ok()?;
        // The shell will open the path: it must be this memfd, in a
        // `/proc` of ours, and not a file of that name in a `--root DIR`.
        let (ours, named) = (fstat(&fd).ok()?, stat(path.as_c_str()).ok()?);
        if (ours.st_dev, ours.st_ino) != (named.st_dev, named.st_ino) {
            return None;
        }
        access(path.as_c_str(), AccessFlags::R_OK).ok()?;
        Some(StartupFile { _fd: fd, path })
    }

    fn path(&self) -> &CStr {
        &self.path
    }
}

/// `fd` as a descriptor from 3 to 9, the ones sh can close: moved onto
/// the first one that is free or close-on-exec. Those are the caller's,
/// which the command does not inherit: exec closes them anyway.
fn below_ten(fd: OwnedFd) -> Option<OwnedFd> {
    if fd.as_raw_fd() <= 9 {
        return Some(fd);
    }
    let target = (3..=9).find(|&n| {
        // SAFETY: F_GETFD only reads the flags of descriptor n, if open.
        let flags = unsafe { libc::fcntl(n, libc::F_GETFD) };
        flags < 0 || flags & libc::FD_CLOEXEC != 0
    })?;
    // SAFETY: dup2(2) puts a copy of our memfd on `target`, which is free
    // or close-on-exec (nobody in this process reads it before exec).
    if unsafe { libc::dup2(fd.as_raw_fd(), target) } != target {
        return None;
    }
    // SAFETY: dup2 made `target` a new descriptor that we now own.
    Some(unsafe { OwnedFd::from_raw_fd(target) })
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
            assert!(text.ends_with("PS1=\"(ch03-pid) ${PS1-}\"\n"), "{text}");
            assert!(text.contains("NSLAB_CHAPTERS='ch03-pid'\n"), "{text}");
        }
        assert!(bash_rc("ch03-pid", 4).contains(". ~/.bashrc"));
        assert!(sh_rc("ch03-pid", 4).contains("unset ENV"));
    }

    #[test]
    fn only_chapter_names_are_taken_from_the_environment() {
        let outer = |text: &str| chapters_after(Some(text.into()), "ch02-ipc");
        assert_eq!(outer("ch01-uts"), "ch01-uts > ch02-ipc");
        assert_eq!(
            outer("ch01-uts > ch04-mount"),
            "ch01-uts > ch04-mount > ch02-ipc"
        );
        assert_eq!(chapters_after(None, "ch02-ipc"), "ch02-ipc");
        for hostile in [
            "$(touch /tmp/x)",
            "`id`",
            "a'b",
            "x\\n",
            "",
            " > ",
            "ch01-uts >",
        ] {
            assert_eq!(outer(hostile), "ch02-ipc", "{hostile}");
        }
        assert_eq!(outer(&"ch01-uts > ".repeat(5000)), "ch02-ipc");
    }
}
