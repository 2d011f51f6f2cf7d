//! `keep PID TYPE PATH` and `release PATH`: a namespace outlives its
//! last process while a bind mount of its `/proc/PID/ns` file exists.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::signal::{SigSet, SigmaskHow, sigprocmask};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat};
use nix::sys::statfs::{NSFS_MAGIC, fstatfs};
use nix::unistd::{Uid, UnlinkatFlags, unlinkat};

use crate::nsfs::{
    Kind, NsId, file_type_words, kind_named, ns_get_type, parse_pid,
    proc_failure, reopen, require_proc,
};
use crate::walk::{o_path, open_dir, split};
use crate::{Failure, Result, usage_error, words};

pub const HELP_KEEP: &str = "\
ch07-inspect keep: keep a namespace alive after its processes exit

Usage: ch07-inspect keep PID TYPE PATH

Bind-mounts /proc/PID/ns/TYPE on a new empty file PATH, as
`ip netns add` does. While the mount exists the namespace is not
freed, even when no process is left in it: `ch07-inspect enter PATH`
joins it, `ch07-inspect list` shows it with 0 processes, and
`ch07-inspect release PATH` lets it go.

Where PATH's directory is on a shared mount (/ under systemd, or
/run/netns once `ip netns add` has run: ip makes it a shared mount
point so that its names show in every mount namespace), the bind mount
propagates to the peer mounts in other mount namespaces, exactly as
ip's does; keep says so, and release's unmount propagates in the same
way and takes every copy back. keep adds no other mount. So
`keep PID net /run/netns/NAME` works beside ip: `ip netns exec NAME`,
`ip netns list` and `ip netns delete NAME` work on it.

PATH is walked once, from file descriptors: its directory is opened
component by component, following only symbolic links owned by root
(or by you), and the file is created and mounted on through that
descriptor, so a user who owns a directory on the way cannot redirect
the mount. Signals wait while the file is created and mounted; only
SIGKILL can leave the empty file behind, and release removes it.

Try: ch07-inspect keep PID uts /tmp/uts      (PID of a ch01-uts shell
     that ran `hostname bash`), exit that shell, then
     ch07-inspect enter /tmp/uts hostname     -> bash
";

pub const HELP_RELEASE: &str = "\
ch07-inspect release: undo keep

Usage: ch07-inspect release PATH

Unmounts the namespace file at PATH (lazily, as `ip netns delete`
does, and in every peer mount namespace the mount propagated to) and
removes the file. The kernel frees the namespace once nothing else
holds it: no process in it, no open file descriptor, no other bind
mount, no child namespace. A symbolic link at PATH is not followed. An
empty file that an interrupted keep left (mode 0444, nothing mounted on
it) is removed. Works on the names `ip netns add` makes, too.

Try: ch07-inspect release /tmp/uts
";

pub fn keep_command(args: Vec<OsString>) -> Result<u8> {
    let usage = "keep PID TYPE PATH";
    let words = words(args, usage)?;
    let [pid, kind, path] = words.as_slice() else {
        return Err(usage_error("keep needs PID, TYPE and PATH", usage));
    };
    let (pid, kind) = (parse_pid(pid)?, kind_named(kind)?);
    require_proc()?;
    let source_path = format!("/proc/{pid}/ns/{}", kind.name);
    let source = File::open(&source_path)
        .map_err(|e| proc_failure(pid, &source_path, &e))?;
    let id = NsId::of_file(&source)
        .map_err(|e| Failure::io(format!("cannot stat {source_path}"), &e))?;
    let (parent, name) = split(path)?;
    let dir = open_dir(&parent)?;
    if let Some(existing) = stat_at(&dir, &name, path)? {
        return Err(exists(path, &existing));
    }
    let kept = {
        // No signal may stop us between creating the file and mounting
        // on it (SIGKILL still can: release removes what it leaves).
        let _signals = BlockedSignals::new();
        bind_namespace(&source, &source_path, kind, &dir, &name, path)?
    };
    outln!(
        "kept {}:[{}] of PID {pid} at {path} (a bind mount of {source_path})",
        kind.name,
        id.ino,
    );
    outln!(
        "{path} now has inode {}: the namespace outlives PID {pid}; enter \
         it with `ch07-inspect enter {path}`, free it with `ch07-inspect \
         release {path}`",
        kept.st_ino
    );
    if let Some(group) = propagation(&dir, &name) {
        outln!(
            "{path} is on a shared mount ({group}): the mount propagated to \
             its peers in other mount namespaces, as `ip netns add`'s do; \
             release takes it back from them too"
        );
    }
    Ok(0)
}

/// What keep says when PATH is there already.
fn exists(path: &str, existing: &FileStat) -> Failure {
    let failure = Failure::new(format!("{path} exists"));
    if is_leftover(existing) {
        failure.hint(
            "an empty 0444 file: what a keep killed half-way leaves; \
             `ch07-inspect release` removes it",
        )
    } else {
        failure.hint(
            "keep makes a new file: choose a new path, or `release` the \
             old one",
        )
    }
}

