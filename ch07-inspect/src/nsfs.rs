//! What every subcommand shares: the 8 namespace types, the links in
//! `/proc/PID/ns`, how to tell two namespaces apart, and `ioctl_ns(2)`.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, SFlag, fstat};
use nix::sys::statfs::{NSFS_MAGIC, PROC_SUPER_MAGIC, fstatfs, statfs};
use nix::unistd::Uid;

use crate::Failure;

/// The 8 types: one table, in `nslab`, that the chapters' hints use too.
pub use nslab::namespaces::{KINDS, Kind, kind_named, kind_of_flag};

/// Every link in `/proc/PID/ns`: the 8 types, plus the PID and time
/// namespaces that the process's *next children* will be in.
pub const LINKS: [&str; 10] = [
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "time_for_children",
    "user",
    "uts",
];

// ANCHOR: identity
/// A namespace's identity. The link text `net:[4026531833]` shows only
/// the inode; the kernel documents that the pair (device, inode) of the
/// nsfs file is what identifies a namespace, so we compare both, from
/// stat(2) on the link (which follows it to the namespace's nsfs file).
#[derive(Debug, PartialEq, Eq, Clone, Copy, PartialOrd, Ord, Hash)]
pub struct NsId {
    pub dev: u64,
    pub ino: u64,
}

