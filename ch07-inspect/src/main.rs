//! # ch07-inspect: see, compare, enter and keep namespaces
//!
//! Step 7 of nslab adds no new flag: it looks at the namespaces that
//! chapters 1–6 made, with the other three kernel calls (`setns`,
//! `unshare`, `ioctl_ns`) and the `/proc/PID/ns` links whose inode
//! number identifies a namespace.
//!
//! Try it (as root), with a chapter running in another terminal:
//!
//! ```text
//! $ cargo sudo-run -p ch04-mount          # terminal 1: a container
//! $ ch07-inspect list                     # terminal 2: its namespaces
//! $ ch07-inspect ns PID                   # which it shares with you
//! $ ch07-inspect diff $$ PID              # the same, side by side
//! $ ch07-inspect tree                     # who owns whom (ioctl_ns)
//! $ ch07-inspect limits                   # max_*_namespaces
//! $ ch07-inspect enter PID hostname       # setns, like nsenter
//! $ ch07-inspect keep PID uts /tmp/uts    # outlive the container
//! $ ch07-inspect enter /tmp/uts hostname  # after it has exited
//! $ ch07-inspect release /tmp/uts
//! $ ch07-inspect unshare pid -- sh -c 'echo $$'   # unshare vs clone
//! $ ch07-inspect cost                     # what each type costs
//! ```
//!
//! Each subcommand lives in its own module, one page of the book each.

#![cfg_attr(not(test), no_main)] // the entry is nslab::main! below

/// `println!` that never panics: when stdout is closed or full, the
/// text is lost and the exit status stays (DESIGN: output never panics).
macro_rules! outln {
    ($($arg:tt)*) => {
        nslab::output::stdout(&format!("{}\n", format_args!($($arg)*)))
    };
}

mod clone3;
mod cost;
mod enter;
mod idmap;
mod keep;
mod list;
mod ns;
mod nsfs;
mod spawn;
mod tree;
mod unshare;
mod walk;

use std::ffi::OsString;

use nix::sched::CloneFlags;

const TOOL: &str = "ch07-inspect";

const HELP: &str = "\
ch07-inspect: see, compare, enter and keep Linux namespaces

Usage: ch07-inspect COMMAND [ARGS...]

Chapters 1-6 create namespaces with clone(2). This one looks at them
through /proc/PID/ns (a namespace is identified by the device and inode
of its link) and the other kernel calls: setns(2), unshare(2) and
ioctl_ns(2).

Commands:
  ns [PID]               the namespaces of a process (default: this one),
                         and whether it shares each with us
  diff PID1 PID2         which namespaces two processes share
  list [TYPE]            every namespace on the system, like lsns
  tree [PATH]            who owns whom and who is whose parent (ioctl_ns)
  limits                 /proc/sys/user/max_*_namespaces and how many exist
  enter PID|PATH [CMD]   run CMD (bash) in a process's namespaces (setns),
                         like `nsenter --all`: as root of its user
                         namespace (--preserve-credentials: as us)
  unshare TYPE... [-- CMD]
                         unshare(2) ourselves, then run CMD as our child
                         (the report goes to stderr)
  keep PID TYPE PATH     keep a namespace alive with a bind mount, as
                         `ip netns add` does (works in /run/netns)
  release PATH           undo keep: unmount and remove PATH
  cost [N]               microseconds to create and free each type
  idmap USERNS SRC DST   bind SRC on DST with USERNS's id map (5.12)
  spawn CGROUP -- CMD    clone3 into a cgroup, held by a pidfd (5.7)
  help [COMMAND]         this help, or the help of COMMAND

Try: start `ch04-mount` in one terminal, then `ch07-inspect list`, and
`ch07-inspect enter PID` with the PID of its shell.

Output never panics: a full or closed stdout costs the text, not the
exit status. A failure to read /proc is an error, never an empty list.

Exit status: 0; 125 when the tool fails (no such PID, permission
denied, bad arguments, /proc unreadable). `enter` and `unshare` exit with the command's
own status, 128+N when it is killed by signal N, 126 when it cannot be
executed and 127 when it is not found.
";

/// A failure of the tool itself: one line, and a hint when we know why
/// (the same typed failure as the chapters').
pub use nslab::Failure;

pub type Result<T> = std::result::Result<T, Failure>;

