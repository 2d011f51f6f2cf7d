//! How a namespace outlives its processes, one test per case that the
//! book's ch07 page shows: an open fd (`list` names the holder, `tree`
//! walks through it), a child user namespace keeping its parent,
//! `pid_for_children`, a proc mount keeping its PID namespace, and an
//! mqueue mount that, on current kernels, does not keep its IPC
//! namespace. (The bind mount made by `keep` is tested in keep.rs.)

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Background, Exit, inspect, inspect_ok, line_starting, ns_inode};
use nslab_testkit::{HostSnapshot, have_root, host_lock, stdout, unique};

/// The row of `list` output for namespace `inode`, as words.
fn row(list: &str, inode: u64) -> Option<String> {
    list.lines()
        .find(|l| l.split_whitespace().next() == Some(&inode.to_string()))
        .map(Into::into)
}

/// A shell in a new UTS namespace (and more, with `flags`) whose
/// hostname is `name`, waiting for its stdin to close.
fn owner(flags: &[&str], name: &str) -> Background {
    let script = format!("hostname {name}; echo ready; read x || :");
    let mut args = flags.to_vec();
    args.extend(["sh", "-c", &script]);
    Background::start(Path::new("unshare"), &args)
}

/// A shell that holds /proc/PID/ns/uts open on its fd 3.
fn holder(pid: i32) -> Background {
    let script = format!("exec 3</proc/{pid}/ns/uts; echo ready; read x || :");
    Background::start(Path::new("sh"), &["-c", &script])
}

