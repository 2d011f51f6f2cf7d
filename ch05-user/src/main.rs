//! # ch05-user: nobody inside, and no root needed outside
//!
//! Step 5 of nslab adds **`CLONE_NEWUSER`**: user and group IDs of its
//! own. Until a map says which outside ID an inside ID stands for, the
//! command is the overflow user, `nobody`. The user namespace is made
//! first and owns the others, so any user can run this chapter; with
//! `--map-root` the command is root inside and stays you outside.

use std::process::ExitCode;

use anyhow::Context;
use nix::mount::{MntFlags, mount, umount2};
use nix::sched::{CloneFlags, clone};
use nix::unistd::{Gid, Uid, chdir, pivot_root};
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
/// (ch03), mount (ch04) and user.
const NAMESPACES: CloneFlags = CloneFlags::CLONE_NEWUTS
    .union(CloneFlags::CLONE_NEWIPC)
    .union(CloneFlags::CLONE_NEWPID)
    .union(CloneFlags::CLONE_NEWNS)
    .union(CloneFlags::CLONE_NEWUSER);
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
/// New in ch05: with --map-root, the child writes its own id maps.
fn setup_child(launch: &Launch) -> anyhow::Result<()> {
    if launch.options().map_root {
        let (uid, gid) = launch.outer_ids();
        map_root(uid, gid).context("--map-root")?;
    }
    set_root_propagation(launch.options().propagation)?;
    match &launch.options().root {
        Some(_) => pivot_into().context("--root"),
        None => Ok(()),
    }
}
// ANCHOR_END: setup

// New in ch05-user: its lesson, carried into ch06-net.
// ANCHOR: map_root
/// `--map-root`: uid and gid 0 inside stand for the invoking user's own
/// uid and gid outside (one line each: never more than we own). The child
/// writes its own maps (`/proc/self` is surely us), after denying
/// setgroups(2), as the kernel requires without privilege.
fn map_root(uid: Uid, gid: Gid) -> anyhow::Result<()> {
    nslab::write_self("setgroups", "deny")?;
    nslab::write_self("gid_map", &format!("0 {gid} 1\n"))?;
    nslab::write_self("uid_map", &format!("0 {uid} 1\n"))?;
    Ok(())
}
// ANCHOR_END: map_root

// From ch04-mount, unchanged.
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

// From ch04-mount, unchanged: --root DIR.
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