// The program's entry (nslab::entry): it ignores SIGPIPE for the tool,
// so a closed stdout costs the message, never the exit status (`keep
// ... | true` has mounted by the time it prints). The command of
// `enter`/`unshare` gets back the disposition the tool inherited.
nslab::main!(inspect);

/// The whole tool: the subcommand's exit status.
fn inspect() -> u8 {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match dispatch(args) {
        Ok(status) => status,
        Err(error) => {
            // The hint comes from the typed failure inside, if any.
            nslab::failure::report(TOOL, CloneFlags::empty(), &*error);
            nslab::EXIT_TOOL_FAILED
        }
    }
}

/// Every subcommand: its name, its help, and the function that runs it.
type Command = (&'static str, &'static str, fn(Vec<OsString>) -> Result<u8>);

const COMMANDS: [Command; 12] = [
    ("ns", ns::HELP_NS, ns::ns_command),
    ("diff", ns::HELP_DIFF, ns::diff_command),
    ("list", list::HELP_LIST, list::list_command),
    ("tree", tree::HELP, tree::command),
    ("limits", list::HELP_LIMITS, list::limits_command),
    ("enter", enter::HELP, enter::command),
    ("unshare", unshare::HELP, unshare::command),
    ("keep", keep::HELP_KEEP, keep::keep_command),
    ("release", keep::HELP_RELEASE, keep::release_command),
    ("cost", cost::HELP, cost::command),
    ("idmap", idmap::HELP, idmap::command),
    ("spawn", spawn::HELP, spawn::command),
];

fn dispatch(mut args: Vec<OsString>) -> anyhow::Result<u8> {
    if args.is_empty() {
        nslab::output::stdout(HELP);
        return Ok(0);
    }
    let name = args.remove(0);
    let name = name.to_str().unwrap_or("");
    if matches!(name, "-h" | "--help" | "help") {
        match args.first().and_then(|a| a.to_str()) {
            None | Some("help" | "-h" | "--help") => {
                nslab::output::stdout(HELP)
            }
            Some(sub) => nslab::output::stdout(find_command(sub)?.1),
        }
        return Ok(0);
    }
    let (_, help, run) = find_command(name)?;
    if args.first().is_some_and(|a| a == "help") || asks_for_help(name, &args) {
        nslab::output::stdout(help);
        return Ok(0);
    }
    Ok(run(args)?)
}

/// `--help` among the options of a subcommand is its help: anywhere
/// before `--` (`unshare uts --help`), but for `enter` only before its
/// target, since what follows the target is the command's own
/// (`enter PID ls --help`).
fn asks_for_help(name: &str, args: &[OsString]) -> bool {
    let is_help = |a: &&OsString| *a == "-h" || *a == "--help";
    let mut options = args.iter().take_while(|a| *a != "--");
    if name == "enter" {
        let leading = args.iter().take_while(|a| {
            a.to_str().is_some_and(|a| a.starts_with('-') && a != "--")
        });
        leading.into_iter().any(|a| is_help(&a))
    } else {
        options.any(|a| is_help(&a))
    }
}

fn find_command(name: &str) -> Result<Command> {
    COMMANDS
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| {
            let what = if name.starts_with('-') {
                format!("unknown option '{name}'")
            } else {
                format!("unknown command '{name}'")
            };
            Failure::new(what)
                .hint(format!("`{TOOL} --help` lists the commands"))
        })
}

/// Splits the arguments of a subcommand that takes no options into
/// plain words, refusing options and non-UTF-8 text. A `--` ends the
/// options, as everywhere: what follows is taken as it is (a PATH that
/// starts with `-`).
pub fn words(args: Vec<OsString>, usage: &str) -> Result<Vec<String>> {
    let mut options_end = false;
    let mut words = Vec::new();
    for arg in args {
        let word = arg.into_string().map_err(|arg| {
            usage_error(
                &format!("'{}' is not valid UTF-8", arg.display()),
                usage,
            )
        })?;
        if !options_end && word == "--" {
            options_end = true;
        } else if !options_end && word.starts_with('-') && word.len() > 1 {
            return Err(usage_error(
                &format!("unknown option '{word}'"),
                usage,
            ));
        } else {
            words.push(word);
        }
    }
    Ok(words)
}

/// A mistake on the command line: what is wrong, and the usage line.
pub fn usage_error(what: &str, usage: &str) -> Failure {
    Failure::new(what.to_string()).hint(format!("usage: {TOOL} {usage}"))
}
