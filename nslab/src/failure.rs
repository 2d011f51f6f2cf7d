//! A failure of the tool itself: one line that names the step and the
//! errno, and a `hint:` line where we know the likely cause.
//!
//! The binaries use `anyhow` and add `.context("the step")`; this crate
//! keeps a typed [`Failure`] that carries its hint, and [`report`] finds
//! it (or a bare [`Errno`]) in the error's chain by downcasting.

use std::error::Error;
use std::fmt;

use nix::errno::Errno;
use nix::sched::CloneFlags;

use crate::namespaces::kinds_in;
use crate::output;

/// What failed, the kernel's errno if there is one, and a hint.
#[derive(Debug)]
pub struct Failure {
    what: String,
    errno: Option<Errno>,
    hint: Option<String>,
}

impl Failure {
    /// A failure with no errno: a bad argument, a refused request.
    pub fn new(what: impl Into<String>) -> Failure {
        Failure {
            what: what.into(),
            errno: None,
            hint: None,
        }
    }

    /// A failed system call: `what` names the step.
    pub fn errno(what: impl Into<String>, errno: Errno) -> Failure {
        Failure {
            errno: Some(errno),
            ..Failure::new(what)
        }
    }

    /// A failed file operation: `what` names the step.
    pub fn io(what: impl Into<String>, error: &std::io::Error) -> Failure {
        Failure::errno(what, Errno::from_raw(error.raw_os_error().unwrap_or(0)))
    }

    /// The same failure with a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// The errno of the failed call, if any.
    pub fn os_error(&self) -> Option<Errno> {
        self.errno
    }

    /// The hint, if any.
    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno {
            Some(errno) => write!(f, "{}: {errno}", self.what),
            None => write!(f, "{}", self.what),
        }
    }
}

impl Error for Failure {}

