//! # nslab: the machinery around `clone(2)`
//!
//! Every chapter of nslab is one `main.rs` that holds its lesson: the
//! `CLONE_NEW*` flags, the `clone(2)` call, and what the child (or the
//! parent) sets up before the command runs. Everything else that a
//! careful tool must do around that call is the same in every chapter,
//! so it lives here, once. `ch07-inspect` uses it too, for the commands
//! it runs with `enter` and `unshare`.
//!
//! Where the article's Go program writes `cmd.Run()`, Go's `exec.Cmd`
//! does most of this behind the scenes. The table says which part of
//! this crate stands in for which part of `exec.Cmd`:
//!
//! | module | what it does | what Go's `exec.Cmd` does in its place |
//! |---|---|---|
//! | [`cli`] | the command-line contract: options, `--help`, `main`, exit statuses | nothing: the Go program has no options |
//! | [`launch`] | the parent's side (go pipe, forwarding signals, waiting, the terminal) and the child's side (wait for "go", the chapter's setup, exec) | `Start` (fork, exec) and `Wait` |
//! | [`signals`] | which signal dispositions the tool inherited, changed and must give back | `SysProcAttr` defaults; Go's runtime restores its own handlers in the child |
//! | [`init`] | `--init`: a tiny PID 1 that runs the command as PID 2 and reaps orphans | nothing: the Go program's `bash` is PID 1 |
//! | [`exec`] | `execvp` with the 126 and 127 statuses and what is inherited (fds 0–2 only) | `exec.LookPath`, `Cmd.ExtraFiles` (closed by default) |
//! | [`shell`] | no COMMAND: an interactive bash (or sh) whose prompt names the tool, `(ch03-pid) root@host:~#` | nothing: the Go program's bash shows the host's prompt |
//! | [`reap`] | waiting, exit statuses, and ending what the command left behind | `ProcessState.ExitCode` |
//! | [`failure`] | a failure of the tool itself, one line, and the hint that says why | an `error` value |
//! | [`namespaces`] | the 8 namespace types: name, `CLONE_NEW*` flag, limit, first kernel | the `syscall.CLONE_NEW*` constants |
//! | [`proc_self`] | writing `/proc/self` files (the id maps of `--map-root`); reading `/proc/PID/stat` | `SysProcAttr.UidMappings`, written by the parent |
//! | [`idmap`] | `--map-users`, `--map-groups`, `--map-auto`: maps of several ranges, written by `newuidmap` and `newgidmap` from the parent while the child waits for "go" | `SysProcAttr.UidMappings` with `GidMappingsEnableSetgroups`, written by the parent (Go does not call the helpers) |
//! | [`output`] | writes that never panic (closed or full stdout and stderr) | `fmt.Fprintln`, which returns the error |
//! | [`rootfs`] | `--root DIR`: the checks on DIR before `clone`, DIR opened once, and the bind the child stands in (the `pivot_root` is ch04's lesson) | nothing: `SysProcAttr.Chroot` is a `chroot(2)` |
//! | [`veth`] | `--veth`: a veth pair from the host to the child's network stack, over rtnetlink | nothing: Go programs use a netlink package |
//!
//! ## The command-line contract
//!
//! ```text
//! chNN-name [OPTIONS] [--] [COMMAND [ARG...]]
//! ```
//!
//! - No COMMAND: an interactive `bash` (or `sh` where there is no bash),
//!   whose prompt starts with the tool's name: `(ch03-pid) root@host:~#`.
//! - Options exist only where their namespace does: `--init` with a PID
//!   namespace, `--root DIR` with a mount namespace, `--map-root` (and
//!   `--map-users`, `--map-groups`, `--map-auto`) with a user namespace,
//!   `--veth` with a network namespace.
//! - Exit status, as `docker run` documents it: the command's own; 128+N
//!   when it was killed by signal N; 125 when the tool itself failed; 126
//!   when the command cannot be executed; 127 when it is not found.
//! - An error is one line naming the tool, the step that failed and the
//!   errno, then a `hint:` line where the cause is known.
//! - Signals: what the tool inherited (an ignored SIGHUP under `nohup`,
//!   a blocked signal) reaches the command unchanged. A signal another
//!   process sends to the tool is passed on to the command; one that the
//!   terminal generated (Ctrl-C) is not, because the terminal sent it to
//!   the command already.
//! - Nothing outlives the tool: when the command ends, whatever it left
//!   running is ended too. Only when the tool itself is killed with
//!   SIGKILL does the kernel leave that to a PID namespace (ch03).
//! - A write that fails (a closed pipe, a full disk) costs the message,
//!   never the exit status and never a panic.
//!
//! ## The order of events
//!
//! ```text
//! parent (the tool)                         child (clone or fork)
//! ---------------------------------------   --------------------------------
//! Launch::new: go pipe, block all signals,
//!   become a subreaper
//! clone(flags) ---------------------------> starts with all signals blocked
//! Launch::run: (--map-users: newuidmap),
//!   forward signals, unblock,               Launch::in_child: PDEATHSIG,
//!   the welcome line (no COMMAND)
//! write "go" -----------------------------> read "go", the chapter's setup,
//! waitpid; end what is left                  give back dispositions and mask,
//!                                            execvp (or --init: PID 1)
//! ```

pub mod cli;
pub mod exec;
pub mod failure;
pub mod idmap;
pub mod init;
pub mod launch;
pub mod namespaces;
pub mod output;
pub mod proc_self;
pub mod reap;
pub mod rootfs;
pub mod shell;
pub mod signals;
pub mod veth;

pub use cli::{Chapter, Options, Propagation, main};
pub use failure::Failure;
pub use launch::{Launch, Stack, child_stack};
pub use proc_self::write_self;

/// Docker's exit status for a failure of the tool itself.
pub const EXIT_TOOL_FAILED: u8 = 125;
/// The command exists but cannot be executed.
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
/// The command was not found.
pub const EXIT_NOT_FOUND: u8 = 127;
