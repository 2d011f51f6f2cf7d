//! # ch01-uts: a shell with a hostname of its own
//!
//! Step 1 of nslab adds **`CLONE_NEWUTS`**. The UTS namespace holds the
//! hostname and the NIS domain name; a process in a new one can rename
//! its "machine" while the host keeps its name.
//!
//! Try it (as root):
//!
//! ```text
//! $ cargo run -p ch01-uts
//! # hostname bash; hostname    # prints: bash
//! # exit
//! $ hostname                   # the host's name, unchanged
//! ```
//!
//! Where the article's Go program sets `SysProcAttr.Cloneflags` and lets
//! `exec.Cmd` call `clone(2)`, we call `clone` ourselves, below. The rest
//! (the go pipe, signals, exec, waiting, exit statuses) is the `nslab`
//! crate's: every chapter does it the same way.

use std::process::ExitCode;

use anyhow::Context;
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
/// The namespaces this chapter creates: a new UTS namespace.
const NAMESPACES: CloneFlags = CloneFlags::CLONE_NEWUTS;
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
/// Nothing to do yet: the kernel made the UTS namespace a copy of the
/// host's. From ch04 on, the child has its own work here.
fn setup_child(_launch: &Launch) -> anyhow::Result<()> {
    Ok(())
}
// ANCHOR_END: setup
