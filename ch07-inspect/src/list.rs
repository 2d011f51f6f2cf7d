//! `list [TYPE]` and `limits`: every namespace on the system.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;

use crate::nsfs::{
    KINDS, Kind, NsId, kind_named, open_namespace, require_proc,
};
use crate::{Failure, Result, usage_error, words};

pub const HELP_LIST: &str = "\
ch07-inspect list: every namespace on the system, like lsns

Usage: ch07-inspect list [TYPE]

There is no system call that lists namespaces: like lsns(8), we read
/proc/PID/ns/* of every process and group the links by (type, inode).
For each namespace: its inode, type, how many processes are in it, the
lowest of their PIDs, that process's user and command line (control
characters shown as \\xNN, as lsns does, so that a command line cannot
fake a row; bytes that are not UTF-8 as U+FFFD).
Namespaces that no process is in but a bind mount keeps alive (see
`keep`) are listed with 0 processes and the mount's path.

TYPE is one of cgroup, ipc, mnt, net, pid, time, user, uts.

Try: ch07-inspect list; ch07-inspect list net   (with a chapter running)
";

pub const HELP_LIMITS: &str = "\
ch07-inspect limits: how many namespaces of each type may exist

Usage: ch07-inspect limits

Shows /proc/sys/user/max_<type>_namespaces next to the number of
namespaces of that type found now (in /proc/*/ns and nsfs bind mounts).
The limits count, per user namespace, the namespaces created in it and
its descendants; creating one more than the limit fails with ENOSPC.
Setting a limit to 0 forbids that type: `sysctl user.max_net_namespaces=0`.

Try: ch07-inspect limits
";

/// One namespace found on the system.
pub struct Namespace {
    pub kind: Kind,
    pub id: NsId,
    /// The processes in it, lowest PID first.
    pub pids: Vec<i32>,
    /// Where a bind mount keeps it alive, for one without processes.
    pub mount: Option<String>,
}

impl Namespace {
    /// Opens the namespace, through a process or its bind mount.
    pub fn open(&self) -> std::io::Result<File> {
        match (self.pids.first(), &self.mount) {
            (Some(pid), _) => {
                File::open(format!("/proc/{pid}/ns/{}", self.kind.name))
            }
            (None, Some(path)) => File::open(path),
            (None, None) => Err(std::io::ErrorKind::NotFound.into()),
        }
    }

    /// `type:[inode]`, as the kernel names it.
    pub fn describe(&self) -> String {
        format!("{}:[{}]", self.kind.name, self.id.ino)
    }

    /// Who the lowest PID is: "PID USER COMMAND".
    pub fn owner_text(&self) -> String {
        match (self.pids.first(), &self.mount) {
            (Some(&pid), _) => {
                format!("{pid} {} {}", user_of(pid), command_line(pid))
            }
            (None, Some(path)) => format!("- - (bind mount at {path})"),
            (None, None) => "- - -".into(),
        }
    }
}

// ANCHOR: list
/// Every namespace that a process is in or a bind mount keeps, sorted
/// by inode. Processes that vanish while we look are skipped, and so
/// are those whose links we may not read (as lsns does); any other
/// failure to read /proc is an error, not an empty answer.
pub fn scan() -> Result<Vec<Namespace>> {
    let mut found: BTreeMap<(NsId, Kind), Vec<i32>> = BTreeMap::new();
    for pid in all_pids()? {
        for kind in KINDS {
            let path = format!("/proc/{pid}/ns/{}", kind.name);
            match NsId::of_path(&path) {
                Ok(id) => found.entry((id, kind)).or_default().push(pid),
                Err(e) if gone_or_hidden(&e) => continue,
                Err(e) => {
                    return Err(Failure::io(format!("cannot stat {path}"), &e));
                }
            }
        }
    }
    let mut namespaces: Vec<Namespace> = found
        .into_iter()
        .map(|((id, kind), pids)| Namespace {
            kind,
            id,
            pids,
            mount: None,
        })
        .collect();
    // A bind-mounted namespace file is an "nsfs" mount in mountinfo.
    for (path, id, kind) in nsfs_mounts()? {
        if !namespaces.iter().any(|n| n.id == id && n.kind == kind) {
            namespaces.push(Namespace {
                kind,
                id,
                pids: Vec::new(),
                mount: Some(path),
            });
        }
    }
    namespaces.sort_by_key(|n| (n.id.ino, n.kind));
    Ok(namespaces)
}

/// True for the failures that mean "nothing to see here": the process
/// exited (ENOENT, ESRCH), it is a zombie (its links point nowhere), or
/// its links are not ours to read (EACCES, EPERM), as lsns skips them.
pub fn gone_or_hidden(error: &std::io::Error) -> bool {
    matches!(
        Errno::from_raw(error.raw_os_error().unwrap_or(0)),
        Errno::ENOENT | Errno::ESRCH | Errno::EACCES | Errno::EPERM
    )
}

