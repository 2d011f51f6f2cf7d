//! # ch02-ipc: System V IPC and POSIX message queues of its own
//!
//! Step 2 of nslab adds **`CLONE_NEWIPC`** to ch01's UTS namespace. An
//! IPC namespace holds System V message queues, semaphores and shared
//! memory, and POSIX message queues: objects that processes find by a
//! numeric key or a name, so a container must not see the host's.
//!
//! Try it (as root):
//!
//! ```text
//! $ ipcmk -Q                   # on the host: a message queue
//! $ ipcs -q                    # the host lists it
//! $ cargo run -p ch02-ipc
//! # ipcs -q                    # inside: no queue at all
//! # exit
//! $ ipcrm -q <id>              # tidy up the host's queue
//! ```
//!
//! The program is ch01 with one more flag: everything else is unchanged.

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
/// The namespaces this chapter creates: UTS (ch01) and IPC.
const NAMESPACES: CloneFlags =
    CloneFlags::CLONE_NEWUTS.union(CloneFlags::CLONE_NEWIPC);
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
/// Nothing to do for IPC either: a new IPC namespace starts empty.
fn setup_child(_launch: &Launch) -> anyhow::Result<()> {
    Ok(())
}
// ANCHOR_END: setup
