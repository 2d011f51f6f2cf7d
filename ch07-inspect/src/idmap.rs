//! `idmap USERNS SRC DST`: an idmapped bind mount (Linux 5.12).

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

use crate::{Failure, Result, usage_error, words};

pub const HELP: &str = "\
ch07-inspect idmap: an idmapped bind mount of SRC on DST

Usage: ch07-inspect idmap USERNS SRC DST

Binds SRC on DST with the id map of the user namespace that the file
USERNS names (/proc/PID/ns/user): a file that SRC shows as owned by
uid N, DST shows as owned by the uid that N maps to, and what is
created through DST is stored with the uid mapped back. Nothing is
chowned. open_tree(2) copies SRC's mount, mount_setattr(2) with
MOUNT_ATTR_IDMAP gives the copy the map (Linux 5.12; the file system
must support it), move_mount(2) attaches it on DST. Needs root.
(util-linux >= 2.39: mount --bind --map-users=USERNS SRC DST.)

Try it in a throwaway mount namespace: unshare --mount bash.
";

const USAGE: &str = "idmap USERNS SRC DST";

fn path(text: &str) -> Result<CString> {
    CString::new(text).map_err(|_| usage_error("a path with a NUL", USAGE))
}

fn failed(what: &str) -> Failure {
    let errno = Errno::last();
    let failure = Failure::errno(what, errno);
    match errno {
        Errno::ENOSYS => failure.hint("idmapped mounts need Linux >= 5.12"),
        Errno::EINVAL => failure
            .hint("the file system of SRC may not support idmapped mounts"),
        Errno::EPERM => failure.hint(
            "idmapped mounts need root, and a map other than the initial \
             user namespace's",
        ),
        _ => failure,
    }
}

pub fn command(args: Vec<OsString>) -> Result<u8> {
    let words = words(args, USAGE)?;
    let [userns, src, dst] = words.as_slice() else {
        return Err(usage_error("idmap needs USERNS, SRC and DST", USAGE));
    };
    let userns = std::fs::File::open(userns).map_err(|e| {
        Failure::new(format!("cannot open {userns}: {e}"))
            .hint("name a user namespace file: /proc/PID/ns/user")
    })?;
    let (src, dst) = (path(src)?, path(dst)?);
    // ANCHOR: idmap
    let flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC;
    // SAFETY: open_tree(2) reads the NUL-terminated path; the result is
    // checked, and owned below when it is a descriptor.
    let tree = unsafe {
        libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, src.as_ptr(), flags)
    };
    if tree < 0 {
        return Err(failed("cannot copy the mount of SRC (open_tree)"));
    }
    // SAFETY: open_tree returned a new descriptor that nobody else owns.
    let tree = unsafe { OwnedFd::from_raw_fd(tree as libc::c_int) };
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    // SAFETY: mount_setattr(2) reads the empty path and `attr`, whose
    // size it is given; the descriptors are ours and open.
    let set = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            &attr as *const libc::mount_attr,
            size_of::<libc::mount_attr>(),
        )
    };
    if set < 0 {
        return Err(failed("cannot give the copy an id map (mount_setattr)"));
    }
    // SAFETY: move_mount(2) reads the two NUL-terminated paths and uses
    // the descriptor we own; the result is checked.
    let moved = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            dst.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    // ANCHOR_END: idmap
    if moved < 0 {
        return Err(failed("cannot attach the copy on DST (move_mount)"));
    }
    Ok(0)
}