/// The PIDs in /proc, lowest first (kernel threads included, as lsns).
fn all_pids() -> Result<Vec<i32>> {
    require_proc()?;
    let failed = |e: std::io::Error| Failure::io("cannot list /proc", &e);
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").map_err(failed)? {
        let name = entry.map_err(failed)?.file_name();
        if let Some(pid) = name.to_str().and_then(|n| n.parse().ok()) {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    Ok(pids)
}

/// The nsfs mounts of our mount namespace: (path, identity, type).
pub fn nsfs_mounts() -> Result<Vec<(String, NsId, Kind)>> {
    require_proc()?;
    let table = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| Failure::io("cannot read /proc/self/mountinfo", &e))?;
    let mut mounts = Vec::new();
    for line in table.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        if right.split_whitespace().next() != Some("nsfs") {
            continue;
        }
        let Some(path) = left.split_whitespace().nth(4).map(unescape) else {
            continue;
        };
        let file = match open_namespace(&path) {
            Ok(file) => file,
            // Hidden under another mount, gone, or out of our reach.
            Err(f)
                if matches!(
                    f.os_error(),
                    None | Some(Errno::ENOENT | Errno::EACCES | Errno::EPERM)
                ) =>
            {
                continue;
            }
            Err(f) => return Err(f),
        };
        let kind = crate::nsfs::ns_get_type(&file)
            .map_err(|e| Failure::errno(format!("{path}: NS_GET_NSTYPE"), e))?;
        let id = NsId::of_file(&file)
            .map_err(|e| Failure::io(format!("cannot stat {path}"), &e))?;
        mounts.push((path, id, kind));
    }
    Ok(mounts)
}

/// mountinfo writes space, tab, newline and backslash as octal `\040`.
pub fn unescape(field: &str) -> String {
    let mut out = Vec::new();
    let bytes = field.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok()
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn list_command(args: Vec<OsString>) -> Result<u8> {
    let usage = "list [TYPE]";
    let words = words(args, usage)?;
    let only = match words.as_slice() {
        [] => None,
        [name] => Some(kind_named(name)?),
        _ => return Err(usage_error("too many arguments", usage)),
    };
    let namespaces = scan()?;
    outln!(
        "{:>10} {:<6} {:>6} {:>7} {:<8} COMMAND",
        "NS",
        "TYPE",
        "NPROCS",
        "PID",
        "USER"
    );
    for namespace in namespaces {
        if only.is_some_and(|kind| kind != namespace.kind) {
            continue;
        }
        let owner = namespace.owner_text();
        let mut owner = owner.splitn(3, ' ');
        outln!(
            "{:>10} {:<6} {:>6} {:>7} {:<8} {}",
            namespace.id.ino,
            namespace.kind.name,
            namespace.pids.len(),
            owner.next().unwrap_or("-"),
            owner.next().unwrap_or("-"),
            owner.next().unwrap_or("-"),
        );
    }
    Ok(0)
}
// ANCHOR_END: list

/// The owner of a process, by name where /etc/passwd knows it.
fn user_of(pid: i32) -> String {
    let Ok(meta) = std::fs::metadata(format!("/proc/{pid}")) else {
        return "?".into();
    };
    let uid = meta.uid();
    nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map_or(uid.to_string(), |user| user.name)
}

/// The command line of a process; `comm` for kernel threads, which
/// have none.
pub fn command_line(pid: i32) -> String {
    let cmdline =
        std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    if words.is_empty() {
        crate::nsfs::comm(pid)
    } else {
        crate::nsfs::escape(&words.join(" "))
    }
}

// ANCHOR: limits
pub fn limits_command(args: Vec<OsString>) -> Result<u8> {
    let usage = "limits";
    if !words(args, usage)?.is_empty() {
        return Err(usage_error("limits takes no arguments", usage));
    }
    let namespaces = scan()?;
    outln!("{:<7} {:>10} {:>6}  SYSCTL FILE", "TYPE", "MAX", "NOW");
    for kind in KINDS {
        let path = kind.limit_file();
        let max = match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().to_string(),
            // An older kernel without this type has no such limit.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "-".into(),
            Err(e) => {
                return Err(Failure::io(format!("cannot read {path}"), &e));
            }
        };
        let now = namespaces.iter().filter(|n| n.kind == kind).count();
        outln!("{:<7} {max:>10} {now:>6}  {path}", kind.name);
    }
    outln!(
        "MAX is per user namespace (and counts its descendants' too); \
         NOW counts the namespaces visible from here."
    );
    Ok(0)
}
// ANCHOR_END: limits
