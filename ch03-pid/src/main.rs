//! # ch03-pid: the command is PID 1
//!
//! Step 3 of nslab adds **`CLONE_NEWPID`** to the UTS and IPC namespaces
//! of ch01 and ch02. A PID namespace numbers processes afresh: the first
//! process in it is PID 1, the init of its own little system.
//!
//! Try it (as root):
//!
//! ```text
//! $ cargo run -p ch03-pid
//! # echo $$                    # prints: 1
//! # exit
//! ```
//!
//! PID 1 is special, and this chapter adds the code to live with it:
//! the kernel drops every signal PID 1 leaves at the default action (so
//! the tool sends SIGKILL 10 s after Ctrl-C or SIGTERM, or at once when
//! asked twice); orphans are
//! handed to PID 1 to reap; and when PID 1 exits, the kernel kills every
//! other process of the namespace. `--init` keeps a tiny init as PID 1
//! and runs the command as PID 2, like `docker run --init`.

#![cfg_attr(not(test), no_main)] // the entry is nslab::main! below

use anyhow::Context;
use nix::sched::{CloneFlags, clone};
use nslab::{Chapter, Launch, Options};

const CHAPTER: Chapter = Chapter {
    name: env!("CARGO_PKG_NAME"),
    namespaces: NAMESPACES,
    help: include_str!("help.txt"),
    welcome: include_str!("welcome.txt"),
};

// main: parse the options, call `run`, exit with its status.
nslab::main!(CHAPTER, run);

// ANCHOR: flags
/// The namespaces this chapter creates: UTS (ch01), IPC (ch02) and PID.
const NAMESPACES: CloneFlags = CloneFlags::CLONE_NEWUTS
    .union(CloneFlags::CLONE_NEWIPC)
    .union(CloneFlags::CLONE_NEWPID);
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
/// Nothing to do: the child is already PID 1 (or, with --init, the
/// machinery stays PID 1 and starts the command as PID 2).
fn setup_child(_launch: &Launch) -> anyhow::Result<()> {
    Ok(())
}
// ANCHOR_END: setup
