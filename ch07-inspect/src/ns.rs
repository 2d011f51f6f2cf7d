//! `ns [PID]` and `diff PID1 PID2`: the links in `/proc/PID/ns`.

use std::ffi::OsString;
use std::io::ErrorKind;

use crate::nsfs::{LINKS, NsId, comm, parse_pid, proc_failure};
use crate::{Result, usage_error, words};

pub const HELP_NS: &str = "\
ch07-inspect ns: the namespaces of a process

Usage: ch07-inspect ns [PID]

Shows every link in /proc/PID/ns (default: this process): its type, the
inode that identifies the namespace, and whether this process is in the
same one. Two processes share a namespace when stat(2) of their links
gives the same device and inode.

pid_for_children and time_for_children are the namespaces the process's
next children will be in. After unshare(CLONE_NEWPID), pid_for_children
is dangling until the first child is born (shown as such).

Try: ch07-inspect ns; ch07-inspect ns PID   (PID of a chapter's shell)
";

pub const HELP_DIFF: &str = "\
ch07-inspect diff: which namespaces two processes share

Usage: ch07-inspect diff PID1 PID2

Compares /proc/PID1/ns and /proc/PID2/ns link by link (device and inode
of each) and lists the namespaces they share and those they do not.

Try: ch07-inspect diff $$ PID   (PID of a chapter's shell)
";

/// What one link of `/proc/PID/ns` says.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Link {
    Namespace(NsId),
    /// The link exists but points nowhere: `pid_for_children` of a
    /// process that unshared its PID namespace and has no child yet.
    Dangling,
    /// This kernel has no such link (time: before Linux 5.6).
    Missing,
}

// ANCHOR: ns
/// Reads all the links of `/proc/PID/ns` (`pid` 0: this process).
pub fn read_links(pid: i32) -> Result<Vec<(&'static str, Link)>> {
    let dir = if pid == 0 {
        "/proc/self/ns".to_string()
    } else {
        format!("/proc/{pid}/ns")
    };
    let mut links = Vec::new();
    for name in LINKS {
        let path = format!("{dir}/{name}");
        let link = match NsId::of_path(&path) {
            Ok(id) => Link::Namespace(id),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                // stat fails on a link whose target the kernel cannot
                // give; lstat still sees the link itself.
                if std::fs::symlink_metadata(&path).is_ok() {
                    Link::Dangling
                } else if std::path::Path::new(&dir).exists() {
                    Link::Missing
                } else {
                    return Err(proc_failure(pid, &path, &e));
                }
            }
            Err(e) => return Err(proc_failure(pid, &path, &e)),
        };
        links.push((name, link));
    }
    Ok(links)
}

fn show(link: Link) -> String {
    match link {
        Link::Namespace(id) => id.ino.to_string(),
        Link::Dangling => "-".into(),
        Link::Missing => "absent".into(),
    }
}

pub fn ns_command(args: Vec<OsString>) -> Result<u8> {
    let usage = "ns [PID]";
    let words = words(args, usage)?;
    let pid = match words.as_slice() {
        [] => std::process::id() as i32,
        [pid] => parse_pid(pid)?,
        _ => return Err(usage_error("too many arguments", usage)),
    };
    let theirs = read_links(pid)?;
    let ours = read_links(0)?;
    let me = std::process::id();
    let dangling = if crate::nsfs::is_zombie(pid) {
        "gone: a zombie (it exited, its parent has not reaped it) is in \
         no namespace"
    } else {
        "dangling: unshare(CLONE_NEWPID) without a child yet"
    };
    outln!(
        "namespaces of PID {pid} ({}), compared with ch07-inspect \
         (PID {me}):",
        comm(pid)
    );
    outln!("{:<18} {:>12}  SHARED", "TYPE", "INODE");
    for ((name, link), (_, mine)) in theirs.iter().zip(&ours) {
        let shared = match (link, mine) {
            (Link::Namespace(a), Link::Namespace(b)) if a == b => "yes",
            (Link::Namespace(_), _) => "no",
            (Link::Dangling, _) => dangling,
            (Link::Missing, _) => "this kernel has no such link",
        };
        outln!("{name:<18} {:>12}  {shared}", show(*link));
    }
    Ok(0)
}
// ANCHOR_END: ns

// ANCHOR: diff
pub fn diff_command(args: Vec<OsString>) -> Result<u8> {
    let usage = "diff PID1 PID2";
    let words = words(args, usage)?;
    let [first, second] = words.as_slice() else {
        return Err(usage_error("diff needs two PIDs", usage));
    };
    let (first, second) = (parse_pid(first)?, parse_pid(second)?);
    let a = read_links(first)?;
    let b = read_links(second)?;
    outln!(
        "PID {first} ({}) and PID {second} ({}):",
        comm(first),
        comm(second)
    );
    outln!("{:<18} {:>12} {:>12}  SAME", "TYPE", first, second);
    let (mut shared, mut different) = (Vec::new(), Vec::new());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        let same = matches!((x, y), (Link::Namespace(p), Link::Namespace(q))
            if p == q);
        if matches!(x, Link::Namespace(_)) || matches!(y, Link::Namespace(_)) {
            if same { &mut shared } else { &mut different }.push(*name);
        }
        let verdict = if same { "yes" } else { "no" };
        outln!("{name:<18} {:>12} {:>12}  {verdict}", show(*x), show(*y));
    }
    outln!("shared:    {}", list_or_none(&shared));
    outln!("different: {}", list_or_none(&different));
    Ok(0)
}
// ANCHOR_END: diff

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(" ")
    }
}
