//! The last step in the child: exec the command, or say why not.

use std::ffi::{CStr, CString, OsStr};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

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
    let marked = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if marked != 0 {
        // CLOSE_RANGE_CLOEXEC is Linux 5.11; before it (or under a
        // seccomp filter) mark each open descriptor, as util-linux does.
        mark_each_fd_cloexec();
    }
}
// ANCHOR_END: fds

/// Sets close-on-exec on every open descriptor above stderr, one at a
/// time: those listed in `/proc/self/fd`, or where `/proc` is missing,
/// every number below the `RLIMIT_NOFILE` limit (an fd above it cannot
/// be open unless the limit was lowered after opening it; up to 65536).
fn mark_each_fd_cloexec() {
    let listed: Option<Vec<i32>> =
        std::fs::read_dir("/proc/self/fd").ok().map(|dir| {
            dir.flatten()
                .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
                .collect()
        });
    let numbers = listed.unwrap_or_else(|| {
        let mut limit = libc::rlimit {
            rlim_cur: 1024,
            rlim_max: 1024,
        };
        // SAFETY: getrlimit(2) writes one rlimit to a live local.
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        (0..limit.rlim_cur.min(65536) as i32).collect()
    });
    for fd in numbers.into_iter().filter(|&fd| fd > 2) {
        // SAFETY: fcntl(2) F_GETFD/F_SETFD only read and set the flag of
        // a descriptor number; a closed one fails with EBADF, harmlessly.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

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
    let missing = command.first().and_then(|c| missing_interpreter(c));
    if let (Errno::ENOENT, Some(what)) = (errno, missing) {
        output::stderr(&format!(
            "{tool}: cannot run '{name}': its interpreter (ELF loader or #! \
             line) was not found ({errno})\n\
             hint: '{name}' exists, but {what}\n"
        ));
        EXIT_NOT_FOUND
    } else if errno == Errno::ENOENT {
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

/// When execve(2) says ENOENT for a file that exists, what it could not
/// find is what runs the file: the program named on its `#!` line, or
/// the ELF interpreter (the dynamic loader) named in its `PT_INTERP`.
/// Says which, in words; `None` when no such file is there.
fn missing_interpreter(name: &CStr) -> Option<String> {
    let name = Path::new(OsStr::from_bytes(name.to_bytes()));
    // As execvp: a name with a slash is a path, others are looked up
    // in PATH (glibc's default where it is unset).
    let file = if name.as_os_str().as_bytes().contains(&b'/') {
        Some(name.to_path_buf())
    } else {
        let path = std::env::var_os("PATH").unwrap_or("/bin:/usr/bin".into());
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    }?;
    let mut head = Vec::new();
    std::fs::File::open(&file)
        .ok()?
        .take(64 * 1024)
        .read_to_end(&mut head)
        .ok()?;
    if let Some(line) = head.strip_prefix(b"#!") {
        let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
        let interpreter = String::from_utf8_lossy(line);
        let interpreter = interpreter.split_whitespace().next().unwrap_or("");
        return Some(format!(
            "its #! line names '{interpreter}', which is not there: \
             install it, or correct that line"
        ));
    }
    if head.starts_with(b"\x7fELF") {
        let loader = elf_interpreter(&head)
            .map_or(String::new(), |loader| format!(" '{loader}'"));
        return Some(format!(
            "its ELF interpreter{loader} (the dynamic loader) is not there: \
             a program built for another system (another libc or \
             architecture)?"
        ));
    }
    None
}

/// The `PT_INTERP` path of an ELF file (32 or 64 bits, little endian),
/// from its first bytes.
fn elf_interpreter(elf: &[u8]) -> Option<String> {
    let bytes = |at: usize, n: usize| -> Option<u64> {
        let field = elf.get(at..at + n)?;
        Some(field.iter().rev().fold(0, |v, &b| (v << 8) | u64::from(b)))
    };
    if elf.get(5) != Some(&1) {
        return None;
    }
    // (e_phoff, e_phentsize, e_phnum, p_offset, p_filesz, word size)
    let (phoff, entsize, num, offset, size, word) = match elf.get(4)? {
        1 => (0x1c, 0x2a, 0x2c, 4, 0x10, 4),
        2 => (0x20, 0x36, 0x38, 8, 0x20, 8),
        _ => return None,
    };
    let (table, entsize) = (bytes(phoff, word)?, bytes(entsize, 2)?);
    for i in 0..bytes(num, 2)? {
        let header = usize::try_from(table + i * entsize).ok()?;
        if bytes(header, 4)? == 3 {
            let start = usize::try_from(bytes(header + offset, word)?).ok()?;
            let length = usize::try_from(bytes(header + size, word)?).ok()?;
            let text = elf.get(start..start + length)?;
            let text = text.strip_suffix(&[0]).unwrap_or(text);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
    }
    None
}
