//! `enter PID|PATH [COMMAND...]`: setns(2), like `nsenter --all`.

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use nix::unistd::{Gid, Uid, chdir, chroot, fchdir, setgid, setgroups, setuid};

use crate::nsfs::{
    Kind, NsId, kind_named, ns_get_type, open_namespace, proc_failure,
};
use crate::{Failure, Result, TOOL, usage_error};

pub const HELP: &str = "\
ch07-inspect enter: run a command in another process's namespaces

Usage: ch07-inspect enter [--preserve-credentials] [--] PID [--] [COMMAND [ARG...]]
       ch07-inspect enter [--preserve-credentials] [--] PATH [--] [COMMAND [ARG...]]

With PID: joins every namespace of that process with setns(2), as
`nsenter --target PID --all` does, then forks, so that the command is
born inside the target's PID namespace (setns on a PID namespace only
moves our future children), and chroots to the target's root. The
process is held by a pidfd: if it exits while its files are opened
(its PID could then name another), nothing is entered.
With PATH (a file made by `keep`, or any /proc/PID/ns/TYPE): joins
that one namespace, even when no process is left in it. PATH is looked
at without opening it first (O_PATH): a FIFO, a device or any file that
is not on nsfs is refused.
Without COMMAND: an interactive bash (or sh).

Credentials, as nsenter: when a user namespace is joined (not our own),
the command runs as root of it, uid 0 and gid 0 with no supplementary
groups, so that what it does counts as the container's root (a file it
creates belongs to the uid that 0 maps to). Where uid or gid 0 has no
mapping in that user namespace, enter fails and says so.

Options:
      --preserve-credentials  keep our uid, gid and groups in the joined
                              user namespace (where ours has no mapping,
                              the command sees itself as nobody, yet
                              still acts with our real ids on the host)
  -h, --help                  print this help

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

const USAGE: &str = "enter [--preserve-credentials] [--] PID|PATH [--] \
                     [COMMAND...]";

pub fn command(args: Vec<OsString>) -> Result<u8> {
    let mut args = args.into_iter().peekable();
    let mut preserve = false;
    // Options come before the target; `--` ends them.
    while let Some(option) = args.next_if(|a| {
        a.to_str()
            .is_some_and(|a| a.starts_with('-') && a.len() > 1)
    }) {
        match option.to_str().unwrap_or_default() {
            "--" => break,
            "--preserve-credentials" => preserve = true,
            other => {
                return Err(usage_error(
                    &format!("unknown option '{other}'"),
                    USAGE,
                ));
            }
        }
    }
    let Some(target) = args.next() else {
        return Err(usage_error("enter needs a PID or a PATH", USAGE));
    };
    let target = target
        .into_string()
        .map_err(|_| usage_error("the target is not valid UTF-8", USAGE))?;
    let mut command: Vec<OsString> = args.collect();
    if command.first().is_some_and(|a| a == "--") {
        command.remove(0);
    }
    // Our own `/proc`, opened before we join another mount namespace,
    // where `/proc` may show another PID namespace: with it, what the
    // command leaves behind can still be found and ended.
    nslab::reap::open_proc();
    let (entered, user) = if target.chars().all(|c| c.is_ascii_digit()) {
        let pid = crate::nsfs::parse_pid(&target)?;
        enter_process(pid, preserve)?
    } else {
        enter_file(&target, preserve)?
    };
    let credentials = if user && !preserve {
        become_root()?;
        ", as uid 0 gid 0 of its user namespace"
    } else if user {
        ", with our credentials preserved"
    } else {
        ""
    };
    nslab::output::say(TOOL, &format!("entered {entered}{credentials}"));
    // The command runs as our child, with the chapters' contract. It is
    // not PID 1 where it lands: the target's namespace has one already.
    let options = nslab::Options {
        command,
        ..Default::default()
    };
    let launch = nslab::Launch::new(TOOL, CloneFlags::empty(), options)?;
    launch.fork(|_| anyhow::Ok(()))
}

// ANCHOR: credentials
/// As `nsenter` without `--preserve-credentials`: after joining a user
/// namespace, become its root. setns(2) gave us every capability in it,
/// but kept our ids; a uid that has no mapping there shows as nobody,
/// while the kernel still checks files with our real uid outside.
fn become_root() -> Result<()> {
    // Supplementary groups were cleared before setns (as host root that
    // always works); where setgroups is denied in the target
    // (/proc/PID/setgroups "deny"), an empty list is what we have. Where
    // it is denied and we could not clear them before either (we run
    // in such a namespace already, say inside `ch05-user --map-root`),
    // no process of the namespace can change its groups: we keep ours,
    // as they all do. (nsenter fails there; we go on, on purpose.)
    if let Err(errno) = setgroups(&[]) {
        let cleared = nix::unistd::getgroups().is_ok_and(|g| g.is_empty());
        let frozen = errno == Errno::EPERM
            && std::fs::read_to_string("/proc/self/setgroups")
                .is_ok_and(|text| text.trim() == "deny");
        if !cleared && !frozen {
            return Err(Failure::errno(
                "cannot clear the supplementary groups (setgroups)",
                errno,
            ));
        }
    }
    let unmapped = |what: &str, errno| {
        Failure::errno(
            format!("cannot become {what} 0 of the target's user namespace"),
            errno,
        )
        .hint(format!(
            "{what} 0 has no mapping there (its {what}_map does not map \
             0): use --preserve-credentials to keep our own ids"
        ))
    };
    setgid(Gid::from_raw(0)).map_err(|e| unmapped("gid", e))?;
    setuid(Uid::from_raw(0)).map_err(|e| unmapped("uid", e))
}
// ANCHOR_END: credentials

