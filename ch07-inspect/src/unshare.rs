//! `unshare TYPE... [-- COMMAND...]`: unshare(2) on ourselves.

use std::ffi::OsString;

use nix::errno::Errno;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{Gid, Uid, getpid};

use crate::ns::{Link, read_links};
use crate::nsfs::{Kind, NsId, kind_named};
use crate::{Failure, Result, TOOL, usage_error};
use nslab::namespaces::TYPE_NAMES;

pub const HELP: &str = "\
ch07-inspect unshare: unshare(2) ourselves, then run a command

Usage: ch07-inspect unshare [OPTIONS] TYPE... [-- COMMAND [ARG...]]

The chapters create namespaces with clone(2): the new process is born
in them. unshare(2) instead moves the caller itself into new
namespaces, then this tool forks COMMAND (default: bash, or sh) as its
child. It shows the difference: after unshare(CLONE_NEWPID), our own
/proc/self/ns/pid is unchanged, pid_for_children is a new namespace
(dangling until a child is born), and the first child is PID 1 there.
A time namespace behaves the same way (time vs time_for_children).
The report (BEFORE and AFTER of each link) goes to stderr, before the
fork, so that stdout is the command's alone; once the command has
ended, pid_for_children names the PID namespace it was PID 1 of.

TYPE: cgroup, ipc, mnt, net, pid, time, user, uts (several allowed).
With user, root inside is mapped to our own uid and gid outside.
With mnt, / is made recursively private first, as in ch04.

Options:
      --boottime SECS   with time: shift CLOCK_BOOTTIME (and /proc/uptime)
                        of the child by SECS (also --boottime=SECS)
      --monotonic SECS  with time: shift CLOCK_MONOTONIC by SECS
  -h, --help            print this help

Try: ch07-inspect unshare pid -- sh -c 'echo $$'          -> 1
     ch07-inspect unshare --boottime 86400 time -- cat /proc/uptime

Exit status: the command's own; 128+N when it was killed by signal N;
125 when a namespace cannot be made; 126 when COMMAND cannot be
executed; 127 when it is not found.
";

const USAGE: &str = "unshare [--boottime SECS] [--monotonic SECS] TYPE... \
                     [-- COMMAND...]";

struct Options {
    kinds: Vec<Kind>,
    boottime: Option<i64>,
    monotonic: Option<i64>,
    command: Vec<OsString>,
}

fn parse(args: Vec<OsString>) -> Result<Options> {
    let mut options = Options {
        kinds: Vec::new(),
        boottime: None,
        monotonic: None,
        command: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let word = arg.into_string().map_err(|arg| {
            usage_error(
                &format!("'{}' is not valid UTF-8", arg.display()),
                USAGE,
            )
        })?;
        // `--name=value` is `--name value`, as in getopt_long.
        let (word, inline) = match word.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_string(), Some(OsString::from(value)))
            }
            _ => (word, None),
        };
        match word.as_str() {
            "--" => {
                options.command = args.collect();
                break;
            }
            "--boottime" | "--monotonic" => {
                let value = inline
                    .or_else(|| args.next())
                    .and_then(|v| v.to_str()?.parse::<i64>().ok())
                    .ok_or_else(|| {
                        usage_error(
                            &format!("{word} needs a number of seconds"),
                            USAGE,
                        )
                    })?;
                if word == "--boottime" {
                    options.boottime = Some(value);
                } else {
                    options.monotonic = Some(value);
                }
            }
            option if option.starts_with('-') => {
                return Err(usage_error(
                    &format!("unknown option '{option}'"),
                    USAGE,
                ));
            }
            name => {
                let kind = kind_named(name).map_err(|f| {
                    f.hint(format!(
                        "name the types ({TYPE_NAMES}), then the command \
                         after --"
                    ))
                })?;
                if !options.kinds.contains(&kind) {
                    options.kinds.push(kind);
                }
            }
        }
    }
    if options.kinds.is_empty() {
        return Err(usage_error("unshare needs at least one TYPE", USAGE));
    }
    let has_time = options.kinds.iter().any(|k| k.name == "time");
    if (options.boottime.is_some() || options.monotonic.is_some()) && !has_time
    {
        return Err(usage_error(
            "--boottime and --monotonic need the time type",
            USAGE,
        ));
    }
    Ok(options)
}

