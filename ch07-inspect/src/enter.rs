//! `enter PID|PATH [COMMAND...]`: setns(2), like `nsenter --all`.

use std::ffi::OsString;
use std::fs::File;

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use nix::unistd::{Uid, chdir, chroot, fchdir};

use crate::nsfs::{Kind, NsId, kind_named, ns_get_type, proc_failure};
use crate::{Failure, Result, TOOL, usage_error};

pub const HELP: &str = "\
ch07-inspect enter: run a command in another process's namespaces

Usage: ch07-inspect enter PID [--] [COMMAND [ARG...]]
       ch07-inspect enter PATH [--] [COMMAND [ARG...]]

With PID: joins every namespace of that process with setns(2), as
`nsenter --target PID --all` does, then forks, so that the command is
born inside the target's PID namespace (setns on a PID namespace only
moves our future children), and chroots to the target's root.
With PATH (a file made by `keep`, or any /proc/PID/ns/TYPE): joins
that one namespace, even when no process is left in it.
Without COMMAND: an interactive bash (or sh).

Try: ch07-inspect enter PID sh -c 'hostname; echo $$; ls /proc'
     (PID of a ch04-mount shell that mounted its own /proc)

Exit status: the command's own; 128+N when it was killed by signal N;
125 when the namespaces cannot be entered; 126 when COMMAND cannot be
executed; 127 when it is not found.
";

/// nsenter's order: the user namespace first, then the others, with the
/// mount namespace late because entering it changes what paths mean.
const ORDER: [&str; 8] =
    ["user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"];

pub fn command(mut args: Vec<OsString>) -> Result<u8> {
    let usage = "enter PID|PATH [--] [COMMAND...]";
    if args.is_empty() {
        return Err(usage_error("enter needs a PID or a PATH", usage));
    }
    let target = args
        .remove(0)
        .into_string()
        .map_err(|_| usage_error("the target is not valid UTF-8", usage))?;
    if target.starts_with('-') {
        return Err(usage_error(&format!("unknown option '{target}'"), usage));
    }
    if args.first().is_some_and(|a| a == "--") {
        args.remove(0);
    }
    let entered = if target.chars().all(|c| c.is_ascii_digit()) {
        let pid = crate::nsfs::parse_pid(&target)?;
        enter_process(pid)?
    } else {
        enter_file(&target)?
    };
    eprintln!("{TOOL}: entered {entered}");
    // The command runs as our child, with the chapters' contract. It is
    // not PID 1 where it lands: the target's namespace has one already.
    let options = nslab::Options {
        command: args,
        ..Default::default()
    };
    let launch = nslab::Launch::new(TOOL, CloneFlags::empty(), options)?;
    launch.fork(|_| anyhow::Ok(()))
}

// ANCHOR: enter
/// Joins all the namespaces of `pid`. Returns what it did, in words.
fn enter_process(pid: i32) -> Result<String> {
    // Open everything first: once we are in the target's mount
    // namespace, /proc/PID may no longer mean the same process.
    let mut targets: Vec<(Kind, File)> = Vec::new();
    let mut skipped = String::new();
    let our_user = NsId::of_path("/proc/self/ns/user").ok();
    for name in ORDER {
        let kind = kind_named(name)?;
        let path = format!("/proc/{pid}/ns/{name}");
        let file =
            File::open(&path).map_err(|e| proc_failure(pid, &path, &e))?;
        // setns(2) refuses to re-enter the caller's own user namespace
        // (EINVAL): when it is the same, there is nothing to enter.
        if name == "user" && NsId::of_file(&file).ok() == our_user {
            skipped = " (user: the same as ours, skipped)".into();
            continue;
        }
        targets.push((kind, file));
    }
    let root_path = format!("/proc/{pid}/root");
    let root = File::open(&root_path)
        .map_err(|e| proc_failure(pid, &root_path, &e))?;

    // Two passes, as nsenter: first every namespace but the user one,
    // tolerating failures. Entering a user namespace that we own
    // *drops* privilege, so it must come last; one that owns us grants
    // it, and then what failed in pass one works after it.
    let mut entered = Vec::new();
    for pass in 0..2 {
        for (kind, file) in &targets {
            if entered.contains(&kind.name)
                || (pass == 0 && kind.name == "user")
            {
                continue;
            }
            match setns(file, kind.clone_flags()) {
                Ok(()) => entered.push(kind.name),
                Err(_) if pass == 0 => continue,
                Err(errno) => return Err(setns_failure(kind.name, errno)),
            }
            if kind.name == "mnt" {
                // setns put us at the namespace's root; the target may be
                // chrooted below it: use its root, as `nsenter -r`.
                fchdir(&root)
                    .and_then(|()| chroot("."))
                    .and_then(|()| chdir("/"))
                    .map_err(|errno| {
                        Failure::new(format!(
                            "cannot chroot to {root_path}: {errno}"
                        ))
                    })?;
            }
        }
    }
    Ok(format!("{} of PID {pid}{skipped}", entered.join(" ")))
}
// ANCHOR_END: enter

/// Joins the one namespace that `path` refers to.
fn enter_file(path: &str) -> Result<String> {
    let file = File::open(path).map_err(|e| {
        Failure::new(format!("cannot open {path}: {e}")).hint(
            "give a PID, a /proc/PID/ns/TYPE file or a file made by `keep`",
        )
    })?;
    let kind = ns_get_type(&file).map_err(|errno| {
        Failure::new(format!("{path} is not a namespace file ({errno})"))
            .hint("give a PID, or a file made by `ch07-inspect keep`")
    })?;
    setns(&file, kind.clone_flags())
        .map_err(|errno| setns_failure(kind.name, errno))?;
    if kind.name == "mnt" {
        // Like nsenter: start at the root of the mount namespace.
        let _ = chdir("/");
    }
    let id = NsId::of_file(&file).map_or(0, |id| id.ino);
    Ok(format!("{}:[{id}] from {path}", kind.name))
}

fn setns_failure(name: &str, errno: Errno) -> Failure {
    let failure =
        Failure::new(format!("cannot enter the {name} namespace: {errno}"));
    match errno {
        Errno::EPERM if !Uid::effective().is_root() => {
            failure.hint("setns(2) needs CAP_SYS_ADMIN: run as root (sudo)")
        }
        Errno::EPERM => failure.hint(
            "the namespace belongs to a user namespace that we do not \
             own, or a seccomp filter forbids setns",
        ),
        Errno::EINVAL if name == "user" => failure.hint(
            "setns(2) cannot re-enter our own user namespace, nor enter a \
             user namespace from a multi-threaded process",
        ),
        _ => failure,
    }
}
