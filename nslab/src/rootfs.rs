//! `--root DIR`: what the tool checks about DIR before `clone`, so
//! that a bad DIR is one line and a hint, with no namespace made and the
//! host untouched; and the bind of DIR that the chapter's `pivot_into`
//! stands in before `pivot_root`.
//!
//! DIR is looked up once. [`check`] opens it, checks what it opened,
//! and makes it the tool's working directory; `clone(2)` gives the child
//! its working directory in its own copy of the mount tree, and
//! [`bind_here`] binds and enters that. A path that names another
//! directory by then (a symlink flipped between a checked root and a
//! `noexec` one) changes nothing: the path is not looked up again.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open, openat};
use nix::sys::stat::{Mode, fstat, stat};
use nix::unistd::fchdir;

use crate::failure::Failure;

/// What every hint about DIR suggests.
const MAKE_ONE: &str =
    "make a root file system with `sh ch04-mount/make-rootfs.sh DIR`";

// ANCHOR: check
/// Refuses a DIR that `pivot_root` would refuse, or that would make a
/// puzzling container: missing, not a directory, the host's own `/`,
/// on a read-only, `nosuid` or `noexec` mount (inside a user namespace
/// those flags are locked: `mount -o remount,rw /` would fail there),
/// or, for an interactive shell, without `/bin/bash` or `/bin/sh` in
/// it. DIR is opened once, the checks look at what was opened, and the
/// tool then stands in it: the child of `clone` starts in DIR.
pub fn check(dir: &Path, interactive: bool) -> Result<(), Failure> {
    let fd = open_checked(dir, interactive)?;
    fchdir(fd.as_fd()).map_err(|errno| {
        Failure::errno(format!("cannot enter --root {}", dir.display()), errno)
    })
}

/// DIR, opened once (`O_PATH`) and checked as [`check`] says.
fn open_checked(dir: &Path, interactive: bool) -> Result<OwnedFd, Failure> {
    let shown = dir.display();
    let what = || format!("--root {shown}");
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let fd = open(dir, flags, Mode::empty()).map_err(|errno| {
        Failure::errno(what(), errno).hint(open_hint(errno))
    })?;
    // Looking up "." in DIR needs what entering it needs: search
    // permission (a mode-0700 DIR of another owner would fail in the
    // child).
    let flags = OFlag::O_PATH | OFlag::O_CLOEXEC;
    if let Err(errno) = openat(&fd, ".", flags, Mode::empty()) {
        return Err(Failure::errno(what(), errno).hint(format!(
            "the user who runs the tool (uid {}) must be allowed to search \
             DIR (`ls -ld DIR`): `chmod a+x DIR`, or run as its owner",
            nix::unistd::geteuid()
        )));
    }
    let (opened, host_root) = (fstat(&fd), stat("/"));
    if let (Ok(opened), Ok(host_root)) = (opened, host_root)
        && (opened.st_dev, opened.st_ino)
            == (host_root.st_dev, host_root.st_ino)
    {
        return Err(Failure::new(format!(
            "--root {shown} is the host's own /"
        ))
        .hint(format!("nothing would change; {MAKE_ONE}")));
    }
    let flags = nix::sys::statvfs::fstatvfs(&fd)
        .map_err(|errno| Failure::errno(what(), errno))?
        .flags();
    use nix::sys::statvfs::FsFlags;
    for (flag, what, option) in [
        (FsFlags::ST_RDONLY, "read-only", "ro"),
        (FsFlags::ST_NOSUID, "nosuid", "nosuid"),
        (FsFlags::ST_NOEXEC, "noexec", "noexec"),
    ] {
        if flags.contains(flag) {
            return Err(Failure::new(format!(
                "--root {shown} is on a {what} mount"
            ))
            .hint(format!(
                "the container's / would be {what} too (locked so in a user \
                 namespace); copy DIR to a mount without `{option}` \
                 (`findmnt -T DIR` shows the options)"
            )));
        }
    }
    if interactive && !["bin/bash", "bin/sh"].iter().any(|s| has(&fd, s)) {
        return Err(Failure::new(format!(
            "--root {shown} has no shell (no /bin/bash, no /bin/sh)"
        ))
        .hint(format!("give a command to run in it, or {MAKE_ONE}")));
    }
    Ok(fd)
}
// ANCHOR_END: check

/// The hint for a DIR that cannot be opened or entered.
fn open_hint(errno: Errno) -> String {
    match errno {
        Errno::ENAMETOOLONG => "DIR is longer than PATH_MAX (4096 bytes): \
                                `cd` to a directory nearer to it and give \
                                the rest as a relative path"
            .into(),
        Errno::EACCES => format!(
            "the user who runs the tool (uid {}) must be allowed to search \
             every directory on the way to DIR (`namei -l DIR` shows them)",
            nix::unistd::geteuid()
        ),
        _ => MAKE_ONE.into(),
    }
}

