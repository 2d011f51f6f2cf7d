//! `keep PID TYPE PATH` and `release PATH`: a namespace outlives its
//! last process while a bind mount of its `/proc/PID/ns` file exists.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::unistd::Uid;

use crate::list::{nsfs_mounts, unescape};
use crate::nsfs::{NsId, kind_named, parse_pid, proc_failure};
use crate::{Failure, Result, usage_error, words};

pub const HELP_KEEP: &str = "\
ch07-inspect keep: keep a namespace alive after its processes exit

Usage: ch07-inspect keep PID TYPE PATH

Bind-mounts /proc/PID/ns/TYPE on a new empty file PATH, as
`ip netns add` does. While the mount exists the namespace is not
freed, even when no process is left in it: `ch07-inspect enter PATH`
joins it, `ch07-inspect list` shows it with 0 processes, and
`ch07-inspect release PATH` lets it go.

The mount must not land on a shared mount (as / is under systemd): it
would propagate into other mount namespaces and keep the namespace
alive there. When PATH's directory is on a shared mount, keep makes the
directory a private mount point of its own first (bind on itself, then
private), as ip netns does, and leaves it so after release (as
/run/netns stays a mount point); when the directory is itself a shared
mount point, keep refuses.

Try: ch07-inspect keep PID uts /tmp/uts      (PID of a ch01-uts shell
     that ran `hostname bash`), exit that shell, then
     ch07-inspect enter /tmp/uts hostname     -> bash
";

pub const HELP_RELEASE: &str = "\
ch07-inspect release: undo keep

Usage: ch07-inspect release PATH

Unmounts the namespace file at PATH and removes the file. The kernel
frees the namespace once nothing else holds it: no process in it, no
open file descriptor, no other bind mount, no child namespace.

Try: ch07-inspect release /tmp/uts
";

/// One line of /proc/self/mountinfo, the fields we need.
struct MountEntry {
    mount_point: PathBuf,
    shared: Option<String>,
}

fn mount_table() -> Vec<MountEntry> {
    let table =
        std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    table
        .lines()
        .filter_map(|line| {
            let (left, _) = line.split_once(" - ")?;
            let fields: Vec<&str> = left.split_whitespace().collect();
            Some(MountEntry {
                mount_point: PathBuf::from(unescape(fields.get(4)?)),
                // Optional fields such as `shared:1` follow field 6.
                shared: fields
                    .iter()
                    .skip(6)
                    .find(|f| f.starts_with("shared:"))
                    .map(|f| f.to_string()),
            })
        })
        .collect()
}

/// The mount that `dir` (absolute, canonical) is on: the last one in
/// mountinfo with the longest mount point that contains it.
fn mount_of(dir: &Path) -> Option<MountEntry> {
    let mut best: Option<MountEntry> = None;
    for entry in mount_table() {
        let longer = best.as_ref().is_none_or(|b| {
            entry.mount_point.as_os_str().len()
                >= b.mount_point.as_os_str().len()
        });
        if dir.starts_with(&entry.mount_point) && longer {
            best = Some(entry);
        }
    }
    best
}

pub fn keep_command(args: Vec<OsString>) -> Result<u8> {
    let usage = "keep PID TYPE PATH";
    let words = words(args, usage)?;
    let [pid, kind, path] = words.as_slice() else {
        return Err(usage_error("keep needs PID, TYPE and PATH", usage));
    };
    let (pid, kind) = (parse_pid(pid)?, kind_named(kind)?);
    let path = Path::new(path);

    // ANCHOR: keep
    let source = format!("/proc/{pid}/ns/{}", kind.name);
    let id =
        NsId::of_path(&source).map_err(|e| proc_failure(pid, &source, &e))?;
    if path.symlink_metadata().is_ok() {
        return Err(Failure::new(format!("{} exists", path.display())).hint(
            "keep makes a new file: choose a new path, or `release` \
                   the old one",
        ));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = parent.canonicalize().map_err(|e| {
        Failure::new(format!("cannot use directory {}: {e}", parent.display()))
            .hint("create the directory first")
    })?;
    let made_private = make_private_if_shared(&dir)?;
    let result = bind_namespace(&source, path);
    if result.is_err() && made_private {
        // Leave nothing behind: undo the mount point we made.
        let _ = umount2(&dir, MntFlags::empty());
    }
    result?;
    let kept = NsId::of_path(path).map_or(0, |id| id.ino);
    println!(
        "kept {}:[{}] of PID {pid} at {} (a bind mount of {source})",
        kind.name,
        id.ino,
        path.display()
    );
    println!(
        "{} now has inode {kept}: the namespace outlives PID {pid}; enter \
         it with `ch07-inspect enter {p}`, free it with `ch07-inspect \
         release {p}`",
        path.display(),
        p = path.display()
    );
    Ok(0)
}

/// Creates the empty file and bind-mounts the namespace on it.
fn bind_namespace(source: &str, path: &Path) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(path)
        .map_err(|e| {
            Failure::new(format!("cannot create {}: {e}", path.display()))
        })?;
    let bound = mount(
        Some(source),
        path,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    );
    if let Err(errno) = bound {
        let _ = std::fs::remove_file(path);
        let failure = Failure::new(format!(
            "cannot bind-mount {source} on {}: {errno}",
            path.display()
        ));
        return Err(match errno {
            Errno::EPERM if !Uid::effective().is_root() => {
                failure.hint("mounting needs root: run with sudo")
            }
            Errno::EINVAL => failure.hint(
                "a mount namespace cannot be kept inside itself or a newer \
                 one: keep it from the host's mount namespace",
            ),
            _ => failure,
        });
    }
    Ok(())
}
// ANCHOR_END: keep

