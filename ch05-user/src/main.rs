//! # ch05-user: nobody inside, and no root needed outside
//!
//! Step 5 of nslab adds **`CLONE_NEWUSER`** to the UTS, IPC, PID and
//! mount namespaces. A user namespace has its own user and group IDs;
//! until a map says which outside ID an inside ID stands for, the
//! command runs as the overflow user, `nobody` (65534).
//!
//! Try it (as root, or as any user: see below):
//!
//! ```text
//! $ cargo run -p ch05-user
//! $ id                          # uid=65534(nobody) gid=65534(nogroup)
//! $ exit
//! $ cargo run -p ch05-user -- --map-root
//! # id                          # uid=0(root) gid=0(root)
//! ```
//!
//! With `CLONE_NEWUSER` in the same `clone`, the kernel makes the user
//! namespace first and the others under it, owned by it: so this is the
//! first chapter that an ordinary user can run without `sudo`. And
//! `--map-root` makes the command root inside while it stays you outside.

use std::process::ExitCode;

use anyhow::Context;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, clone};
use nix::unistd::{Gid, Uid};
use nslab::{Chapter, Launch, Options};

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
    // The child waits for the parent's "go", runs `setup_child`, then
    // execs the command.
    let child_main = Box::new(|| launch.in_child(setup_child));
    // SAFETY: we are single-threaded, so the child (a copy of this
    // process, running `child_main` on `stack`) cannot inherit a lock
    // held by another thread; it leaves by exec or by returning a status.
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
    make_root_private()
}
// ANCHOR_END: setup

// New in ch05-user: its lesson, carried into ch06-net.
// ANCHOR: map_root
/// `--map-root`: uid and gid 0 inside stand for the invoking user's own
/// uid and gid outside, read before `clone`. One line each: never more
/// than we own. The child writes its own maps, as `unshare
/// --map-root-user` does: `/proc/self` is certainly us, where
/// `/proc/PID` can name another process when `/proc` belongs to another
/// PID namespace. Without privilege the kernel requires setgroups(2) to
/// be denied first, so that the new root cannot drop a group that was
/// denying it access.
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
/// the tree private, so that no mount or unmount in here propagates to
/// the host. On systemd hosts `/` is shared; the copy would be too.
fn make_root_private() -> anyhow::Result<()> {
    let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
    mount(None::<&str>, "/", None::<&str>, private, None::<&str>)
        .context("cannot make / private (mount --make-rprivate /)")?;
    Ok(())
}
// ANCHOR_END: private
