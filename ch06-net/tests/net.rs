//! What ch06-net promises: only `lo`, DOWN (plus fallback tunnels), with
//! or without root; `--map-root` can bring it up and ping it; and many
//! runs each get their own namespaces and leave nothing behind.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use nslab_testkit::{
    HostSnapshot, NOBODY, as_nobody, bin, chapter, have_root, host_lock, stdout,
};

nslab_testkit::contract_tests!(
    "ch06-net",
    new: &["uts", "ipc", "pid", "mnt", "user", "net"],
    limit: "max_net_namespaces",
    pid_namespace: true,
    needs_root: false,
);

/// Devices the kernel adds to every new network namespace when their
/// tunnel module is loaded on the host.
const FALLBACK_TUNNELS: &[&str] = &[
    "tunl0", "sit0", "ip6tnl0", "ip6gre0", "gre0", "gretap0", "erspan0",
    "ip_vti0", "ip6_vti0",
];

/// (name, flags) of each link in `ip -o link` output.
fn links(ip_output: &str) -> Vec<(String, String)> {
    ip_output
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let name = fields[1].trim_end_matches(':');
            let name = name.split('@').next().unwrap().to_string();
            (name, fields[2].to_string())
        })
        .collect()
}

fn assert_only_lo_down(ip_output: &str) {
    let inside = links(ip_output);
    // None of the host's own devices is visible.
    for entry in std::fs::read_dir("/sys/class/net").unwrap() {
        let host_link = entry.unwrap().file_name().into_string().unwrap();
        if host_link != "lo" && !FALLBACK_TUNNELS.contains(&host_link.as_str())
        {
            assert!(
                inside.iter().all(|(name, _)| *name != host_link),
                "`ip -o link` inside ch06-net shows the host's {host_link}: \
                 the command is not in a new network namespace; is \
                 CLONE_NEWNET in NAMESPACES?\n{ip_output}"
            );
        }
    }
    let (lo, others): (Vec<_>, Vec<_>) =
        inside.iter().partition(|(name, _)| name == "lo");
    assert_eq!(lo.len(), 1, "{ip_output}");
    assert!(!lo[0].1.contains("UP"), "lo must be DOWN: {ip_output}");
    for (name, _) in &others {
        assert!(FALLBACK_TUNNELS.contains(&name.as_str()), "{ip_output}");
    }
}

#[test]
fn only_lo_and_it_is_down() {
    if !have_root("only_lo_and_it_is_down") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let out = chapter("ch06-net", &["--", "ip", "-o", "link"])
        .assert()
        .success();
    assert_only_lo_down(&stdout(out.get_output()));
    before.assert_unchanged();
}

#[test]
fn only_lo_also_without_root() {
    // As nobody when we are root; else as the caller, who is not.
    let args = ["--", "ip", "-o", "link"];
    let (mut command, _copy) = if nslab_testkit::is_root() {
        let (command, copy) = as_nobody("ch06-net", &args);
        (command, Some(copy))
    } else {
        (chapter("ch06-net", &args), None)
    };
    let out = command.assert().success();
    assert_only_lo_down(&stdout(out.get_output()));
}

#[test]
fn map_root_brings_lo_up_and_pings_it() {
    if !have_root("map_root_brings_lo_up_and_pings_it") {
        return;
    }
    let args = [
        "--map-root",
        "--",
        "sh",
        "-c",
        "ip link set lo up && ping -c1 -W1 127.0.0.1",
    ];
    let as_root = chapter("ch06-net", &args).assert().success();
    let (mut command, _copy) = as_nobody("ch06-net", &args);
    let unprivileged = command.assert().success();
    for (outside, out) in [(0, as_root), (NOBODY, unprivileged)] {
        let text = stdout(out.get_output());
        assert!(text.contains("1 received"), "as {outside}: {text}");
    }
}

/// How many runs, and how many at a time.
const RUNS: usize = 200;
const AT_ONCE: usize = 10;

#[test]
fn two_hundred_runs_each_get_their_own_namespaces_and_leave_nothing() {
    if !have_root("two_hundred_runs") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let kinds = ["net", "user", "pid", "mnt", "uts", "ipc"];
    // The marker, a comment in the script, finds any run left behind.
    let marker = nslab_testkit::unique("nslab-load");
    let script: String = kinds
        .iter()
        .map(|kind| format!("readlink /proc/self/ns/{kind}; "))
        .chain([format!("read wait_for_the_test # {marker}")])
        .collect();
    let host_namespaces: BTreeSet<String> = kinds
        .iter()
        .map(|kind| nslab_testkit::host_ns(kind))
        .collect();
    let start = Instant::now();
    for _batch in 0..RUNS / AT_ONCE {
        // A batch runs side by side: each holds its namespaces open until
        // all have reported, so equal inodes would mean shared ones.
        let mut children: Vec<_> = (0..AT_ONCE)
            .map(|_| {
                Command::new(bin("ch06-net"))
                    .args(["--", "sh", "-c", &script])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("cannot start ch06-net")
            })
            .collect();
        let mut batch = BTreeSet::new();
        for child in &mut children {
            let reader = BufReader::new(child.stdout.as_mut().unwrap());
            for line in reader.lines().take(kinds.len()) {
                let namespace = line.unwrap();
                assert!(!host_namespaces.contains(&namespace), "{namespace}");
                assert!(batch.insert(namespace.clone()), "shared: {namespace}");
            }
        }
        assert_eq!(batch.len(), AT_ONCE * kinds.len());
        for child in &mut children {
            child.stdin.take().unwrap().write_all(b"\n").unwrap();
        }
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
    }
    let elapsed = start.elapsed();
    // Printed past the test harness's capture, so the figure always shows.
    let _ = writeln!(
        std::io::stderr(),
        "ch06-net: {RUNS} runs, {AT_ONCE} at a time, in {elapsed:.2?} \
         ({:.1} ms per run)",
        elapsed.as_secs_f64() * 1000.0 / RUNS as f64
    );
    // Nothing of theirs is left: no process (the marker), no mount and
    // no link (the snapshot). Their namespaces had no other holder, so
    // they are gone with the processes. (Looking for their inode numbers
    // in other processes would prove nothing: the kernel reuses them,
    // and other programs on a busy machine make namespaces of their own.)
    assert!(nslab_testkit::processes_with(&marker).is_empty());
    before.assert_unchanged();
}

nslab_testkit::root_test!(
    map_root_maps_the_effective_ids,
    nslab_testkit::failures::map_root_maps_the_effective_ids("ch06-net")
);