// ANCHOR: enter
/// Joins all the namespaces of `pid`. Returns what it did, in words,
/// and whether it joined a user namespace. With `preserve`, our
/// supplementary groups stay, as with `nsenter --preserve-credentials`.
fn enter_process(pid: i32, preserve: bool) -> Result<(String, bool)> {
    // A pidfd names this process and never another that later gets the
    // same number, as PIDs are reused once a process is gone.
    let pidfd = pidfd_open(pid)?;
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
    // Every /proc/PID above meant the process of the pidfd only if it
    // is still there now: had it exited, PID could name another one,
    // and we would mix the namespaces of two processes.
    if !still_running(&pidfd) {
        return Err(Failure::new(format!(
            "PID {pid} exited while its namespaces were being opened"
        ))
        .hint(
            "nothing was entered: its number may belong to another process \
             by now; give the PID of a running process",
        ));
    }
    let joins_user = targets.iter().any(|(kind, _)| kind.name == "user");
    if joins_user && !preserve {
        // As nsenter: drop our groups while we still may; in the target
        // user namespace setgroups(2) may be denied.
        let _ = setgroups(&[]);
    }

    // All at once where the kernel can (Linux 5.8): setns(2) with the
    // pidfd and a mask of types joins them in one step, or none. Else,
    // two passes, as nsenter: first every namespace but the user one,
    // tolerating failures. Joining a user namespace gives capabilities
    // only inside it: root loses its hold on the host's namespaces, so
    // that join comes last; an ordinary user gains its hold on the
    // namespaces it owns, so what failed in pass one works after it.
    let mask = targets.iter().fold(CloneFlags::empty(), |all, (kind, _)| {
        all | kind.clone_flags()
    });
    let mut entered = Vec::new();
    if setns(&pidfd, mask).is_ok() {
        // In the words of the two passes: the user namespace last.
        let (user, others): (Vec<_>, Vec<_>) =
            targets.iter().partition(|(kind, _)| kind.name == "user");
        entered.extend(others.iter().chain(&user).map(|(kind, _)| kind.name));
    }
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
        }
    }
    if entered.contains(&"mnt") {
        // setns put us at the namespace's root; the target may be
        // chrooted below it: use its root, as `nsenter -r`.
        fchdir(&root)
            .and_then(|()| chroot("."))
            .and_then(|()| chdir("/"))
            .map_err(|errno| {
                Failure::new(format!("cannot chroot to {root_path}: {errno}"))
            })?;
    }
    let words = format!("{} of PID {pid}{skipped}", entered.join(" "));
    Ok((words, joins_user))
}
// ANCHOR_END: enter

/// pidfd_open(2) (Linux 5.3): a descriptor for process `pid`.
fn pidfd_open(pid: i32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open(2) takes two integers and returns a new fd.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(match Errno::last() {
            Errno::ESRCH => crate::nsfs::no_such_process(pid),
            errno => Failure::errno(format!("cannot open PID {pid}"), errno),
        });
    }
    // SAFETY: the kernel just gave us this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// True while the process of `pidfd` has not exited (or exited but is
/// not yet reaped: its number is still its own).
fn still_running(pidfd: &OwnedFd) -> bool {
    // SAFETY: pidfd_send_signal(2) with signal 0 only checks that the
    // process exists; the null siginfo pointer is allowed.
    let sent = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    sent == 0
}

/// Joins the one namespace that `path` refers to.
fn enter_file(path: &str, preserve: bool) -> Result<(String, bool)> {
    let file = open_namespace(path)?;
    let kind = ns_get_type(&file).map_err(|errno| {
        Failure::errno(format!("{path}: NS_GET_NSTYPE"), errno)
    })?;
    let user = kind.name == "user";
    if user {
        if NsId::of_file(&file).ok() == NsId::of_path("/proc/self/ns/user").ok()
        {
            return Err(Failure::new(format!(
                "{path} is our own user namespace"
            ))
            .hint(
                "setns(2) cannot re-enter it, and there is nothing to enter",
            ));
        }
        if !preserve {
            let _ = setgroups(&[]);
        }
    }
    setns(&file, kind.clone_flags())
        .map_err(|errno| setns_failure(kind.name, errno))?;
    if kind.name == "mnt" {
        // Like nsenter: start at the root of the mount namespace.
        let _ = chdir("/");
    }
    let id = NsId::of_file(&file).map_or(0, |id| id.ino);
    Ok((format!("{}:[{id}] from {path}", kind.name), user))
}

fn setns_failure(name: &str, errno: Errno) -> Failure {
    let failure =
        Failure::new(format!("cannot enter the {name} namespace: {errno}"));
    match errno {
        Errno::EPERM if !Uid::effective().is_root() => failure.hint(format!(
            "setns(2) needs CAP_SYS_ADMIN: run as root, `{}`",
            nslab::failure::sudo_command("ch07-inspect")
        )),
        Errno::EPERM => failure.hint(
            "the namespace belongs to a user namespace that we do not \
             own, or a seccomp filter forbids setns",
        ),
        Errno::EINVAL if name == "pid" => failure.hint(
            "a process may join only its own PID namespace or one below \
             it (pid_namespaces(7)): this one is above ours, or beside it",
        ),
        Errno::EINVAL if name == "user" => failure.hint(
            "setns(2) cannot re-enter our own user namespace, nor enter a \
             user namespace from a multi-threaded process",
        ),
        _ => failure,
    }
}
