//! # ch06-net: a network stack of its own
//!
//! Step 6 of nslab adds **`CLONE_NEWNET`** to the user, UTS, IPC, PID
//! and mount namespaces. A network namespace has its own interfaces,
//! addresses, routes, firewall rules and sockets. A new one holds only a
//! loopback interface, `lo`, and even that is down: the command is cut
//! off until someone connects it (a veth pair, for example).
//!
//! Try it (as root, or as any user):
//!
//! ```text
//! $ cargo run -p ch06-net
//! $ ip addr                     # only lo, DOWN
//! $ exit
//! $ cargo run -p ch06-net -- --map-root
//! # ip link set lo up && ping -c1 127.0.0.1
//! ```
//!
//! Fallback tunnel devices such as `tunl0` or `sit0` may show up too:
//! the kernel adds one to every new network namespace when their module
//! is loaded on the host.

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
/// (ch03), mount (ch04), user (ch05) and network.
const NAMESPACES: CloneFlags = CloneFlags::CLONE_NEWUTS
    .union(CloneFlags::CLONE_NEWIPC)
    .union(CloneFlags::CLONE_NEWPID)
    .union(CloneFlags::CLONE_NEWNS)
    .union(CloneFlags::CLONE_NEWUSER)
    .union(CloneFlags::CLONE_NEWNET);
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
/// Nothing new for the network namespace: it starts with `lo`, down.
fn setup_child(launch: &Launch) -> anyhow::Result<()> {
    if launch.options().map_root {
        let (uid, gid) = launch.outer_ids();
        map_root(uid, gid).context("--map-root")?;
    }
    make_root_private()
}
// ANCHOR_END: setup

// From ch05-user, unchanged.
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