impl NsId {
    pub fn of_path(path: impl AsRef<Path>) -> std::io::Result<NsId> {
        let meta = std::fs::metadata(path)?;
        Ok(NsId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// The namespace of the link `name` in the directory `dir` (a
    /// `/proc/PID/ns` opened before), whatever `/proc` is now.
    pub fn at(dir: &File, name: &std::ffi::CStr) -> Option<NsId> {
        use std::os::fd::AsRawFd;
        // SAFETY: stat is plain data; all zeroes is a valid value.
        let mut meta: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstatat(2) of a C string below an open directory; it
        // fills `meta`, which is ours.
        let done = unsafe {
            libc::fstatat(dir.as_raw_fd(), name.as_ptr(), &mut meta, 0)
        };
        (done == 0).then_some(NsId {
            dev: meta.st_dev,
            ino: meta.st_ino,
        })
    }

    pub fn of_file(file: &File) -> std::io::Result<NsId> {
        let meta = file.metadata()?;
        Ok(NsId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}
// ANCHOR_END: identity

/// Fails unless procfs is mounted on /proc: without it (a chroot, a
/// mount namespace that unmounted it) every answer would be empty.
pub fn require_proc() -> Result<(), Failure> {
    let mounted = statfs("/proc")
        .is_ok_and(|fs| fs.filesystem_type() == PROC_SUPER_MAGIC);
    if mounted {
        return Ok(());
    }
    Err(
        Failure::new("/proc is not mounted (no procfs at /proc)").hint(
            "everything this tool shows comes from /proc: `mount -t proc proc \
         /proc` (in a chroot or a new mount namespace)",
        ),
    )
}

/// Why a `/proc/PID/...` file could not be read, as a one-line error.
pub fn proc_failure(pid: i32, path: &str, error: &std::io::Error) -> Failure {
    if let Err(no_proc) = require_proc() {
        return no_proc;
    }
    if pid != 0 && !Path::new(&format!("/proc/{pid}")).exists() {
        return no_such_process(pid);
    }
    match Errno::from_raw(error.raw_os_error().unwrap_or(0)) {
        errno @ (Errno::EACCES | Errno::EPERM) => {
            let failure = Failure::new(format!(
                "cannot read {path}: permission denied ({errno:?})"
            ));
            failure.hint(denied_hint())
        }
        errno => Failure::errno(format!("cannot read {path}"), errno),
    }
}

/// Why the kernel may refuse us another process's namespace files.
pub fn denied_hint() -> String {
    if Uid::effective().is_root() {
        "we are root, and still the kernel's ptrace access check refused: \
         the process is in a user namespace that ours does not own, or a \
         security module (Yama ptrace_scope, SELinux, AppArmor) forbids it"
            .into()
    } else {
        format!(
            "reading another user's namespaces needs the right to ptrace \
             it: run as root, `{}`",
            nslab::failure::sudo_command("ch07-inspect")
        )
    }
}

pub fn no_such_process(pid: i32) -> Failure {
    Failure::new(format!("no process with PID {pid}")).hint(
        "the process may have exited: `ps -e` lists the processes, and \
         `ch07-inspect list` the namespaces",
    )
}

/// What kind of file a `stat` mode is, in words.
pub fn file_type_words(mode: libc::mode_t) -> &'static str {
    match SFlag::from_bits_truncate(mode & libc::S_IFMT) {
        SFlag::S_IFIFO => "a FIFO",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        SFlag::S_IFDIR => "a directory",
        SFlag::S_IFLNK => "a symbolic link",
        SFlag::S_IFSOCK => "a socket",
        _ => "a regular file",
    }
}

// ANCHOR: open_namespace
/// Opens `path` for `setns` and `ioctl_ns`, but only when it is a
/// namespace file. `open(2)` for reading has side effects on some
/// files: it blocks on a FIFO until a writer comes, and opens a device
/// for real. An `O_PATH` open has none: it only looks the path up.
/// When `fstatfs` says the file is on nsfs, we open it for reading
/// through `/proc/self/fd` (setns and ioctl refuse an `O_PATH` fd).
pub fn open_namespace(path: &str) -> Result<File, Failure> {
    let not_found = |errno| {
        let failure = Failure::errno(format!("cannot open {path}"), errno);
        match errno {
            Errno::ENOENT | Errno::ENOTDIR => failure.hint(
                "give a PID, a /proc/PID/ns/TYPE file or a file made by \
                 `keep`",
            ),
            Errno::EACCES | Errno::EPERM => failure.hint(denied_hint()),
            // EMFILE and the like: the errno's own hint.
            _ => failure,
        }
    };
    let fd =
        nix::fcntl::open(path, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(not_found)?;
    let on_nsfs =
        fstatfs(&fd).map_err(not_found)?.filesystem_type() == NSFS_MAGIC;
    if !on_nsfs {
        let what =
            fstat(&fd).map_or("not on nsfs", |st| file_type_words(st.st_mode));
        return Err(Failure::new(format!(
            "{path} is not a namespace file ({what})"
        ))
        .hint("give a PID, a /proc/PID/ns/TYPE file, or a file made by `ch07-inspect keep`"));
    }
    reopen(&fd).map_err(not_found)
}
// ANCHOR_END: open_namespace

/// Opens `path` for reading only when it leads to a namespace file,
/// with the same `O_PATH` look first as [`open_namespace`], for paths
/// read from /proc: by the time we open `/proc/PID/fd/N`, the fd may
/// have been closed and its number reused for a FIFO or a device.
pub fn open_nsfs(path: &str) -> std::io::Result<File> {
    let fd = nix::fcntl::open(
        path,
        OFlag::O_PATH | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    if fstatfs(&fd)?.filesystem_type() != NSFS_MAGIC {
        return Err(std::io::ErrorKind::NotFound.into());
    }
    Ok(reopen(&fd)?)
}

/// Opens for reading the very file that an `O_PATH` descriptor names.
pub fn reopen(fd: &impl AsFd) -> Result<File, Errno> {
    let path = format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd());
    nix::fcntl::open(
        path.as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map(File::from)
}

/// Parses a PID argument.
pub fn parse_pid(text: &str) -> Result<i32, Failure> {
    match text.parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(pid),
        _ => Err(Failure::new(format!("'{text}' is not a PID"))
            .hint("a PID is a positive number, such as `$$` or 1")),
    }
}

/// The command name of a process (`/proc/PID/comm`), or "?" when it has
/// gone.
pub fn comm(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/comm")).map_or_else(
        |_| "?".into(),
        |c| escape(String::from_utf8_lossy(c.trim_ascii_end()).as_ref()),
    )
}

/// A process's own words made safe to print, as lsns does: a control
/// character (a newline that would fake a row) and the backslash become
/// `\xNN`; bytes that are not UTF-8 were already shown as U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '\\' {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// True when `pid` is a zombie: it has exited, and its parent has not
/// reaped it yet. A zombie is in no namespace: its links point nowhere.
pub fn is_zombie(pid: i32) -> bool {
    u32::try_from(pid)
        .ok()
        .and_then(nslab::proc_self::Stat::of)
        .is_some_and(|stat| stat.state == 'Z')
}

// ANCHOR: ioctl
// ioctl_ns(2) requests: _IO(0xb7, n), no data direction, no size.
pub const NS_GET_USERNS: libc::Ioctl = (0xb7 << 8) | 0x1;
pub const NS_GET_PARENT: libc::Ioctl = (0xb7 << 8) | 0x2;
pub const NS_GET_NSTYPE: libc::Ioctl = (0xb7 << 8) | 0x3;
pub const NS_GET_OWNER_UID: libc::Ioctl = (0xb7 << 8) | 0x4;

/// `NS_GET_USERNS` or `NS_GET_PARENT`: a new fd for the owning user
/// namespace or the parent namespace.
pub fn ns_get_fd(ns: &File, request: libc::Ioctl) -> Result<File, Errno> {
    // SAFETY: these two requests take no argument and return a new fd.
    let fd = unsafe { libc::ioctl(ns.as_raw_fd(), request) };
    Errno::result(fd)?;
    // SAFETY: the kernel just gave us this fd; nothing else owns it.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// `NS_GET_NSTYPE`: which type of namespace a file refers to.
pub fn ns_get_type(ns: &File) -> Result<Kind, Errno> {
    // SAFETY: NS_GET_NSTYPE takes no argument and returns a CLONE_NEW*.
    let flag = unsafe { libc::ioctl(ns.as_raw_fd(), NS_GET_NSTYPE) };
    Errno::result(flag)?;
    kind_of_flag(flag).ok_or(Errno::EINVAL)
}

/// `NS_GET_OWNER_UID`: the uid (in the caller's user namespace) of the
/// user who created a user namespace.
pub fn ns_get_owner_uid(ns: &File) -> Result<u32, Errno> {
    let mut uid: libc::uid_t = 0;
    // SAFETY: the kernel writes one uid_t through the pointer we pass,
    // which points to a live local variable.
    let result = unsafe {
        libc::ioctl(
            ns.as_raw_fd(),
            NS_GET_OWNER_UID,
            &mut uid as *mut libc::uid_t,
        )
    };
    Errno::result(result)?;
    Ok(uid)
}
// ANCHOR_END: ioctl

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_shows_control_characters_and_backslashes_as_lsns_does() {
        assert_eq!(escape("a\nb\tc"), "a\\x0ab\\x09c");
        assert_eq!(escape("a\\x0a"), "a\\x5cx0a");
        assert_eq!(escape("\u{85}"), "\\xc2\\x85");
        assert_eq!(escape("héllo \u{fffd}"), "héllo \u{fffd}");
    }
}
