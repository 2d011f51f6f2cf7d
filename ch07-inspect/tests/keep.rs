//! keep and release, and the end-to-end tour: inspect a running chapter,
//! enter it, keep one of its namespaces, let it exit, enter what was
//! kept, release it, and leave nothing behind.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Background, ScratchDir, inspect, inspect_ok, ns_inode};
use nslab_testkit::{
    HostSnapshot, bin, have_root, host_lock, processes_with, stdout,
};

/// The mountinfo lines (of this test process) whose mount point is `path`.
fn mounts_at(path: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .filter(|l| l.split_whitespace().nth(4) == Some(path))
        .map(Into::into)
        .collect()
}

#[test]
fn end_to_end_inspect_enter_keep_exit_enter_release() {
    if !have_root("end_to_end_inspect_enter_keep_exit_enter_release") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let dir = ScratchDir::new();
    let kept = dir.join("uts");
    let marker = nslab_testkit::unique("nslab-ch07-e2e");
    let script = format!(
        ": {marker}; hostname inner; mount -t proc proc /proc; echo ready; \
         read x || :"
    );
    let container =
        Background::start(&bin("ch04-mount"), &["--", "sh", "-c", &script]);
    let pid = container.container_pid().to_string();
    let uts = ns_inode(&pid, "uts");

    // Inspect: list finds its UTS namespace, with its shell in it.
    let list = inspect_ok(&["list", "uts"]);
    assert!(
        list.lines().any(|l| l.split_whitespace().take(4).eq([
            uts.to_string().as_str(),
            "uts",
            "1",
            &pid
        ])),
        "{list}"
    );
    // Enter: its hostname.
    let out = inspect(&["enter", &pid, "hostname"]).assert().success();
    assert_eq!(stdout(out.get_output()), "inner\n");

    // Keep its UTS namespace on a file.
    let text = inspect_ok(&["keep", &pid, "uts", &kept]);
    assert!(
        text.starts_with(&format!("kept uts:[{uts}] of PID {pid} at {kept}")),
        "{text}"
    );
    assert_eq!(
        std::fs::metadata(&kept)
            .map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.ino()
            })
            .unwrap(),
        uts,
        "the file is the namespace"
    );
    assert_eq!(mounts_at(&kept).len(), 1, "one nsfs mount on {kept}");

    // The container exits; all its processes are gone.
    assert_eq!(container.stop(), Some(0));
    let deadline = Instant::now() + Duration::from_secs(2);
    while !processes_with(&marker).is_empty() {
        assert!(Instant::now() < deadline, "the container outlived its exit");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The namespace persists: no process in it, held by the mount.
    let list = inspect_ok(&["list", "uts"]);
    let line = list
        .lines()
        .find(|l| l.starts_with(&uts.to_string()))
        .unwrap_or_else(|| panic!("uts:[{uts}] is gone:\n{list}"));
    assert!(
        line.contains(&format!(
            "uts         0       - -        (bind mount at {kept})"
        )),
        "{line}"
    );
    // ...and can be entered.
    let out = inspect(&[
        "enter",
        &kept,
        "sh",
        "-c",
        "hostname; readlink /proc/self/ns/uts",
    ])
    .assert()
    .success();
    assert_eq!(stdout(out.get_output()), format!("inner\nuts:[{uts}]\n"));

    // Release: the mount and the file go, and the namespace with them.
    let text = inspect_ok(&["release", &kept]);
    assert!(
        text.starts_with(&format!("released uts:[{uts}] from {kept}")),
        "{text}"
    );
    assert!(!Path::new(&kept).exists(), "release must remove {kept}");
    assert!(mounts_at(&kept).is_empty());
    let list = inspect_ok(&["list", "uts"]);
    assert!(!list.contains(&uts.to_string()), "{list}");
    assert!(processes_with(&marker).is_empty());
    drop(dir);
    before.assert_unchanged();
}

/// Runs `script` as sh in a scratch mount namespace whose / is shared,
/// as on a systemd host (this machine's own / is private).
fn on_a_shared_root(script: &str) -> std::process::Output {
    let script = format!("mount --make-rshared / && {script}");
    std::process::Command::new("unshare")
        .args(["-m", "--propagation", "unchanged", "sh", "-c", &script])
        .env("INSPECT", bin("ch07-inspect"))
        .output()
        .expect("cannot run unshare")
}

/// Mount lines of another process's mount namespace under `dir`.
const PEER_MOUNTS: &str = "grep -c \" $D\" /proc/$PEER/mountinfo || :";

#[test]
fn keep_and_release_on_a_shared_mount_leave_nothing_in_a_peer() {
    if !have_root("keep_and_release_on_a_shared_mount_leave_nothing_in_a_peer")
    {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let dir = ScratchDir::new();
    // A peer mount namespace (its / is a peer of ours) sees the kept
    // file while it is kept, as ip netns names are seen everywhere, and
    // nothing at all after release: no self-bind of the directory is
    // left behind in it.
    let script = format!(
        "D={d}; unshare -m --propagation unchanged sleep 1000 & PEER=$!; \
         while [ \"$(readlink /proc/$PEER/ns/mnt)\" = \"$(readlink /proc/self/ns/mnt)\" ]; \
         do sleep 0.01; done; \
         \"$INSPECT\" keep $$ uts $D/uts >/dev/null || exit 1; \
         echo during $({PEER_MOUNTS}); \
         \"$INSPECT\" release $D/uts >/dev/null || exit 2; \
         echo after $({PEER_MOUNTS}); echo here $(grep -c \" $D\" /proc/self/mountinfo); \
         kill $PEER",
        d = dir.0.display()
    );
    let out = on_a_shared_root(&script);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}{}",
        nslab_testkit::stderr(&out)
    );
    assert_eq!(
        text,
        "during 1\nafter 0\nhere 0\n",
        "{}",
        nslab_testkit::stderr(&out)
    );
    assert!(!dir.0.join("uts").exists());
    drop(dir);
    before.assert_unchanged();
}