#[test]
fn list_finds_a_namespace_only_an_fd_holds_and_names_the_holder() {
    if !have_root(
        "list_finds_a_namespace_only_an_fd_holds_and_names_the_holder",
    ) {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let name = unique("nslab-fd");
    let owner = owner(&["--uts"], &name);
    let uts = ns_inode(&owner.pid().to_string(), "uts");
    let holder = holder(owner.pid());
    let held_by = holder.pid();
    // Its only process exits; the fd of another process holds it.
    assert_eq!(owner.stop(), Some(0));
    let list = inspect_ok(&["list", "uts"]);
    let line = row(&list, uts).unwrap_or_else(|| panic!("no {uts}:\n{list}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[1..5], ["uts", "0", "-", "-"], "{line}");
    assert!(
        line.contains(&format!("(held by fd 3 of PID {held_by}: sh -c exec")),
        "{line}"
    );
    assert!(!line.contains(" more "), "one holder only: {line}");
    // The namespace is whole: entered through the fd, its hostname.
    let fd = format!("/proc/{held_by}/fd/3");
    let out = inspect(&["enter", &fd, "hostname"]).assert().success();
    assert_eq!(stdout(out.get_output()), format!("{name}\n"));

    // The fd closes: the namespace is gone from the list (the kernel may
    // hand its inode number to a new namespace, but not this holder).
    assert_eq!(holder.stop(), Some(0));
    let list = inspect_ok(&["list", "uts"]);
    assert!(!list.contains(&format!("of PID {held_by}:")), "{list}");
    before.assert_unchanged();
}

#[test]
fn tree_walks_a_namespace_only_an_fd_holds() {
    if !have_root("tree_walks_a_namespace_only_an_fd_holds") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    // A UTS namespace owned by a new user namespace; only the UTS one is
    // held by an fd, the user one only by what it owns.
    let owner = owner(&["--user", "--map-root-user", "--uts"], "box");
    let pid = owner.pid().to_string();
    let (uts, user) = (ns_inode(&pid, "uts"), ns_inode(&pid, "user"));
    let host_user = ns_inode("self", "user");
    let holder = holder(owner.pid());
    let held_by = holder.pid();
    assert_eq!(owner.stop(), Some(0));

    // The whole tree: the user namespace, found through NS_GET_USERNS
    // on the fd-held one, under the initial one; the UTS one under it.
    let text = inspect_ok(&["tree"]);
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| {
            l.contains(&format!(
                "user:[{user}] parent user:[{host_user}], created by uid 0 \
                 - no process in it: found through ioctl_ns"
            ))
        })
        .unwrap_or_else(|| panic!("no user:[{user}] in\n{text}"));
    let next = lines.get(at + 1).copied().unwrap_or("");
    assert!(
        next.contains(&format!(
            "└─ uts:[{uts}] - (held by fd 3 of PID {held_by}: sh -c "
        )),
        "{text}"
    );
    assert!(
        next.find("uts:[").unwrap() > lines[at].find("user:[").unwrap(),
        "{text}"
    );

    // The chain from the fd up: owned by the user namespace, its parent.
    let fd = format!("/proc/{held_by}/fd/3");
    let text = inspect_ok(&["tree", &fd]);
    assert_eq!(
        line_starting(&text, "NS_GET_USERNS")[1],
        format!("user:[{user}]"),
        "{text}"
    );
    assert!(
        text.contains(&format!("└ child of user:[{host_user}]")),
        "{text}"
    );
    assert_eq!(holder.stop(), Some(0));
    before.assert_unchanged();
}

#[test]
fn a_child_user_namespace_keeps_its_parent_after_its_last_process_exits() {
    if !have_root(
        "a_child_user_namespace_keeps_its_parent_after_its_last_process_exits",
    ) {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    // sh, root in a new user namespace, prints it, starts a child that makes
    // a user namespace of its own (nested) and waits on our pipe, and
    // exits: the first namespace has no process left.
    let script = "readlink /proc/self/ns/user; exec 3<&0; \
                  unshare --user sh -c 'echo $$; read x || :' <&3 3<&- & \
                  exit 0";
    let mut outer = Command::new("unshare")
        .args(["--user", "--map-root-user", "sh", "-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot run unshare");
    let stdin = outer.stdin.take();
    let mut lines = BufReader::new(outer.stdout.take().unwrap()).lines();
    let parent = lines.next().unwrap().unwrap();
    let child: i32 = lines.next().unwrap().unwrap().parse().unwrap();
    let exit = Exit::watch(child);
    assert!(outer.wait().unwrap().success());

    let host_user = format!("user:[{}]", ns_inode("self", "user"));
    let child_user = format!("user:[{}]", ns_inode(&child.to_string(), "user"));
    assert_ne!(parent, host_user);
    assert_ne!(parent, child_user);
    let inode: u64 = parent[6..parent.len() - 1].parse().unwrap();
    // No process in it: `list` does not show it...
    let list = inspect_ok(&["list", "user"]);
    assert_eq!(row(&list, inode), None, "{list}");
    // ...but NS_GET_PARENT from the child still leads to it.
    let text = inspect_ok(&["tree", &format!("/proc/{child}/ns/user")]);
    assert_eq!(line_starting(&text, "NS_GET_PARENT")[1], parent, "{text}");
    assert!(text.contains(&format!("└ child of {parent}")), "{text}");
    assert!(text.contains(&format!("└ child of {host_user}")), "{text}");
    let text = inspect_ok(&["tree"]);
    assert!(
        text.contains(&format!(
            "{parent} parent {host_user}, created by uid 0 - no process in \
             it: found through ioctl_ns"
        )),
        "{text}"
    );
    drop(stdin);
    exit.wait();
    before.assert_unchanged();
}

#[test]
fn pid_for_children_keeps_a_pid_namespace_without_processes() {
    if !have_root("pid_for_children_keeps_a_pid_namespace_without_processes") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    // util-linux unshare without --fork: sh itself unshares its PID
    // namespace. Its first child is PID 1 there; then only builtins.
    let mut shell = Background::start(
        Path::new("unshare"),
        &[
            "--pid",
            "sh",
            "-c",
            "echo ready; read x; sh -c 'echo $$'; echo done; read x || :",
        ],
    );
    let pid = shell.pid().to_string();
    let for_children = format!("/proc/{pid}/ns/pid_for_children");
    // No PID 1 yet: the kernel does not show the namespace.
    let text = inspect_ok(&["ns", &pid]);
    assert_eq!(line_starting(&text, "pid_for_children")[1], "-", "{text}");
    assert!(
        !inspect_ok(&["list", "pid"])
            .contains(&format!("(pid_for_children of PID {pid}:")),
    );

    // Its first child is PID 1, and exits.
    shell.say("go");
    assert_eq!(shell.next_line(), "1");
    assert_eq!(shell.next_line(), "done");
    let inode = ns_inode(&pid, "pid_for_children");
    assert_ne!(inode, ns_inode(&pid, "pid"));
    assert_eq!(ns_inode(&pid, "pid"), ns_inode("self", "pid"));
    // No process in it, and still there: pid_for_children holds it.
    let list = inspect_ok(&["list", "pid"]);
    let line = row(&list, inode).unwrap_or_else(|| panic!("{inode}:\n{list}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[1..5], ["pid", "0", "-", "-"], "{line}");
    assert!(
        line.contains(&format!("(pid_for_children of PID {pid}: sh -c ")),
        "{line}"
    );
    // Its init has exited: nothing can be born in it any more.
    let out = inspect(&["enter", &for_children, "true"])
        .assert()
        .code(125);
    let err = nslab_testkit::stderr(out.get_output());
    assert!(err.contains("ENOMEM"), "{err}");
    assert_eq!(shell.stop(), Some(0));
    before.assert_unchanged();
}

/// `unshare(CLONE_NEWTIME)` without an `execve` after it: the caller
/// stays in its time namespace, and only its `time_for_children` link
/// holds the new one, which `list` shows until the caller exits.
#[test]
fn time_for_children_keeps_a_time_namespace_without_processes() {
    if !have_root("time_for_children_keeps_a_time_namespace_without_processes")
    {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    // 0x80 is CLONE_NEWTIME.
    let program = "import ctypes, sys; \
                   assert ctypes.CDLL(None).unshare(0x80) == 0; \
                   print('ready', flush=True); sys.stdin.read()";
    let python = Background::start(Path::new("python3"), &["-c", program]);
    let pid = python.pid().to_string();
    let inode = ns_inode(&pid, "time_for_children");
    assert_ne!(inode, ns_inode(&pid, "time"));
    assert_eq!(ns_inode(&pid, "time"), ns_inode("self", "time"));
    let text = inspect_ok(&["ns", &pid]);
    let words = line_starting(&text, "time_for_children");
    assert_eq!(words[1..], [inode.to_string().as_str(), "no"], "{text}");
    // No process in it, and still there: time_for_children holds it.
    let list = inspect_ok(&["list", "time"]);
    let line = row(&list, inode).unwrap_or_else(|| panic!("{inode}:\n{list}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[1..5], ["time", "0", "-", "-"], "{line}");
    let holder = format!("(time_for_children of PID {pid}: ");
    assert!(line.contains(&holder) && line.contains("python3"), "{line}");
    assert_eq!(python.stop(), Some(0));
    let list = inspect_ok(&["list", "time"]);
    assert!(!list.contains(&holder), "{list}");
    before.assert_unchanged();
}

/// Runs `script` with sh as root of a new user namespace, in a private
/// mount namespace of its own, and returns its stdout and stderr.
fn in_a_user_namespace(script: &str) -> (String, String) {
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .output()
        .expect("cannot run unshare");
    let err = nslab_testkit::stderr(&out);
    assert!(out.status.success(), "{}{err}", stdout(&out));
    (stdout(&out), err)
}

/// How many times a script tries again to make a namespace that the
/// kernel frees asynchronously (an RCU grace period, a work queue):
/// a bound on the tries, not a time (100 000 tries are minutes).
const TRIES: &str = "100000";

#[test]
fn a_proc_mount_keeps_its_pid_namespace() {
    if !have_root("a_proc_mount_keeps_its_pid_namespace") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    // The limit, set in a throwaway user namespace: one PID namespace.
    // While the first is alive, a second is refused (ENOSPC).
    let dir = unique("/mnt/nslab-proc");
    let script = format!(
        "echo 1 >/proc/sys/user/max_pid_namespaces
         mount -t tmpfs none /mnt && mkdir {dir} || exit 1
         unshare --pid --fork mount -t proc proc {dir} || exit 1
         ls {dir}/1 2>/dev/null || echo 'no process in it'
         unshare --pid --fork true 2>&1 && echo 'made a second one'
         umount {dir} || exit 1
         n=0
         until unshare --pid --fork true 2>/dev/null; do
             n=$((n + 1)); [ $n -lt {TRIES} ] || exit 2
         done
         echo 'after umount: made a second one'"
    );
    let (out, _) = in_a_user_namespace(&script);
    assert_eq!(
        out,
        "no process in it\n\
         unshare: unshare failed: No space left on device\n\
         after umount: made a second one\n"
    );
    before.assert_unchanged();
}

#[test]
fn an_mqueue_mount_does_not_keep_its_ipc_namespace() {
    if !have_root("an_mqueue_mount_does_not_keep_its_ipc_namespace") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    // The same with one IPC namespace and an mqueue mount of it, with a
    // queue in it. The queue's file stays; the namespace does not.
    let queue = unique("q");
    let script = format!(
        "echo 1 >/proc/sys/user/max_ipc_namespaces
         mount -t tmpfs none /mnt && mkdir /mnt/mq || exit 1
         unshare --ipc sh -c 'mount -t mqueue none /mnt/mq && : >/mnt/mq/{queue}' \
             || exit 1
         ls /mnt/mq
         n=0
         until unshare --ipc true 2>/dev/null; do
             n=$((n + 1)); [ $n -lt {TRIES} ] || exit 2
         done
         echo 'made a second one'
         umount /mnt/mq"
    );
    let (out, _) = in_a_user_namespace(&script);
    assert_eq!(out, format!("{queue}\nmade a second one\n"));
    before.assert_unchanged();
}

/// unshare(CLONE_NEWTIME) leaves the caller in its time namespace (only
/// `time_for_children` changes, as `ch07-inspect unshare time` shows),
/// but the caller's next execve(2) takes it in: util-linux `unshare`,
/// which calls unshare(2) and then execs its command without forking,
/// runs that command in the new time namespace.
#[test]
fn an_execve_enters_the_time_namespace_that_unshare_made() {
    if !have_root("an_execve_enters_the_time_namespace_that_unshare_made") {
        return;
    }
    let ours = std::fs::read_link("/proc/self/ns/time").unwrap();
    let out = Command::new("unshare")
        .args(["--time", "readlink", "/proc/self/ns/time"])
        .arg("/proc/self/ns/time_for_children")
        .output()
        .expect("cannot run unshare");
    let text = stdout(&out);
    let links: Vec<&str> = text.lines().collect();
    assert_eq!(links.len(), 2, "{text}");
    assert_eq!(links[0], links[1], "after execve, time is the new one");
    assert_ne!(Path::new(links[0]), ours, "a new time namespace: {text}");
}

/// setns(2)'s `nstype`: given a `CLONE_NEW*` flag, the kernel checks
/// the descriptor's type and refuses another with EINVAL. `nsenter
/// --net` passes CLONE_NEWNET; a UTS namespace's file is refused, and
/// the same file with `--uts` is joined.
#[test]
fn setns_refuses_a_namespace_of_another_type_when_asked_to_check() {
    if !have_root(
        "setns_refuses_a_namespace_of_another_type_when_asked_to_check",
    ) {
        return;
    }
    let wrong = Command::new("nsenter")
        .args(["--net=/proc/self/ns/uts", "true"])
        .output()
        .expect("cannot run nsenter");
    assert!(!wrong.status.success());
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("Invalid argument"), "{err}");
    let right = Command::new("nsenter")
        .args(["--uts=/proc/self/ns/uts", "true"])
        .status()
        .expect("cannot run nsenter");
    assert!(right.success());
}

/// A namespace's descriptor, passed over a UNIX socket (SCM_RIGHTS),
/// is enough to join it: book/demos/pass-ns-fd.py's receiver never
/// names the process, yet sees the hostname of its UTS namespace.
#[test]
fn a_namespace_descriptor_passed_over_a_socket_can_be_joined() {
    if !have_root("a_namespace_descriptor_passed_over_a_socket_can_be_joined") {
        return;
    }
    let name = unique("box");
    let holder = format!("hostname {name}; exec sleep 1000");
    let mut sleeper = Command::new("unshare")
        .args(["--uts", "sh", "-c", &holder])
        .spawn()
        .expect("cannot run unshare");
    let pid = sleeper.id().to_string();
    // The holder's hostname is set before it execs sleep.
    let comm = format!("/proc/{pid}/comm");
    while std::fs::read_to_string(&comm).unwrap_or_default() != "sleep\n" {
        let exited = sleeper.try_wait().expect("cannot wait for unshare");
        assert!(exited.is_none(), "unshare --uts ended: {exited:?}");
        std::thread::yield_now();
    }
    let demo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../book/demos/pass-ns-fd.py");
    let out = Command::new("python3")
        .arg(&demo)
        .arg(&pid)
        .output()
        .expect("cannot run python3");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("receiver: joined fd 3, hostname {name}\n")),
        "{text}"
    );
    let ours = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(
        text.contains(&format!(
            "sender: still in its own, hostname {}",
            ours.trim()
        )),
        "{text}"
    );
}
