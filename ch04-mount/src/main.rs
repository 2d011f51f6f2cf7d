//! # ch04-mount: a mount table of its own, and a `/proc` that fits
//!
//! Step 4 of nslab adds **`CLONE_NEWNS`** (the first namespace, from
//! 2002, hence its vague name) to the UTS, IPC and PID namespaces. The
//! command gets a copy of the host's mount table; what it mounts or
//! unmounts stays in that copy. That lets it mount a `/proc` for its own
//! PID namespace, so `ps` shows only the container's processes.
//!
//! Try it (as root):
//!
//! ```text
//! $ cargo run -p ch04-mount
//! # mount -t proc proc /proc
//! # ps -ef                      # only PID 1 (the shell) and ps
//! # exit
//! $ ps -ef | wc -l              # the host's /proc is untouched
//! ```
//!
//! A copy is not enough on its own: where `/` is a *shared* mount (every
//! systemd host), a mount made inside would propagate to the host. So
//! the child first makes the whole tree private, before it mounts
//! anything. PID 1's rules (`--init`, a second Ctrl-C) are as in ch03.

use std::process::ExitCode;

use anyhow::Context;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, clone};
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
/// New in ch04: the child makes its copy of the mount tree private.
fn setup_child(_launch: &Launch) -> anyhow::Result<()> {
    make_root_private()
}
// ANCHOR_END: setup

// New in ch04-mount: its lesson, carried into the later chapters.
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
