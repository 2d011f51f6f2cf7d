//! `list [TYPE]` and `limits`: every namespace on the system.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::MetadataExt;

use nix::errno::Errno;

use crate::nsfs::{
    KINDS, Kind, LINKS, NsId, kind_named, open_namespace, open_nsfs,
    require_proc,
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
Namespaces that no process is in are listed with 0 processes and what
keeps them alive: a bind mount (see `keep`) and its path, an open file
descriptor (found in /proc/PID/fd) and the process that holds it, or
the pid_for_children (time_for_children) link of a process, whose next
child will be born in it.

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

/// What keeps alive a namespace that no process is in.
pub enum Holder {
    /// An nsfs bind mount at this path (see `keep`).
    Mount(String),
    /// Open file descriptors: (PID, fd), lowest PID and fd first.
    Fds(Vec<(i32, i32)>),
    /// The `pid_for_children` or `time_for_children` link of these
    /// processes, lowest PID first: the namespace their next child
    /// will be born in.
    ForChildren(&'static str, Vec<i32>),
}

/// One namespace found on the system.
pub struct Namespace {
    pub kind: Kind,
    pub id: NsId,
    /// The processes in it, lowest PID first.
    pub pids: Vec<i32>,
    /// What keeps it alive, for one without processes.
    pub held: Option<Holder>,
}

impl Namespace {
    /// Opens the namespace, through a process, its bind mount or the fd
    /// that holds it. What we found may have gone since (the process
    /// exited, the fd was closed and its number reused for a FIFO):
    /// only a namespace file with the same identity is opened.
    pub fn open(&self) -> std::io::Result<File> {
        let path = match (self.pids.first(), &self.held) {
            (Some(pid), _) => format!("/proc/{pid}/ns/{}", self.kind.name),
            (None, Some(Holder::Mount(path))) => path.clone(),
            (None, Some(Holder::Fds(fds))) => {
                let (pid, fd) = fds[0];
                format!("/proc/{pid}/fd/{fd}")
            }
            (None, Some(Holder::ForChildren(link, pids))) => {
                format!("/proc/{}/ns/{link}", pids[0])
            }
            (None, None) => return Err(std::io::ErrorKind::NotFound.into()),
        };
        let file = open_nsfs(&path)?;
        if NsId::of_file(&file)? != self.id {
            return Err(std::io::ErrorKind::NotFound.into());
        }
        Ok(file)
    }

    /// `type:[inode]`, as the kernel names it.
    pub fn describe(&self) -> String {
        format!("{}:[{}]", self.kind.name, self.id.ino)
    }

    /// Who the lowest PID is: "PID USER COMMAND"; for a namespace
    /// without processes, "- - (what holds it)".
    pub fn owner_text(&self) -> String {
        match self.pids.first() {
            Some(&pid) => {
                format!("{pid} {} {}", user_of(pid), command_line(pid))
            }
            None => format!("- - {}", self.holder_text()),
        }
    }

    /// What keeps a namespace without processes alive, in words.
    pub fn holder_text(&self) -> String {
        let more = |n: usize, what: &str| match n {
            0 => String::new(),
            1 => format!(" and 1 more {what}"),
            n => format!(" and {n} more {what}s"),
        };
        match &self.held {
            Some(Holder::Mount(path)) => format!("(bind mount at {path})"),
            Some(Holder::Fds(fds)) => {
                let (pid, fd) = fds[0];
                format!(
                    "(held by fd {fd} of PID {pid}: {}{})",
                    command_line(pid),
                    more(fds.len() - 1, "fd")
                )
            }
            Some(Holder::ForChildren(link, pids)) => format!(
                "({link} of PID {}: {}{})",
                pids[0],
                command_line(pids[0]),
                more(pids.len() - 1, "process")
            ),
            None => "-".into(),
        }
    }
}

// ANCHOR: list
/// Every namespace that a process is in, or that a bind mount, an open
/// fd or a `*_for_children` link keeps alive without one, sorted by
/// inode. Processes that vanish while we look are skipped, and so are
/// those whose links and fds we may not read (as lsns does); any other
/// failure to read /proc is an error, not an empty answer.
pub fn scan() -> Result<Vec<Namespace>> {
    let pids = all_pids()?;
    let mut found: BTreeMap<(NsId, Kind), Vec<i32>> = BTreeMap::new();
    let mut for_children = BTreeMap::new();
    for &pid in &pids {
        for link in LINKS {
            let path = format!("/proc/{pid}/ns/{link}");
            let id = match NsId::of_path(&path) {
                Ok(id) => id,
                // Also a dangling pid_for_children (no PID 1 yet).
                Err(e) if gone_or_hidden(&e) => continue,
                Err(e) => {
                    return Err(Failure::io(format!("cannot stat {path}"), &e));
                }
            };
            match link.strip_suffix("_for_children") {
                None => found.entry((id, kind_named(link)?)).or_default(),
                Some(kind) => {
                    &mut for_children
                        .entry((id, kind_named(kind)?))
                        .or_insert((link, Vec::new()))
                        .1
                }
            }
            .push(pid);
        }
    }
    let mut namespaces: Vec<Namespace> = found
        .into_iter()
        .map(|((id, kind), pids)| Namespace {
            kind,
            id,
            pids,
            held: None,
        })
        .collect();
    // Then what holds the others: a bind-mounted namespace file is an
    // "nsfs" mount in mountinfo, an open one a link in /proc/PID/fd.
    let mounts = nsfs_mounts()?
        .into_iter()
        .map(|(path, id, kind)| ((id, kind), Holder::Mount(path)));
    let fds = fd_holders(&pids)?
        .into_iter()
        .map(|(key, fds)| (key, Holder::Fds(fds)));
    let links = for_children
        .into_iter()
        .map(|(key, (link, pids))| (key, Holder::ForChildren(link, pids)));
    for ((id, kind), holder) in mounts.chain(fds).chain(links) {
        if !namespaces.iter().any(|n| n.id == id && n.kind == kind) {
            namespaces.push(Namespace {
                kind,
                id,
                pids: Vec::new(),
                held: Some(holder),
            });
        }
    }
    namespaces.sort_by_key(|n| (n.id.ino, n.kind));
    Ok(namespaces)
}

/// (PID, fd) pairs.
type FdList = Vec<(i32, i32)>;

// ANCHOR: fd_holders
/// The namespaces that open file descriptors refer to, with the (PID,
/// fd) pairs that hold each. An fd of a namespace file reads as a link
/// `TYPE:[INODE]` in /proc/PID/fd (so do the links in /proc/PID/ns);
/// stat(2) on it confirms the inode and gives the device. Nothing is
/// opened: a process may hold thousands of fds.
fn fd_holders(pids: &[i32]) -> Result<BTreeMap<(NsId, Kind), FdList>> {
    let mut found: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for &pid in pids {
        let dir = format!("/proc/{pid}/fd");
        let failed =
            |e: &std::io::Error| Failure::io(format!("cannot list {dir}"), e);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if gone_or_hidden(&e) => continue,
            Err(e) => return Err(failed(&e)),
        };
        let mut fds = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => fds.extend(
                    entry
                        .file_name()
                        .to_str()
                        .and_then(|n| n.parse::<i32>().ok()),
                ),
                // It exited while we read its fds.
                Err(e) if gone_or_hidden(&e) => break,
                Err(e) => return Err(failed(&e)),
            }
        }
        fds.sort_unstable();
        for fd in fds {
            let path = format!("{dir}/{fd}");
            let target = match std::fs::read_link(&path) {
                Ok(target) => target,
                Err(e) if gone_or_hidden(&e) => continue,
                Err(e) => {
                    return Err(Failure::io(format!("cannot read {path}"), &e));
                }
            };
            let Some((kind, ino)) = target.to_str().and_then(namespace_link)
            else {
                continue;
            };
            match NsId::of_path(&path) {
                // The same inode: the fd was not closed and reused since.
                Ok(id) if id.ino == ino => {
                    found.entry((id, kind)).or_default().push((pid, fd));
                }
                Ok(_) => continue,
                Err(e) if gone_or_hidden(&e) => continue,
                Err(e) => {
                    return Err(Failure::io(format!("cannot stat {path}"), &e));
                }
            }
        }
    }
    Ok(found)
}

/// `uts:[4026531838]` -> (uts, 4026531838); None for any other link
/// text (`socket:[123]`, `/dev/null`).
fn namespace_link(text: &str) -> Option<(Kind, u64)> {
    let (name, rest) = text.split_once(":[")?;
    let ino = rest.strip_suffix(']')?.parse().ok()?;
    let kind = KINDS.into_iter().find(|k| k.name == name)?;
    Some((kind, ino))
}
// ANCHOR_END: fd_holders

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
