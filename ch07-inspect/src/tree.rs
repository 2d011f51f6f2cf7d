//! `tree [PATH]`: ownership and hierarchy through `ioctl_ns(2)`.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs::File;

use nix::errno::Errno;

use crate::list::{gone_or_hidden, scan};
use crate::nsfs::{
    Kind, NS_GET_PARENT, NS_GET_USERNS, NsId, ns_get_fd, ns_get_owner_uid,
    ns_get_type, open_namespace,
};
use crate::{Failure, Result, usage_error, words};

pub const HELP: &str = "\
ch07-inspect tree: who owns whom, and who is whose parent (ioctl_ns)

Usage: ch07-inspect tree [PATH]

Every namespace is owned by a user namespace: the one its creator was
in (NS_GET_USERNS). User and PID namespaces also nest: each has a
parent (NS_GET_PARENT). A user namespace remembers the uid of its
creator (NS_GET_OWNER_UID), and NS_GET_NSTYPE tells a file's type.

Without PATH: every namespace on the system, drawn as a tree from the
initial user namespace down through the user namespaces that own the
others, with those no process is in: kept by a bind mount, an open fd
(asked through /proc/PID/fd/N) or a pid_for_children link, and those
only found by asking (an owner or parent that nothing else holds). With PATH (such as /proc/PID/ns/pid, or a file made by `keep`):
the answer of each of the four ioctls for that file, and its chain up
to the initial user namespace. The kernel's refusals are explained:
EPERM (the answer is outside our scope, as the parent of the initial
namespace), EINVAL (a type without parents), ENOTTY (not a namespace).

Try: ch07-inspect tree; ch07-inspect tree /proc/PID/ns/uts   (with
ch05-user running: its namespaces hang under a user namespace of its own)
";

/// What the kernel told us about one namespace.
struct Node {
    kind: Kind,
    owner: std::result::Result<NsId, Errno>,
    parent: std::result::Result<NsId, Errno>,
    owner_uid: Option<u32>,
    label: String,
}

pub fn command(args: Vec<OsString>) -> Result<u8> {
    let usage = "tree [PATH]";
    let words = words(args, usage)?;
    match words.as_slice() {
        [] => draw_system_tree(),
        [path] => explain_file(path),
        _ => Err(usage_error("too many arguments", usage)),
    }
}

// ANCHOR: tree
/// Asks the kernel about every namespace we can find, following
/// NS_GET_USERNS and NS_GET_PARENT to those no process is in.
fn discover() -> Result<BTreeMap<NsId, Node>> {
    let namespaces = scan()?;
    let mut labels = HashMap::new();
    for namespace in &namespaces {
        let nprocs = namespace.pids.len();
        let label = match namespace.pids.first() {
            Some(_) => format!(
                "{nprocs} proc{}, lowest PID {}",
                if nprocs == 1 { "" } else { "s" },
                namespace.owner_text()
            ),
            None => namespace.holder_text(),
        };
        labels.insert(namespace.id, label);
    }
    let mut nodes = BTreeMap::new();
    for namespace in &namespaces {
        // One namespace at a time: open, ask, close.
        match namespace.open() {
            Ok(file) => visit(file, &labels, &mut nodes)?,
            Err(e) if gone_or_hidden(&e) => continue,
            Err(e) => {
                let what = format!("cannot open {}", namespace.describe());
                return Err(Failure::io(what, &e));
            }
        }
    }
    Ok(nodes)
}