// ANCHOR: keep
/// Creates the empty file in the directory we walked and bind-mounts
/// the namespace on it, both through descriptors: `/proc/self/fd/N`
/// names exactly the file we opened, whatever its name means by now.
/// On failure, the file goes again. Returns what PATH is now.
fn bind_namespace(
    source: &File,
    source_path: &str,
    kind: Kind,
    dir: &OwnedFd,
    name: &OsStr,
    path: &str,
) -> Result<FileStat> {
    let flags = OFlag::O_CREAT
        | OFlag::O_EXCL
        | OFlag::O_NOFOLLOW
        | OFlag::O_RDONLY
        | OFlag::O_CLOEXEC;
    let file = openat(dir, name, flags, Mode::from_bits_truncate(0o444))
        .map_err(|errno| {
            Failure::errno(format!("cannot create {path}"), errno)
        })?;
    let bound = mount(
        Some(fd_path(source).as_str()),
        fd_path(&file).as_str(),
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    );
    if let Err(errno) = bound {
        remove_if_same(dir, name, &file);
        return Err(bind_failure(source_path, path, kind, errno));
    }
    // Through the name, as anyone will see it: the namespace's inode.
    fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|errno| Failure::errno(format!("cannot stat {path}"), errno))
}
// ANCHOR_END: keep

fn bind_failure(source: &str, path: &str, kind: Kind, errno: Errno) -> Failure {
    let failure =
        Failure::errno(format!("cannot bind-mount {source} on {path}"), errno);
    match errno {
        Errno::EPERM if !Uid::effective().is_root() => failure.hint(format!(
            "mounting needs root: `{}`",
            nslab::failure::sudo_command("ch07-inspect")
        )),
        Errno::EINVAL if kind.name == "mnt" => failure.hint(
            "a mount namespace cannot be kept inside itself or a newer \
             one: keep it from the host's mount namespace",
        ),
        _ => failure,
    }
}

/// `/proc/self/fd/N`: a path that means exactly the open file `fd`.
fn fd_path(fd: &impl AsFd) -> String {
    format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd())
}

/// What `name` in `dir` is, without following a link; `None` if absent.
fn stat_at(
    dir: &OwnedFd,
    name: &OsStr,
    path: &str,
) -> Result<Option<FileStat>> {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(stat)),
        Err(Errno::ENOENT) => Ok(None),
        Err(errno) => Err(Failure::errno(format!("cannot stat {path}"), errno)),
    }
}

/// Removes `name` from `dir` only while it is still the file `ours`.
fn remove_if_same(dir: &OwnedFd, name: &OsStr, ours: &impl AsFd) -> bool {
    let (Ok(now), Ok(mine)) = (
        fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW),
        fstat(ours),
    ) else {
        return false;
    };
    (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino)
        && unlinkat(dir, name, UnlinkatFlags::NoRemoveDir).is_ok()
}

/// An empty regular file with mode 0444, owned by us: what keep leaves
/// when SIGKILL ends it between creating the file and mounting on it.
fn is_leftover(stat: &FileStat) -> bool {
    let kind = SFlag::from_bits_truncate(stat.st_mode & libc::S_IFMT);
    kind == SFlag::S_IFREG
        && stat.st_size == 0
        && stat.st_mode & 0o7777 == 0o444
        && stat.st_uid == Uid::effective().as_raw()
}

/// The peer group (`shared:N`) of the mount at `name`, if it has one.
fn propagation(dir: &OwnedFd, name: &OsStr) -> Option<String> {
    let fd = openat(dir, name, o_path(), Mode::empty()).ok()?;
    let mount_id = mount_id(&fd)?;
    let table = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let line = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&mount_id.to_string()))?;
    let (left, _) = line.split_once(" - ")?;
    left.split_whitespace()
        .skip(6)
        .find(|f| f.starts_with("shared:"))
        .map(Into::into)
}

/// The id of the mount that `fd` is on (statx STATX_MNT_ID, Linux 5.8).
fn mount_id(fd: &OwnedFd) -> Option<u64> {
    // SAFETY: statx is plain data; all zeroes is a valid value.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel fills `stx`, a live local of the right type; the
    // empty path with AT_EMPTY_PATH means the fd itself.
    let status = unsafe {
        libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_MNT_ID,
            &mut stx,
        )
    };
    (status == 0 && stx.stx_mask & libc::STATX_MNT_ID != 0)
        .then_some(stx.stx_mnt_id)
}

/// Blocks every signal that can be blocked, until dropped.
struct BlockedSignals(Option<SigSet>);

impl BlockedSignals {
    fn new() -> BlockedSignals {
        let mut old = SigSet::empty();
        let blocked = sigprocmask(
            SigmaskHow::SIG_SETMASK,
            Some(&SigSet::all()),
            Some(&mut old),
        );
        BlockedSignals(blocked.ok().map(|()| old))
    }
}

impl Drop for BlockedSignals {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(old), None);
        }
    }
}