#[test]
fn keep_says_that_a_shared_mount_propagates() {
    if !have_root("keep_says_that_a_shared_mount_propagates") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let dir = ScratchDir::new();
    let d = dir.0.display().to_string();
    // The directory itself a shared mount point, as /run/netns after
    // `ip netns add`: keep works there too.
    let script = format!(
        "mount --bind {d} {d} && mount --make-shared {d} && \
         \"$INSPECT\" keep $$ uts {d}/uts && \"$INSPECT\" release {d}/uts"
    );
    let out = on_a_shared_root(&script);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}{}",
        nslab_testkit::stderr(&out)
    );
    assert!(
        text.contains(&format!("\n{d}/uts is on a shared mount (shared:"))
            && text.contains("release takes it back from them too\n"),
        "{text}"
    );
    assert!(text.contains("\nreleased uts:["), "{text}");
    drop(dir);
    before.assert_unchanged();
}

/// Deletes a network namespace name of `ip netns` when dropped.
struct NetnsName(String);

impl Drop for NetnsName {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "delete", &self.0])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[test]
fn keep_works_beside_ip_netns_before_and_after_ip_netns_add() {
    if !have_root("keep_works_beside_ip_netns_before_and_after_ip_netns_add") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let names: Vec<NetnsName> = (0..3)
        .map(|_| NetnsName(nslab_testkit::unique("nslab")))
        .collect();
    let [a, b, c] = [&names[0].0, &names[1].0, &names[2].0];
    // A /run of our own (shared, as systemd's), in a scratch mount
    // namespace: the host's /run/netns is neither seen nor changed.
    // State 1: /run/netns a plain directory; state 2: after `ip netns
    // add`, a shared mount point of its own.
    let keep_new_net = |name: &str| {
        format!(
            "\"$INSPECT\" unshare net -- sh -c \
             '\"$INSPECT\" keep $$ net /run/netns/{name}' 2>/dev/null >/dev/null \
             || echo keep {name} failed"
        )
    };
    let script = format!(
        "mount -t tmpfs nslab-run /run && mkdir /run/netns && \
         {keep_a}; echo state1; ip netns list; \
         ip netns exec {a} ip -o link | cut -d: -f2; \
         ip netns add {b} && echo state2 $(findmnt -n -o PROPAGATION /run/netns); \
         {keep_c}; ip netns list | sort; \
         ip netns exec {c} ip -o link | cut -d: -f2; \
         ip netns delete {c} && ip netns delete {a} && \
         \"$INSPECT\" release /run/netns/{b} >/dev/null && \
         echo left $(ls -A /run/netns | wc -l) $(grep -c nsfs /proc/self/mountinfo)",
        keep_a = keep_new_net(a),
        keep_c = keep_new_net(c),
    );
    let out = on_a_shared_root(&script);
    let text = stdout(&out);
    let mut sorted = [a, b, c];
    sorted.sort();
    let expected = format!(
        "state1\n{a}\n lo\nstate2 shared\n{}\n lo\nleft 0 0\n",
        sorted.map(String::as_str).join("\n")
    );
    assert_eq!(text, expected, "{}", nslab_testkit::stderr(&out));
    drop(names);
    before.assert_unchanged();
}

/// Two releases of one PATH at once: exactly one releases it, the other
/// finds nothing there, in every round. Neither takes the other's
/// half-done work (unmounted, not yet removed) for what an interrupted
/// keep leaves. Run in a scratch mount namespace, on a tmpfs of its own,
/// both private and shared (as /run/netns is).
#[test]
fn two_releases_at_once_one_releases_the_other_finds_nothing() {
    if !have_root("two_releases_at_once_one_releases_the_other_finds_nothing") {
        return;
    }
    let dir = ScratchDir::new();
    let script = "I=$1; D=$2\n\
        mount -t tmpfs nslab-race \"$D\" || exit 9\n\
        for shared in no yes; do\n\
          [ $shared = yes ] && mount --make-shared \"$D\"\n\
          for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do\n\
            \"$I\" keep $$ uts \"$D/k\" >/dev/null || exit 9\n\
            \"$I\" release \"$D/k\" >\"$D.1\" 2>&1 & a=$!\n\
            \"$I\" release \"$D/k\" >\"$D.2\" 2>&1 & b=$!\n\
            wait $a; ra=$?; wait $b; rb=$?\n\
            echo \"$ra $(head -n 1 \"$D.1\")|$rb $(head -n 1 \"$D.2\")\"\n\
            rm -f \"$D/k\"\n\
          done\n\
        done\n";
    let area = dir.join("area");
    std::fs::create_dir(&area).unwrap();
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(bin("ch07-inspect"))
        .arg(&area)
        .timeout(nslab_testkit::TIMEOUT)
        .assert()
        .success();
    let text = stdout(out.get_output());
    assert_eq!(text.lines().count(), 30, "{text}");
    for round in text.lines() {
        let mut outcomes: Vec<&str> = round.split('|').collect();
        outcomes.sort();
        let [released, refused] = outcomes[..] else {
            panic!("{round}");
        };
        assert!(released.starts_with("0 released uts:["), "{round}");
        assert!(
            refused.starts_with("125 ch07-inspect: cannot release ")
                && refused.contains(": ENOENT"),
            "{round}"
        );
    }
}