/// Asks about one namespace, then about its owner and its parent,
/// depth first. Only the chain being walked is open (user namespaces
/// nest at most 33 below the initial one), never one fd per namespace.
fn visit(
    file: File,
    labels: &HashMap<NsId, String>,
    nodes: &mut BTreeMap<NsId, Node>,
) -> Result<()> {
    let id = NsId::of_file(&file)
        .map_err(|e| Failure::io("cannot stat a namespace file", &e))?;
    if nodes.contains_key(&id) {
        return Ok(());
    }
    let kind = ns_get_type(&file)
        .map_err(|e| Failure::errno(format!("NS_GET_NSTYPE on {id:?}"), e))?;
    let name = format!("{}:[{}]", kind.name, id.ino);
    // EPERM (beyond our scope) and EINVAL (no parent for this type) are
    // answers; anything else (EMFILE) means we could not ask.
    let ask = |request, words| match ns_get_fd(&file, request) {
        Ok(next) => Ok(Ok(next)),
        Err(errno @ (Errno::EPERM | Errno::EINVAL)) => Ok(Err(errno)),
        Err(errno) => Err(Failure::errno(format!("{words} on {name}"), errno)),
    };
    let owner = ask(NS_GET_USERNS, "NS_GET_USERNS")?;
    let parent = ask(NS_GET_PARENT, "NS_GET_PARENT")?;
    let answer_id = |answer: &std::result::Result<File, Errno>| -> Result<std::result::Result<NsId, Errno>> {
        match answer {
            Ok(next) => NsId::of_file(next).map(Ok).map_err(|e| {
                Failure::io(format!("cannot stat the answer for {name}"), &e)
            }),
            Err(errno) => Ok(Err(*errno)),
        }
    };
    let node = Node {
        kind,
        owner: answer_id(&owner)?,
        parent: answer_id(&parent)?,
        owner_uid: ns_get_owner_uid(&file).ok(),
        label: labels.get(&id).cloned().unwrap_or_else(|| {
            "no process in it: found through ioctl_ns".into()
        }),
    };
    nodes.insert(id, node);
    drop(file);
    for next in [owner, parent].into_iter().flatten() {
        visit(next, labels, nodes)?;
    }
    Ok(())
}

fn draw_system_tree() -> Result<u8> {
    let nodes = discover()?;
    let is_user = |node: &Node| node.kind.name == "user";
    // The tops: user namespaces whose parent is beyond our reach.
    let roots: Vec<NsId> = nodes
        .iter()
        .filter(|(_, n)| {
            is_user(n) && !n.parent.is_ok_and(|p| nodes.contains_key(&p))
        })
        .map(|(id, _)| *id)
        .collect();
    for root in &roots {
        outln!("{}", describe(*root, &nodes[root]));
        draw_children(*root, &nodes, "");
    }
    let orphans: Vec<_> = nodes
        .iter()
        .filter(|(_, n)| {
            !is_user(n) && !n.owner.is_ok_and(|o| nodes.contains_key(&o))
        })
        .collect();
    if !orphans.is_empty() {
        outln!("owner not visible (NS_GET_USERNS refused):");
        for (id, node) in orphans {
            outln!("  {}", describe(*id, node));
        }
    }
    Ok(0)
}

/// Draws the namespaces that user namespace `user` owns, then its
/// child user namespaces, each with what it owns.
fn draw_children(user: NsId, nodes: &BTreeMap<NsId, Node>, indent: &str) {
    let owned = nodes
        .iter()
        .filter(|(_, n)| n.kind.name != "user" && n.owner == Ok(user));
    let children = nodes
        .iter()
        .filter(|(_, n)| n.kind.name == "user" && n.parent == Ok(user));
    let mut below: Vec<_> = owned.collect();
    below.sort_by_key(|(id, n)| (n.kind, id.ino));
    below.extend(children);
    for (i, (id, node)) in below.iter().enumerate() {
        let last = i + 1 == below.len();
        let (branch, more) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        outln!("{indent}{branch}{}", describe(**id, node));
        if node.kind.name == "user" {
            draw_children(**id, nodes, &format!("{indent}{more}"));
        }
    }
}

/// One line for a namespace: what it is, what ioctl_ns said, who is in.
fn describe(id: NsId, node: &Node) -> String {
    let name = format!("{}:[{}]", node.kind.name, id.ino);
    let parent = match (node.kind.name, node.parent) {
        ("user" | "pid", Ok(parent)) => {
            format!(" parent {}:[{}]", node.kind.name, parent.ino)
        }
        ("user" | "pid", Err(Errno::EPERM)) => {
            " initial (NS_GET_PARENT: EPERM, no parent in our scope)".into()
        }
        (_, _) => String::new(),
    };
    let uid = node
        .owner_uid
        .map_or(String::new(), |uid| format!(", created by uid {uid}"));
    format!("{name}{parent}{uid} - {}", node.label)
}
// ANCHOR_END: tree

