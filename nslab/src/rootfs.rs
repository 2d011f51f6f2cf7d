//! `--root DIR`: what the tool checks about DIR before `clone`, so
//! that a bad DIR is one line and a hint, with no namespace made and the
//! host untouched. The move itself (bind, `pivot_root`, detach) is the
//! chapter's lesson, in ch04's `pivot_into`.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;

use crate::failure::Failure;

/// What every hint about DIR suggests.
const MAKE_ONE: &str =
    "make a root file system with `sh ch04-mount/make-rootfs.sh DIR`";

// ANCHOR: check
/// Refuses a DIR that `pivot_root` would refuse, or that would make a
/// puzzling container: missing, not a directory, on a read-only,
/// `nosuid` or `noexec` mount (inside a user namespace those flags are
/// locked: `mount -o remount,rw /` would fail there), or, for an
/// interactive shell, without `/bin/bash` or `/bin/sh` in it.
pub fn check(dir: &Path, interactive: bool) -> Result<(), Failure> {
    let shown = dir.display();
    let meta = std::fs::metadata(dir).map_err(|error| {
        Failure::io(format!("--root {shown}"), &error).hint(MAKE_ONE)
    })?;
    if !meta.is_dir() {
        return Err(Failure::errno(format!("--root {shown}"), Errno::ENOTDIR)
            .hint(MAKE_ONE));
    }
    let flags = nix::sys::statvfs::statvfs(dir)
        .map_err(|errno| Failure::errno(format!("--root {shown}"), errno))?
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
    if interactive && !["bin/bash", "bin/sh"].iter().any(|s| has(dir, s)) {
        return Err(Failure::new(format!(
            "--root {shown} has no shell (no /bin/bash, no /bin/sh)"
        ))
        .hint(format!("give a command to run in it, or {MAKE_ONE}")));
    }
    Ok(())
}
// ANCHOR_END: check

/// True when `path` exists under `root`, resolved as it will be once
/// `root` is `/`: an absolute symlink (`/bin/sh -> /bin/busybox`) must
/// not be followed into the host's tree. `openat2(RESOLVE_IN_ROOT)`
/// does exactly that.
fn has(root: &Path, path: &str) -> bool {
    let (Ok(dir), Ok(path)) = (std::fs::File::open(root), CString::new(path))
    else {
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
            dir.as_raw_fd(),
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
            check(Path::new("/nslab/no/such/dir"), false).unwrap_err();
        assert_eq!(failure.os_error(), Some(Errno::ENOENT));
        assert!(failure.hint_text().unwrap().contains("make-rootfs.sh"));
    }

    #[test]
    fn a_file_is_not_a_root() {
        let failure = check(Path::new("/etc/hostname"), false).unwrap_err();
        assert_eq!(failure.os_error(), Some(Errno::ENOTDIR));
    }

    #[test]
    fn a_shell_is_looked_up_inside_the_root() {
        let dir = scratch("shell");
        // Absolute: it would name the host's /bin/sh if followed as is.
        std::os::unix::fs::symlink("/bin/sh", dir.join("bin/sh")).unwrap();
        let failure = check(&dir, true).unwrap_err();
        assert!(failure.to_string().contains("has no shell"), "{failure}");
        // A command instead of a shell needs no shell.
        assert!(check(&dir, false).is_ok());
        std::fs::write(dir.join("bin/busybox"), "").unwrap();
        std::fs::remove_file(dir.join("bin/sh")).unwrap();
        std::os::unix::fs::symlink("/bin/busybox", dir.join("bin/sh")).unwrap();
        assert!(check(&dir, true).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
