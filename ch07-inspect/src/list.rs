//! `list [TYPE]` and `limits`: every namespace on the system.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::MetadataExt;

use crate::nsfs::{KINDS, Kind, NsId, kind_named};
use crate::{Result, usage_error, words};

pub const HELP_LIST: &str = "\
ch07-inspect list: every namespace on the system, like lsns

Usage: ch07-inspect list [TYPE]

There is no system call that lists namespaces: like lsns(8), we read
/proc/PID/ns/* of every process and group the links by (type, inode).
For each namespace: its inode, type, how many processes are in it, the
lowest of their PIDs, that process's user and command line.
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
/// are those whose links we may not read (as lsns does).
pub fn scan() -> Vec<Namespace> {
    let mut found: BTreeMap<(NsId, Kind), Vec<i32>> = BTreeMap::new();
    for pid in all_pids() {
        for kind in KINDS {
            let path = format!("/proc/{pid}/ns/{}", kind.name);
            if let Ok(id) = NsId::of_path(&path) {
                found.entry((id, kind)).or_default().push(pid);
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
    for (path, id, kind) in nsfs_mounts() {
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
    namespaces
}

/// The PIDs in /proc, lowest first (kernel threads included, as lsns).
fn all_pids() -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    pids
}

/// The nsfs mounts of our mount namespace: (path, identity, type).
pub fn nsfs_mounts() -> Vec<(String, NsId, Kind)> {
    let table =
        std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    table
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            if right.split_whitespace().next()? != "nsfs" {
                return None;
            }
            let path = unescape(left.split_whitespace().nth(4)?);
            let file = File::open(&path).ok()?;
            let kind = crate::nsfs::ns_get_type(&file).ok()?;
            Some((path, NsId::of_file(&file).ok()?, kind))
        })
        .collect()
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
    println!(
        "{:>10} {:<6} {:>6} {:>7} {:<8} COMMAND",
        "NS", "TYPE", "NPROCS", "PID", "USER"
    );
    for namespace in scan() {
        if only.is_some_and(|kind| kind != namespace.kind) {
            continue;
        }
        let owner = namespace.owner_text();
        let mut owner = owner.splitn(3, ' ');
        println!(
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
        words.join(" ")
    }
}

// ANCHOR: limits
pub fn limits_command(args: Vec<OsString>) -> Result<u8> {
    let usage = "limits";
    if !words(args, usage)?.is_empty() {
        return Err(usage_error("limits takes no arguments", usage));
    }
    let namespaces = scan();
    println!("{:<7} {:>10} {:>6}  SYSCTL FILE", "TYPE", "MAX", "NOW");
    for kind in KINDS {
        let path = kind.limit_file();
        let max = std::fs::read_to_string(&path)
            .map(|text| text.trim().to_string())
            .unwrap_or_else(|_| "?".into());
        let now = namespaces.iter().filter(|n| n.kind == kind).count();
        println!("{:<7} {max:>10} {now:>6}  {path}", kind.name);
    }
    println!(
        "MAX is per user namespace (and counts its descendants' too); \
         NOW counts the namespaces visible from here."
    );
    Ok(0)
}
// ANCHOR_END: limits