// ANCHOR: bind_here
/// In the child, before `pivot_root`: binds the working directory (DIR,
/// which [`check`] entered; `clone` carried it into our copy of the
/// mount tree) onto itself, with what is mounted below it, and enters
/// the bind, so that `.` is a mount `pivot_root(".", ".")` can move.
/// `open_tree` and `move_mount` (Linux 5.2) do with descriptors what
/// `mount --rbind DIR DIR; cd DIR` does with the path.
pub fn bind_here() -> Result<(), Failure> {
    let flags = libc::OPEN_TREE_CLONE
        | libc::OPEN_TREE_CLOEXEC
        | (libc::AT_RECURSIVE | libc::AT_EMPTY_PATH) as libc::c_uint;
    // SAFETY: open_tree(2) reads the empty NUL-terminated path; the
    // result is checked and, when it is a descriptor, owned below.
    let tree = unsafe {
        libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c"".as_ptr(), flags)
    };
    if tree < 0 {
        return Err(bind_failure("cannot copy DIR's mounts (open_tree)"));
    }
    // SAFETY: open_tree returned a new descriptor that nobody else owns.
    let tree = unsafe { OwnedFd::from_raw_fd(tree as libc::c_int) };
    let flags = libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH;
    // SAFETY: move_mount(2) reads the two empty NUL-terminated paths and
    // uses the descriptor we own; the result is checked.
    let moved = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            c"".as_ptr(),
            flags,
        )
    };
    if moved < 0 {
        return Err(bind_failure("cannot bind DIR onto itself (move_mount)"));
    }
    fchdir(tree.as_fd()).map_err(|errno| {
        Failure::errno("cannot enter the bind of DIR", errno).hint(
            "DIR must be searchable by the container's user; in a user \
             namespace, privileges do not reach a file whose owner is not \
             mapped in it (`chmod a+x DIR`, or run as DIR's owner)",
        )
    })
}
// ANCHOR_END: bind_here

fn bind_failure(what: &str) -> Failure {
    let errno = Errno::last();
    let failure = Failure::errno(what, errno);
    match errno {
        Errno::ENOSYS => failure.hint("--root needs Linux 5.2 or later"),
        _ => failure,
    }
}

/// True when `path` exists under `root`, resolved as it will be once
/// `root` is `/`: an absolute symlink (`/bin/sh -> /bin/busybox`) must
/// not be followed into the host's tree. `openat2(RESOLVE_IN_ROOT)`
/// does exactly that.
fn has(root: &OwnedFd, path: &str) -> bool {
    let Ok(path) = CString::new(path) else {
        return false;
    };
    // SAFETY: open_how is plain data; all zeroes is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_IN_ROOT;
    // SAFETY: openat2(2) reads `how` (of the size we pass) and `path`,
    // a NUL-terminated string; the result is checked.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return false;
    }
    // SAFETY: openat2 returned a new descriptor that we own; dropping
    // the OwnedFd closes it.
    drop(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) });
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir()
            .join(format!("nslab-rootfs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        dir
    }

    #[test]
    fn a_missing_dir_gets_the_script_as_hint() {
        let failure =
            open_checked(Path::new("/nslab/no/such/dir"), false).unwrap_err();
        assert_eq!(failure.os_error(), Some(Errno::ENOENT));
        assert!(failure.hint_text().unwrap().contains("make-rootfs.sh"));
    }

    #[test]
    fn a_file_is_not_a_root() {
        let failure =
            open_checked(Path::new("/etc/hostname"), false).unwrap_err();
        assert_eq!(failure.os_error(), Some(Errno::ENOTDIR));
    }

    #[test]
    fn a_shell_is_looked_up_inside_the_root() {
        let dir = scratch("shell");
        // Absolute: it would name the host's /bin/sh if followed as is.
        std::os::unix::fs::symlink("/bin/sh", dir.join("bin/sh")).unwrap();
        let failure = open_checked(&dir, true).unwrap_err();
        assert!(failure.to_string().contains("has no shell"), "{failure}");
        // A command instead of a shell needs no shell.
        assert!(open_checked(&dir, false).is_ok());
        std::fs::write(dir.join("bin/busybox"), "").unwrap();
        std::fs::remove_file(dir.join("bin/sh")).unwrap();
        std::os::unix::fs::symlink("/bin/busybox", dir.join("bin/sh")).unwrap();
        assert!(open_checked(&dir, true).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_hosts_own_root_is_refused_with_a_hint() {
        let failure = open_checked(Path::new("/"), false).unwrap_err();
        assert!(failure.to_string().contains("host's own /"), "{failure}");
        assert!(failure.hint_text().unwrap().contains("make-rootfs.sh"));
    }

    #[test]
    fn a_dir_longer_than_path_max_is_told_so() {
        let long = "./".repeat(libc::PATH_MAX as usize);
        let failure = open_checked(Path::new(&long), false).unwrap_err();
        assert_eq!(failure.os_error(), Some(Errno::ENAMETOOLONG));
        let hint = failure.hint_text().unwrap();
        assert!(hint.contains("PATH_MAX"), "{hint}");
        assert!(!hint.contains("make-rootfs.sh"), "{hint}");
    }
}