// ANCHOR: private
/// A bind mount on a shared mount propagates to every peer mount
/// namespace, where `release` cannot reach it, and keeps the namespace
/// alive there. Like `ip netns`, turn `dir` into a mount point of its
/// own (a bind mount on itself) and make that one private.
fn make_private_if_shared(dir: &Path) -> Result<bool> {
    let Some(entry) = mount_of(dir) else {
        return Ok(false);
    };
    let Some(shared) = entry.shared else {
        return Ok(false);
    };
    if entry.mount_point == dir {
        return Err(Failure::new(format!(
            "{} is a shared mount point ({shared}): a bind mount in it \
             would propagate to other mount namespaces",
            dir.display()
        ))
        .hint(format!(
            "make it private (`mount --make-private {}`), or keep the \
             namespace in a directory that is not a mount point",
            dir.display()
        )));
    }
    let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
    mount(Some(dir), dir, None::<&str>, flags, None::<&str>).map_err(|e| {
        Failure::new(format!("cannot bind {} on itself: {e}", dir.display()))
    })?;
    let private = MsFlags::MS_PRIVATE;
    if let Err(e) =
        mount(None::<&str>, dir, None::<&str>, private, None::<&str>)
    {
        let _ = umount2(dir, MntFlags::empty());
        return Err(Failure::new(format!(
            "cannot make {} private: {e}",
            dir.display()
        )));
    }
    println!(
        "{} was on a shared mount ({} is {shared}): made it a private \
         mount point of its own first, as ip netns does; it stays after \
         release, as /run/netns does (`umount {}` removes it)",
        dir.display(),
        entry.mount_point.display(),
        dir.display()
    );
    Ok(true)
}
// ANCHOR_END: private

// ANCHOR: release
pub fn release_command(args: Vec<OsString>) -> Result<u8> {
    let usage = "release PATH";
    let words = words(args, usage)?;
    let [path] = words.as_slice() else {
        return Err(usage_error("release needs one PATH", usage));
    };
    let absolute = Path::new(path).canonicalize().map_err(|e| {
        Failure::new(format!("cannot release {path}: {e}"))
            .hint("`ch07-inspect list` shows kept namespaces with 0 processes")
    })?;
    let Some((_, id, kind)) = nsfs_mounts()
        .into_iter()
        .find(|(mount_point, _, _)| Path::new(mount_point) == absolute)
    else {
        return Err(Failure::new(format!(
            "{path} is not a kept namespace (no nsfs mount on it)"
        ))
        .hint("`grep nsfs /proc/self/mountinfo` lists the kept ones"));
    };
    umount2(&absolute, MntFlags::empty())
        .map_err(|e| Failure::new(format!("cannot unmount {path}: {e}")))?;
    std::fs::remove_file(&absolute).map_err(|e| {
        Failure::new(format!("unmounted, but cannot remove {path}: {e}"))
    })?;
    println!(
        "released {}:[{}] from {path}: the kernel frees it once nothing \
         else holds it (a process, an open fd, another bind mount, a \
         child namespace)",
        kind.name, id.ino
    );
    Ok(0)
}
// ANCHOR_END: release