// ANCHOR: release
pub fn release_command(args: Vec<OsString>) -> Result<u8> {
    let usage = "release PATH";
    let words = words(args, usage)?;
    let [path] = words.as_slice() else {
        return Err(usage_error("release needs one PATH", usage));
    };
    require_proc()?;
    let (parent, name) = split(path)?;
    let dir = open_dir(&parent)?;
    let _turn = lock(&dir);
    // O_NOFOLLOW: a link at PATH is not what keep made. The open
    // crosses into the mount on PATH, if any: `fd` is its nsfs file.
    let fd = openat(&dir, name.as_os_str(), o_path(), Mode::empty()).map_err(
        |errno| {
            let failure =
                Failure::errno(format!("cannot release {path}"), errno);
            match errno {
                Errno::ENOENT => failure.hint(
                    "nothing is there (released already?): `ch07-inspect \
                     list` shows kept namespaces with 0 processes",
                ),
                _ => failure,
            }
        },
    )?;
    let stat = fstat(&fd).map_err(|errno| {
        Failure::errno(format!("cannot stat {path}"), errno)
    })?;
    let on_nsfs = fstatfs(&fd)
        .map_err(|errno| {
            Failure::errno(format!("cannot statfs {path}"), errno)
        })?
        .filesystem_type()
        == NSFS_MAGIC;
    if !on_nsfs {
        return remove_leftover(&dir, &name, path, &stat);
    }
    let file = reopen(&fd).map_err(|errno| {
        Failure::errno(format!("cannot open {path}"), errno)
    })?;
    let kind = ns_get_type(&file).map_err(|errno| {
        Failure::errno(format!("{path}: NS_GET_NSTYPE"), errno)
    })?;
    drop(file);
    // Detach exactly the mount we opened (our fd keeps it busy, so not
    // MNT_DETACH would be EBUSY); the unmount propagates to its peers.
    umount2(fd_path(&fd).as_str(), MntFlags::MNT_DETACH).map_err(|errno| {
        let failure = Failure::errno(format!("cannot unmount {path}"), errno);
        if errno == Errno::EPERM && !Uid::effective().is_root() {
            failure.hint(format!(
                "unmounting needs root: `{}`",
                nslab::failure::sudo_command("ch07-inspect")
            ))
        } else {
            failure
        }
    })?;
    drop(fd);
    // The name now shows the empty file keep (or ip netns add) made.
    // Gone already (`ip netns delete` beside us): nothing is left.
    let removed = match stat_at(&dir, &name, path)? {
        None => true,
        Some(under) => {
            SFlag::from_bits_truncate(under.st_mode & libc::S_IFMT)
                == SFlag::S_IFREG
                && matches!(
                    unlinkat(
                        &dir,
                        name.as_os_str(),
                        UnlinkatFlags::NoRemoveDir
                    ),
                    Ok(()) | Err(Errno::ENOENT)
                )
        }
    };
    if !removed {
        return Err(Failure::new(format!(
            "unmounted, but {path} is no longer the file keep made: left it"
        ))
        .hint("look at it with `ls -l`; remove it by hand if it is yours"));
    }
    outln!(
        "released {}:[{}] from {path}: the kernel frees it once nothing \
         else holds it (a process, an open fd, another bind mount, a \
         child namespace)",
        kind.name,
        stat.st_ino
    );
    Ok(0)
}
// ANCHOR_END: release

/// Takes an exclusive flock(2) on PATH's directory until dropped: two
/// releases of one PATH take turns, so that the second finds it gone
/// instead of taking the first one's half-done work for a leftover.
fn lock(dir: &OwnedFd) -> Option<File> {
    let file = reopen(dir).ok()?;
    // SAFETY: flock(2) on a descriptor we own; it touches no memory.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    (locked == 0).then_some(file)
}

/// PATH has no namespace mounted on it: remove it only if it is what a
/// keep killed half-way leaves, else refuse.
fn remove_leftover(
    dir: &OwnedFd,
    name: &OsStr,
    path: &str,
    stat: &FileStat,
) -> Result<u8> {
    if is_leftover(stat) {
        if let Err(errno) = unlinkat(dir, name, UnlinkatFlags::NoRemoveDir) {
            return Err(Failure::errno(format!("cannot remove {path}"), errno));
        }
        outln!(
            "removed {path}: an empty file that an interrupted keep left \
             (nothing was mounted on it)"
        );
        return Ok(0);
    }
    Err(Failure::new(format!(
        "{path} is not a kept namespace ({}, not an nsfs mount)",
        file_type_words(stat.st_mode)
    ))
    .hint("`grep nsfs /proc/self/mountinfo` lists the kept ones"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_mount_namespace_gets_the_mount_namespace_hint_for_einval() {
        let uts = kind_named("uts").unwrap();
        let mnt = kind_named("mnt").unwrap();
        let failure = bind_failure("/proc/1/ns/uts", "/x", uts, Errno::EINVAL);
        assert_eq!(failure.hint_text(), None, "{failure}");
        let failure = bind_failure("/proc/1/ns/mnt", "/x", mnt, Errno::EINVAL);
        assert!(
            failure
                .hint_text()
                .is_some_and(|h| h.contains("mount namespace")),
            "{failure}"
        );
    }
}