/// The error's message as one line: each step, then its cause.
pub fn message(error: &(dyn Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.last().is_some_and(|last| last.ends_with(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ").replace('\n', " ")
}

// ANCHOR: hint
/// The hint for an error: a [`Failure`]'s own, or the one that a bare
/// errno gets when the tool creates `namespaces`.
pub fn hint(
    tool: &str,
    namespaces: CloneFlags,
    error: &(dyn Error + 'static),
) -> Option<String> {
    let mut errno = None;
    let mut next = Some(error);
    while let Some(cause) = next {
        if let Some(failure) = cause.downcast_ref::<Failure>() {
            if failure.hint.is_some() {
                return failure.hint.clone();
            }
            errno = errno.or(failure.errno);
        } else if let Some(&found) = cause.downcast_ref::<Errno>() {
            errno = errno.or(Some(found));
        } else if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            errno = errno.or(io.raw_os_error().map(Errno::from_raw));
        }
        next = cause.source();
    }
    namespace_hint(tool, namespaces, errno?)
}
// ANCHOR_END: hint

// ANCHOR: report
/// Prints the error as one line and its hint on a second.
pub fn report(
    tool: &str,
    namespaces: CloneFlags,
    error: &(dyn Error + 'static),
) {
    let mut text = format!("{tool}: {}\n", message(error));
    if let Some(hint) = hint(tool, namespaces, error) {
        text.push_str(&format!("hint: {hint}\n"));
    }
    output::stderr(&text);
}
// ANCHOR_END: report

/// The `/proc/sys/user` limit files for the types in `namespaces`.
pub fn limit_files(namespaces: CloneFlags) -> Vec<String> {
    kinds_in(namespaces)
        .map(|kind| format!("max_{}_namespaces", kind.name))
        .collect()
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_string())
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Ubuntu 24.04 lets unprivileged users create a user namespace but,
/// through AppArmor, takes the capabilities away inside it.
const APPARMOR_SETTING: &str = "kernel.apparmor_restrict_unprivileged_userns";

/// The AppArmor hint, only where that setting exists and is 1.
pub fn apparmor_hint() -> Option<String> {
    let value =
        read_trimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")?;
    (value == "1").then(|| {
        format!(
            "{APPARMOR_SETTING} = 1 (Ubuntu 24.04): AppArmor denies \
             unprivileged user namespaces their capabilities; run as root, \
             or see the book's troubleshooting page"
        )
    })
}

/// True when `id` has no line of an id map (`/proc/self/uid_map`) that
/// covers it: each line is "inside outside count".
fn map_covers(map: &str, id: u32) -> bool {
    map.lines().any(|line| {
        let fields: Vec<u64> = line
            .split_whitespace()
            .filter_map(|field| field.parse().ok())
            .collect();
        matches!(fields[..], [inside, _, count]
            if inside <= u64::from(id) && u64::from(id) < inside + count)
    })
}

/// True when the id we act with has no mapping in the user namespace
/// we are in. The kernel then shows it as the overflow id (nobody),
/// whatever it is outside: host root that entered a namespace owned by
/// someone else (`nsenter -U --preserve-credentials`), or anyone in a
/// new one without a map (`unshare -U`, ch05 without `--map-root`).
fn id_unmapped(map: &str, id: u32, overflow: &str) -> bool {
    let overflow = read_trimmed(overflow)
        .and_then(|text| text.parse::<u32>().ok())
        .unwrap_or(65534);
    id == overflow
        && std::fs::read_to_string(map).is_ok_and(|map| !map_covers(&map, id))
}

/// True when our effective uid has no mapping here: we are nobody in
/// this user namespace and hold no capability in it, even if we are
/// root outside.
pub fn uid_unmapped_here() -> bool {
    let euid = nix::unistd::Uid::effective().as_raw();
    id_unmapped("/proc/self/uid_map", euid, "/proc/sys/kernel/overflowuid")
}

/// True when our effective uid or gid has no mapping in the user
/// namespace we are in: the kernel refuses to let us create a user
/// namespace, which needs an owner and a group it can name.
pub fn unmapped_here() -> bool {
    let egid = nix::unistd::Gid::effective().as_raw();
    uid_unmapped_here()
        || id_unmapped(
            "/proc/self/gid_map",
            egid,
            "/proc/sys/kernel/overflowgid",
        )
}

/// The hint for EPERM when our ids have no mapping where we are: the
/// cause, rather than "needs root" (we may be root outside).
pub fn unmapped_hint(namespaces: CloneFlags) -> Option<String> {
    if namespaces.contains(CloneFlags::CLONE_NEWUSER) && unmapped_here() {
        return Some(
            "our uid has no mapping in this user namespace (or our gid has \
             none): we are nobody here, whoever we are outside, and the \
             kernel lets no unmapped user create one: give the outer \
             namespace a map (--map-root), or run from the host"
                .into(),
        );
    }
    uid_unmapped_here().then(|| {
        "our uid has no mapping in this user namespace: we are nobody \
         here, with no capabilities, whoever we are outside (root too); \
         run from a namespace that maps us (`unshare -U --map-root-user`, \
         ch05's --map-root) or from the host"
            .into()
    })
}

/// True when our children would go to another PID namespace than ours:
/// someone called unshare(CLONE_NEWPID) on us without forking after.
/// (The link of a new PID namespace that has no process yet cannot be
/// read: that differs too.)
fn pid_for_children_differs() -> bool {
    let pid = std::fs::read_link("/proc/self/ns/pid").ok();
    let children = std::fs::read_link("/proc/self/ns/pid_for_children").ok();
    pid.is_some() && children != pid
}

/// The path to give in a hint that says to run this program as root:
/// found through `PATH`, the bare name would fail under sudo, whose
/// `secure_path` does not have it, so the full path.
pub fn program_path(tool: &str) -> String {
    std::env::args()
        .next()
        .filter(|argv0| argv0.contains('/'))
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.to_str()?.to_owned())
        })
        .unwrap_or_else(|| tool.into())
}

/// This very command line as root, to type: `sudo /full/path ARGS...`,
/// each argument quoted for the shell where it needs to be.
pub fn sudo_command(tool: &str) -> String {
    let quote = |word: String| {
        let plain = !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_./=:,+-@%".contains(c));
        if plain {
            word
        } else {
            format!("'{}'", word.replace('\'', r"'\''"))
        }
    };
    let args = std::env::args().skip(1).map(quote);
    std::iter::once(format!("sudo {}", quote(program_path(tool))))
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The hint for `errno` from a tool that creates `namespaces`.
pub fn namespace_hint(
    tool: &str,
    namespaces: CloneFlags,
    errno: Errno,
) -> Option<String> {
    let with_user = namespaces.contains(CloneFlags::CLONE_NEWUSER);
    match errno {
        Errno::EPERM if unmapped_hint(namespaces).is_some() => {
            unmapped_hint(namespaces)
        }
        Errno::EPERM
            if with_user
                && read_trimmed(
                    "/proc/sys/kernel/unprivileged_userns_clone",
                )
                .as_deref()
                    == Some("0") =>
        {
            Some(
                "kernel.unprivileged_userns_clone = 0 (a Debian kernel \
                 setting): user namespaces are for root only; run as root \
                 or `sysctl -w kernel.unprivileged_userns_clone=1`"
                    .into(),
            )
        }
        Errno::EPERM if with_user && !is_root() => {
            apparmor_hint().or_else(|| {
                Some(
                    "user namespaces are denied to this user here (a \
                     seccomp filter, or a security module): run as root"
                        .into(),
                )
            })
        }
        Errno::EPERM if !is_root() => {
            let program = program_path(tool);
            Some(format!(
                "creating namespaces needs root: run it as root, with \
                 `sudo {program}` or `cargo sudo-run -p {tool}`, or without \
                 sudo `su -c {program}`"
            ))
        }
        Errno::EPERM => Some(
            "root lacks CAP_SYS_ADMIN here (a container or a seccomp \
             filter?): try a Linux VM"
                .into(),
        ),
        Errno::ENOSPC => Some(limit_hint(namespaces)),
        Errno::EINVAL
            if namespaces.contains(CloneFlags::CLONE_NEWPID)
                && pid_for_children_differs() =>
        {
            Some(
                "this process was moved with unshare(CLONE_NEWPID) but did \
                 not fork: its children belong to another PID namespace, \
                 where no new one can be made; use `unshare --fork`"
                    .into(),
            )
        }
        Errno::EINVAL => missing_type_hint(namespaces),
        Errno::EMFILE => Some(
            "this process has too many files open: raise its limit \
             (`ulimit -n`)"
                .into(),
        ),
        Errno::ENFILE => Some(
            "the system has too many files open (fs.file-max): close some"
                .into(),
        ),
        Errno::ENOMEM if pid_for_children_differs() => Some(
            "the PID namespace our children would join has no init any \
             more (its PID 1 exited): no process can be born in it"
                .into(),
        ),
        Errno::ENOMEM => Some(
            "out of memory: is the address space limited (`ulimit -v`)?".into(),
        ),
        _ => None,
    }
}

/// Names a namespace type this kernel lacks, if one of `namespaces` is.
fn missing_type_hint(namespaces: CloneFlags) -> Option<String> {
    kinds_in(namespaces)
        .find(|kind| {
            !std::path::Path::new(&format!("/proc/self/ns/{}", kind.name))
                .exists()
        })
        .map(|kind| {
            format!(
                "this kernel has no {} namespace (Linux >= {} has it, if it \
                 is enabled)",
                kind.name, kind.since
            )
        })
}

/// Names the `/proc/sys/user/max_*_namespaces` limit that was reached.
///
/// The limits are per user namespace, and a namespace counts against its
/// own user namespace and every one above it; a process can read only
/// the limits of the user namespace it is in.
pub fn limit_hint(namespaces: CloneFlags) -> String {
    let limits: Vec<(String, String)> = limit_files(namespaces)
        .into_iter()
        .map(|name| {
            let value = read_trimmed(&format!("/proc/sys/user/{name}"))
                .unwrap_or_else(|| "?".into());
            (format!("user.{name}"), value)
        })
        .collect();
    if let Some((setting, _)) = limits.iter().find(|(_, value)| value == "0") {
        return format!(
            "the limit {setting} is 0 (/proc/sys/{}): raise it with \
             `sysctl -w {setting}=1000`",
            setting.replace('.', "/")
        );
    }
    let listed: Vec<String> = limits
        .iter()
        .map(|(setting, value)| format!("{setting} = {value}"))
        .collect();
    let nested = read_trimmed("/proc/self/uid_map").is_some_and(|map| {
        map.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"]
    });
    let above = if nested {
        "; we are in a nested user namespace, and the limits of the user \
         namespaces above it count too (read them there)"
    } else {
        ""
    };
    format!(
        "a namespace limit was reached: here {}{above}; or the nesting \
         depth (at most 32 PID or user namespaces)",
        listed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_prints_its_step_and_errno() {
        let failure = Failure::errno("cannot create a pipe", Errno::EMFILE);
        assert_eq!(
            failure.to_string(),
            "cannot create a pipe: EMFILE: Too many open files"
        );
        assert_eq!(Failure::new("bad").to_string(), "bad");
    }

    #[test]
    fn a_failures_own_hint_wins() {
        let failure = Failure::errno("x", Errno::ENOSPC).hint("mine");
        assert_eq!(
            hint("t", CloneFlags::CLONE_NEWUTS, &failure).as_deref(),
            Some("mine")
        );
    }

    #[test]
    fn limit_files_follow_the_flags() {
        let flags = CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNET;
        assert_eq!(
            limit_files(flags),
            ["max_net_namespaces", "max_uts_namespaces"]
        );
        assert!(limit_files(CloneFlags::empty()).is_empty());
    }

    #[test]
    fn enospc_names_the_limits_of_the_flags() {
        let hint = namespace_hint("t", CloneFlags::CLONE_NEWIPC, Errno::ENOSPC)
            .unwrap();
        assert!(hint.contains("user.max_ipc_namespaces"), "{hint}");
        assert!(!hint.contains("max_uts"), "{hint}");
    }

    #[test]
    fn an_errno_in_the_chain_gets_the_namespace_hint() {
        #[derive(Debug)]
        struct Step(Errno);
        impl fmt::Display for Step {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("cannot create namespaces (clone)")
            }
        }
        impl Error for Step {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        let error = Step(Errno::ENOSPC);
        assert_eq!(
            message(&error),
            "cannot create namespaces (clone): ENOSPC: No space left on device"
        );
        let hint = hint("t", CloneFlags::CLONE_NEWUTS, &error).unwrap();
        assert!(hint.contains("max_uts_namespaces"), "{hint}");
        assert_eq!(hint_for_unknown(), None);
    }

    #[test]
    fn an_id_is_mapped_only_inside_a_lines_range() {
        let map = "         0       1000          1\n       100     100000     65536\n";
        assert!(map_covers(map, 0));
        assert!(!map_covers(map, 1));
        assert!(map_covers(map, 65534));
        assert!(!map_covers(map, 65636));
        assert!(!map_covers("", 65534));
    }

    fn hint_for_unknown() -> Option<String> {
        namespace_hint("t", CloneFlags::CLONE_NEWUTS, Errno::EBADF)
    }
}