pub fn command(args: Vec<OsString>) -> Result<u8> {
    let options = parse(args)?;
    let flags = options
        .kinds
        .iter()
        .fold(CloneFlags::empty(), |all, kind| all | kind.clone_flags());
    let names: Vec<&str> = options.kinds.iter().map(|k| k.flag_name).collect();
    let wants = |name: &str| options.kinds.iter().any(|k| k.name == name);
    let (uid, gid) = (Uid::effective(), Gid::effective());

    // ANCHOR: unshare
    let before = read_links(0)?;
    unshare(flags).map_err(|errno| unshare_failure(&names, flags, errno))?;
    if wants("user") {
        map_root(uid, gid)?;
    }
    if wants("mnt") {
        // Mounts made by the command must not propagate to the host.
        let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
        mount(None::<&str>, "/", None::<&str>, private, None::<&str>)
            .map_err(|e| Failure::new(format!("cannot make / private: {e}")))?;
    }
    if wants("time") {
        // Only possible before the first process enters the namespace.
        set_time_offsets(options.boottime, options.monotonic)?;
    }
    let after = read_links(0)?;
    // The report goes to stderr: stdout belongs to the command
    // (`unshare uts -- cat file | jq`). It is written here, before the
    // fork: the child prints nothing while its signals are blocked.
    let mut report = format!(
        "unshare({}) in ch07-inspect (PID {}):\n",
        names.join(" | "),
        getpid()
    );
    report.push_str(&format!(
        "{:<18} {:>12} {:>12}\n",
        "LINK", "BEFORE", "AFTER"
    ));
    for ((name, old), (_, new)) in before.iter().zip(&after) {
        let base = name.trim_end_matches("_for_children");
        if !wants(base) {
            continue;
        }
        let note = match (old, new) {
            (_, Link::Dangling) => "dangling: no process in it until our \
                                    first child"
                .to_string(),
            (a, b) if a == b => "unchanged: unshare does not move the caller \
                                 into this one, only its children"
                .to_string(),
            _ => "new".to_string(),
        };
        report.push_str(&format!(
            "{name:<18} {:>12} {:>12}  {note}\n",
            show(*old),
            show(*new)
        ));
    }
    if wants("pid") {
        report.push_str(
            "our first child is born in the new PID namespace, as its PID 1\n",
        );
    }
    nslab::output::stderr(&report);
    // The child is born in the new namespaces: in a new PID namespace,
    // it is PID 1, the namespace's init.
    let command = nslab::Options {
        command: options.command,
        ..Default::default()
    };
    // Our links, opened now: once the command has run, `/proc` may be
    // another one, where we have no entry (`mount -t proc` by a command
    // in new mount and PID namespaces, which we share the first of).
    let our_links = std::fs::File::open("/proc/self/ns").ok();
    let launch = nslab::Launch::new(TOOL, flags, command)?;
    let status = launch.fork(|_| anyhow::Ok(()))?;
    let pid_for_children = our_links
        .as_ref()
        .and_then(|dir| NsId::at(dir, c"pid_for_children"));
    if wants("pid")
        && let Some(id) = pid_for_children
    {
        // Now that a child was born there, the link names the namespace.
        let link = Link::Namespace(id);
        nslab::output::say(
            TOOL,
            &format!(
                "pid_for_children is now {}: the PID namespace our first \
                 child was PID 1 of",
                show(link)
            ),
        );
    }
    Ok(status)
    // ANCHOR_END: unshare
}

fn show(link: Link) -> String {
    match link {
        Link::Namespace(id) => id.ino.to_string(),
        Link::Dangling => "-".into(),
        Link::Missing => "absent".into(),
    }
}

/// Root inside is our own (effective) uid and gid outside: ch05's
/// `--map-root`, written through the same `nslab::write_self`, with its
/// hints (`/proc` not ours, AppArmor, a map the kernel refuses).
fn map_root(uid: Uid, gid: Gid) -> Result<()> {
    // Writing gid_map unprivileged needs setgroups(2) switched off.
    nslab::write_self("setgroups", "deny")?;
    nslab::write_self("gid_map", &format!("0 {gid} 1\n"))?;
    nslab::write_self("uid_map", &format!("0 {uid} 1\n"))
}

// ANCHOR: timens
/// Shifts the clocks of the new time namespace. The kernel accepts
/// this only until a process is in it: that is, before our fork.
fn set_time_offsets(
    boottime: Option<i64>,
    monotonic: Option<i64>,
) -> Result<()> {
    let mut text = String::new();
    if let Some(secs) = monotonic {
        text.push_str(&format!("monotonic {secs} 0\n"));
    }
    if let Some(secs) = boottime {
        text.push_str(&format!("boottime {secs} 0\n"));
    }
    if text.is_empty() {
        return Ok(());
    }
    std::fs::write("/proc/self/timens_offsets", text).map_err(|e| {
        let hint = match e.raw_os_error() {
            Some(libc::EPERM) => {
                "writing the offsets needs CAP_SYS_TIME in \
                                  the user namespace that owns the new one"
            }
            Some(libc::EACCES) => {
                "a process is in the namespace already: \
                                   its offsets are fixed"
            }
            _ => "an offset may not make a clock negative or overflow it",
        };
        Failure::new(format!("cannot write /proc/self/timens_offsets: {e}"))
            .hint(hint)
    })
}
// ANCHOR_END: timens

fn unshare_failure(names: &[&str], flags: CloneFlags, errno: Errno) -> Failure {
    let failure =
        Failure::new(format!("cannot unshare({}): {errno}", names.join(" | ")));
    let unmapped = nslab::failure::unmapped_hint(flags);
    match errno {
        // Root outside, nobody here: the cause, not "needs root".
        Errno::EPERM if unmapped.is_some() => {
            failure.hint(unmapped.unwrap_or_default())
        }
        Errno::EPERM if !Uid::effective().is_root() => failure.hint(
            "creating namespaces needs root (or add the user type to \
             create them in a user namespace of your own)",
        ),
        Errno::ENOSPC => failure.hint(
            "a /proc/sys/user/max_*_namespaces limit was reached: see \
             `ch07-inspect limits`",
        ),
        Errno::EINVAL => failure.hint(
            "this kernel lacks a type, or we are multi-threaded (user \
             namespaces need a single thread)",
        ),
        _ => failure,
    }
}
