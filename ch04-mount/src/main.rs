//! # ch04-mount: a mount table of its own, and a `/proc` that fits
//!
//! Step 4 of nslab adds **`CLONE_NEWNS`** to the UTS, IPC and PID
//! namespaces: the command gets a copy of the host's mount table, and
//! what it mounts stays in the copy. So it can mount a `/proc` of its
//! own PID namespace: `mount -t proc proc /proc; ps -ef` shows only the
//! container. The child first makes the copy private (on systemd hosts
//! `/` is shared, and a mount would propagate back). With `--root DIR`
//! it then makes DIR its `/`, as a container runtime does (`sh
//! ch04-mount/make-rootfs.sh DIR` makes one). PID 1 is as in ch03.

use std::process::ExitCode;

use anyhow::Context;
use nix::mount::{MntFlags, mount, umount2};
use nix::sched::{CloneFlags, clone};
use nix::unistd::{chdir, pivot_root};
use nslab::{Chapter, Launch, Options, Propagation};

const CHAPTER: Chapter = Chapter {
    name: env!("CARGO_PKG_NAME"),
    namespaces: NAMESPACES,
    help: include_str!("help.txt"),
    welcome: include_str!("welcome.txt"),
};

fn main() -> ExitCode {
    nslab::main(&CHAPTER, run)
}

// ANCHOR: flags
/// The namespaces this chapter creates: UTS (ch01), IPC (ch02), PID
/// (ch03) and mount.
const NAMESPACES: CloneFlags = CloneFlags::CLONE_NEWUTS
    .union(CloneFlags::CLONE_NEWIPC)
    .union(CloneFlags::CLONE_NEWPID)
    .union(CloneFlags::CLONE_NEWNS);
// ANCHOR_END: flags

// ANCHOR: run
/// Starts the command in new namespaces and returns its exit status.
fn run(options: Options) -> anyhow::Result<u8> {
    let launch = Launch::for_chapter(&CHAPTER, options)
        .context("cannot prepare the child")?;
    // ANCHOR: clone
    let mut stack = nslab::child_stack()?;
    // The child waits for "go", runs `setup_child`, then execs.
    let child_main = Box::new(|| launch.in_child(setup_child));
    // SAFETY: we are single-threaded, so the child (our copy) inherits no
    // lock held by another thread; it leaves by exec or a status. clone
    // is not told the stack's size: the child's few KiB of calls stay in
    // the 1 MiB of `stack`, and a guard page below stops any overflow.
    let child = unsafe {
        clone(child_main, &mut stack, NAMESPACES, Some(libc::SIGCHLD))
    }
    .context("cannot create namespaces (clone)")?;
    // ANCHOR_END: clone
    Ok(launch.run(child)?)
}
// ANCHOR_END: run

// ANCHOR: setup
/// Runs in the child, inside the new namespaces, before the command.
/// New in ch04: the child makes its copy of the mount tree private,
/// then, with --root DIR, makes DIR its `/`.
fn setup_child(launch: &Launch) -> anyhow::Result<()> {
    set_root_propagation(launch.options().propagation)?;
    match &launch.options().root {
        Some(_) => pivot_into().context("--root"),
        None => Ok(()),
    }
}
// ANCHOR_END: setup

// New in ch04-mount: its lesson, carried into the later chapters.
// ANCHOR: private
/// First, before anything is mounted: make every mount in our copy of
/// the tree private (or what `--propagation` says), so that no mount in
/// here propagates to the host: on systemd hosts `/` is shared.
fn set_root_propagation(mode: Propagation) -> anyhow::Result<()> {
    if let Some(rec) = mode.flags() {
        mount(None::<&str>, "/", None::<&str>, rec, None::<&str>)
            .context(format!("cannot make / {mode} (--make-r{mode})"))?;
    }
    Ok(())
}
// ANCHOR_END: private

// New in ch04-mount too: --root DIR, carried forward.
// ANCHOR: pivot_root
/// `--root DIR` (checked before `clone`): DIR becomes the whole of `/`.
fn pivot_into() -> anyhow::Result<()> {
    // pivot_root(2) moves mounts, not directories: DIR must be a mount.
    // bind_here binds our working directory (DIR: the check entered it,
    // and clone(2) carried it into our mount tree) onto itself and steps
    // in, never looking DIR's path up again (it may point elsewhere now).
    nslab::rootfs::bind_here()?;
    // Not chroot(2), which moves only this process's `/` and leaves the
    // host's tree mounted below (root can climb out): pivot_root moves the
    // mount namespace's root. With ".", "." the old root lands on the new.
    pivot_root(".", ".").context("cannot pivot_root into DIR")?;
    // The old root is still mounted on top of `/`: through it, the host's
    // files would stay in reach. Detach it, with all its mounts.
    umount2(".", MntFlags::MNT_DETACH).context("cannot detach the old /")?;
    chdir("/").context("cannot chdir to the new /")?;
    Ok(())
}
// ANCHOR_END: pivot_root