/// What an ioctl_ns error means, in words.
fn explain(request: &str, errno: Errno) -> String {
    let why = match (request, errno) {
        (_, Errno::ENOTTY) => {
            "not a namespace file: ioctl_ns works only on /proc/PID/ns/* \
             links and their bind mounts"
        }
        ("NS_GET_PARENT", Errno::EINVAL) => {
            "this type has no parent: only pid and user namespaces nest"
        }
        ("NS_GET_OWNER_UID", Errno::EINVAL) => {
            "only a user namespace has an owner uid"
        }
        ("NS_GET_PARENT", Errno::EPERM) => {
            "outside our scope: this is the top namespace we can see (the \
             initial one, or the one our user namespace starts at), and its \
             parent is hidden from us"
        }
        (_, Errno::EPERM) => {
            "outside our scope: the user namespace that owns it is above \
             ours, hidden from us"
        }
        _ => errno.desc(),
    };
    format!("{errno:?}: {why}")
}

// ANCHOR: tree_file
/// The four ioctls on one file, then its chain of owners and parents.
fn explain_file(path: &str) -> Result<u8> {
    // Refuses a FIFO, a device, anything not on nsfs, without opening it.
    let file = open_namespace(path)?;
    outln!("{path}:");
    let kind = ns_get_type(&file);
    match kind {
        Ok(kind) => {
            outln!(
                "  {:<17} {} ({})",
                "NS_GET_NSTYPE",
                kind.name,
                kind.flag_name
            )
        }
        Err(e) => outln!("  {:<17} {}", "NS_GET_NSTYPE", explain("", e)),
    }
    let show = |request: &str, answer: std::result::Result<File, Errno>| {
        let text = match answer {
            Ok(ns) => name_of(&ns),
            Err(e) => explain(request, e),
        };
        outln!("  {request:<17} {text}");
    };
    show("NS_GET_USERNS", ns_get_fd(&file, NS_GET_USERNS));
    show("NS_GET_PARENT", ns_get_fd(&file, NS_GET_PARENT));
    let uid = match ns_get_owner_uid(&file) {
        Ok(uid) => uid.to_string(),
        Err(e) => explain("NS_GET_OWNER_UID", e),
    };
    outln!("  {:<17} {uid}", "NS_GET_OWNER_UID");
    if kind.is_err() {
        return Ok(0);
    }
    outln!("chain up to the initial user namespace:");
    outln!("  {}", name_of(&file));
    // From the file to its owner, then from user namespace to parent.
    let mut current = file;
    let mut indent = String::from("  ");
    for _ in 0..64 {
        let is_user = ns_get_type(&current).is_ok_and(|k| k.name == "user");
        let (request, name, verb) = if is_user {
            (NS_GET_PARENT, "NS_GET_PARENT", "child of")
        } else {
            (NS_GET_USERNS, "NS_GET_USERNS", "owned by")
        };
        match ns_get_fd(&current, request) {
            Ok(next) => {
                let uid = ns_get_owner_uid(&next).map_or(String::new(), |u| {
                    format!(" (created by uid {u})")
                });
                outln!("{indent}└ {verb} {}{uid}", name_of(&next));
                current = next;
                indent.push_str("  ");
            }
            Err(Errno::EPERM) if is_user => {
                outln!(
                    "{indent}  (the top: NS_GET_PARENT gives EPERM, this is \
                     the initial user namespace or the top of our scope)"
                );
                break;
            }
            Err(e) => {
                outln!("{indent}  ({})", explain(name, e));
                break;
            }
        }
    }
    Ok(0)
}
// ANCHOR_END: tree_file

/// `type:[inode]` of an open namespace file.
fn name_of(ns: &File) -> String {
    let kind = ns_get_type(ns).map_or("?", |k| k.name);
    let ino = NsId::of_file(ns).map_or(0, |id| id.ino);
    format!("{kind}:[{ino}]")
}
