//! What `ch06-net --veth` promises: `eth0` inside, up, with an address
//! and a default route through the host end, which has its address on
//! the host; ping works both ways; two containers at once get different
//! names and subnets; a subnet the host uses is skipped; and when the
//! tool ends, or is killed and its network namespace dies, nothing of the
//! pair is left on the host (no link, address or route). Without root:
//! 125 and a hint.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nslab_testkit::{
    HostSnapshot, TIMEOUT, as_nobody, bin, have_root, host_lock, stderr, stdout,
};

/// The host's IPv4 addresses and routes, as `ip` prints them.
fn host_addresses_and_routes() -> String {
    let ip = |args: &[&str]| stdout(&nslab_testkit::host("ip", args));
    ip(&["-4", "-o", "addr"]) + &ip(&["-4", "route", "show", "table", "all"])
}

use nslab_testkit::veth_host_ends as host_ends;

/// A container with `--veth` that has reported `eth0`'s address and
/// pinged the host end, and waits for a line on stdin to end.
struct Container {
    child: Child,
    address: String,
    gateway: String,
}

const INSIDE: &str = "set -e; \
    ip -o -4 addr show dev eth0 | awk '{print $4}'; \
    gw=$(ip route show default | awk '{print $3}'); echo $gw; \
    ping -c1 -W5 $gw >/dev/null && echo pinged; \
    ip -o link show lo | grep -q LOWER_UP && echo lo-up; \
    read wait_for_the_test";

impl Container {
    fn start() -> Container {
        let mut child = Command::new(bin("ch06-net"))
            .args(["--veth", "--map-root", "--", "sh", "-c", INSIDE])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot start ch06-net");
        let reader = BufReader::new(child.stdout.as_mut().unwrap());
        let lines: Vec<String> =
            reader.lines().take(4).map(|l| l.unwrap()).collect();
        assert_eq!(lines.len(), 4, "the container said: {lines:?}");
        assert_eq!(lines[2..], ["pinged", "lo-up"], "{lines:?}");
        Container {
            child,
            address: lines[0].clone(),
            gateway: lines[1].clone(),
        }
    }

    fn finish(mut self) {
        self.child.stdin.take().unwrap().write_all(b"\n").unwrap();
        assert!(self.child.wait().unwrap().success());
    }
}

#[test]
fn two_containers_at_once_ping_both_ways_and_leave_nothing() {
    if !have_root("two_containers_at_once_ping_both_ways_and_leave_nothing") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let addresses_before = host_addresses_and_routes();
    let ends_before = host_ends();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(Container::start);
        let b = s.spawn(Container::start);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_ne!(a.address, b.address, "two containers, two subnets");
    let ends = host_ends();
    assert_eq!(ends.len(), ends_before.len() + 2, "{ends:?}");
    for container in [&a, &b] {
        // eth0 has .2 of a /24 in 10.199/16; the host end has .1.
        let (ip, len) = container.address.split_once('/').unwrap();
        assert_eq!(len, "24");
        assert!(ip.starts_with("10.199.") && ip.ends_with(".2"), "{ip}");
        let host_end = container.gateway.clone();
        assert_eq!(host_end, format!("{}1", ip.trim_end_matches('2')));
        let shown = stdout(&nslab_testkit::host(
            "ip",
            &["-4", "-o", "addr", "show", "to", &host_end],
        ));
        assert!(shown.contains("veth-nslab"), "{shown}");
        // The host's way in: ping the container.
        let ping = nslab_testkit::host("ping", &["-c1", "-W5", ip]);
        assert!(stdout(&ping).contains("1 received"));
    }
    a.finish();
    b.finish();
    // The tool deletes its end when the command has ended: gone already.
    assert_eq!(host_ends(), ends_before);
    assert_eq!(host_addresses_and_routes(), addresses_before);
    before.assert_unchanged();
}

#[test]
fn when_the_namespace_dies_the_pair_goes_with_it() {
    if !have_root("when_the_namespace_dies_the_pair_goes_with_it") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let addresses_before = host_addresses_and_routes();
    let ends_before = host_ends();
    let container = Container::start();
    assert_eq!(host_ends().len(), ends_before.len() + 1);
    // SIGKILL: the tool cannot cut the cable; its command dies with it
    // (PDEATHSIG, PID 1 of its namespace), the network namespace is
    // freed, and the kernel deletes eth0 and, with it, its peer.
    let mut child = container.child;
    child.kill().unwrap();
    child.wait().unwrap();
    // The kernel frees a network namespace in a work queue, after the
    // last process has gone: wait for it, with a bound for a failure.
    let deadline = Instant::now() + TIMEOUT;
    while host_ends() != ends_before {
        assert!(Instant::now() < deadline, "the pair outlived its namespace");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(host_addresses_and_routes(), addresses_before);
    before.assert_unchanged();
}

#[test]
fn a_subnet_the_host_uses_is_skipped() {
    if !have_root("a_subnet_the_host_uses_is_skipped") {
        return;
    }
    // A scratch network namespace stands in for the host: its routes
    // take 10.199.0.0/24 and 10.199.1.0/24, so the tool must pick .2.
    // The scratch namespace, and the pair in it, die with `unshare`.
    let line = "ip link set lo up && \
        ip route add 10.199.0.0/24 dev lo && \
        ip addr add 10.199.1.7/24 dev lo noprefixroute && \
        $CH06 --veth -- ip -o -4 addr show dev eth0";
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--net", "sh", "-c", line])
        .env("CH06", bin("ch06-net"))
        .timeout(TIMEOUT)
        .assert()
        .success();
    let text = stdout(out.get_output());
    assert!(text.contains(" 10.199.2.2/24 "), "{text}");
}

#[test]
fn veth_without_root_is_refused_with_a_hint() {
    if !have_root("veth_without_root_is_refused_with_a_hint") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let ends_before = host_ends();
    let (mut command, _copy) = as_nobody("ch06-net", &["--veth", "--", "true"]);
    let out = command.assert().code(125);
    let err = stderr(out.get_output());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("ch06-net: --veth: cannot create veth-nslab"),
        "{err}"
    );
    assert!(lines[0].contains("EPERM"), "{err}");
    assert!(lines[1].starts_with("hint: "), "{err}");
    assert!(lines[1].contains("as root"), "{err}");
    assert_eq!(host_ends(), ends_before);
    before.assert_unchanged();
}

#[test]
fn veth_configures_its_own_child_under_a_foreign_proc() {
    if !have_root("veth_configures_its_own_child_under_a_foreign_proc") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let addresses_before = host_addresses_and_routes();
    // Inside ch03-pid, /proc is still the host's: there the child's PID
    // as the tool numbers it (2 or so) names some host process. The tool
    // must still configure its own child's network, not that process's.
    // A scratch network namespace stands in for the host's network.
    let line = "ip link set lo up && \
        $CH03 $CH06 --veth -- ip -o -4 addr show dev eth0";
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--net", "sh", "-c", line])
        .env("CH03", bin("ch03-pid"))
        .env("CH06", bin("ch06-net"))
        .timeout(TIMEOUT)
        .assert()
        .success();
    let text = stdout(out.get_output());
    assert!(text.contains(" 10.199.0.2/24 "), "{text}");
    assert_eq!(host_addresses_and_routes(), addresses_before);
    before.assert_unchanged();
}

/// Runs `line` in a scratch network and mount namespace (the host's
/// links and mounts are never touched), with `$CH06` the chapter, and
/// returns its status and stderr.
fn in_scratch_network(line: &str) -> (Option<i32>, String) {
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--net", "--mount", "sh", "-c", line])
        .env("CH06", bin("ch06-net"))
        .timeout(TIMEOUT)
        .output()
        .expect("cannot run unshare");
    (out.status.code(), stderr(&out))
}

/// Asserts a refusal of `--veth`: 125, one line about `what`, a hint
/// that contains `hint`.
fn assert_refused((code, err): (Option<i32>, String), what: &str, hint: &str) {
    assert_eq!(code, Some(125), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("ch06-net: --veth"), "{err}");
    assert!(lines[0].contains(what), "{err}");
    assert!(lines[1].starts_with("hint: "), "{err}");
    assert!(lines[1].contains(hint), "{err}");
}

#[test]
fn veth_without_proc_says_so() {
    if !have_root("veth_without_proc_says_so") {
        return;
    }
    let line = "ip link set lo up && umount -l /proc && \
                exec \"$CH06\" --veth -- true";
    assert_refused(in_scratch_network(line), "ENOENT", "mount -t proc");
}

/// However few descriptors the tool may open, `--veth` either works or
/// says that the limit is the cause.
#[test]
fn veth_under_a_small_descriptor_limit_names_the_limit() {
    if !have_root("veth_under_a_small_descriptor_limit_names_the_limit") {
        return;
    }
    for n in 5..=12 {
        let line = format!(
            "ip link set lo up && ulimit -n {n} && exec \"$CH06\" --veth -- true"
        );
        let (code, err) = in_scratch_network(&line);
        if code == Some(0) {
            continue;
        }
        assert_refused((code, err), "EMFILE", "ulimit -n");
    }
}

/// When no 10.199.N.0/24 is left, the hint names the cause: the link
/// names taken, or an address that covers the range (no route to it).
#[test]
fn no_free_subnet_names_its_cause() {
    if !have_root("no_free_subnet_names_its_cause") {
        return;
    }
    let names = "ip link set lo up && \
        i=0; while [ $i -le 255 ]; do \
            echo \"link add veth-nslab$i type veth peer name p$i\"; \
            i=$((i + 1)); \
        done | ip -batch - && exec \"$CH06\" --veth -- true";
    assert_refused(
        in_scratch_network(names),
        "no free /24",
        "name veth-nslabN taken",
    );
    let address = "ip link set lo up && \
        ip addr add 10.199.0.1/16 dev lo noprefixroute && \
        exec \"$CH06\" --veth -- true";
    assert_refused(in_scratch_network(address), "no free /24", "`ip addr`");
}

/// `--help` suggests `ping` after `--veth` only with `--map-root`, and
/// says why `ping` fails without it.
#[test]
fn help_suggests_ping_only_where_it_works() {
    let out = nslab_testkit::chapter("ch06-net", &["--help"])
        .assert()
        .success();
    let help = stdout(out.get_output());
    for line in help.lines().filter(|l| l.contains("ping")) {
        if line.contains("--veth") {
            assert!(line.contains("--map-root"), "{line}");
        }
    }
    assert!(help.contains("\"setuid: Invalid argument\""), "{help}");
}

/// What the help and the page say about iputils' `ping` without
/// `--map-root`: it fails with "setuid: Invalid argument" (nobody is
/// unmapped); with `--map-root` it reaches the host end.
#[test]
fn ping_needs_map_root_to_drop_its_privilege() {
    if !have_root("ping_needs_map_root_to_drop_its_privilege") {
        return;
    }
    let version = nslab_testkit::host("ping", &["-V"]);
    if !stdout(&version).contains("iputils") {
        eprintln!(
            "ping_needs_map_root_to_drop_its_privilege: SKIPPED: not iputils' ping"
        );
        return;
    }
    let line = "ip link set lo up && \
        \"$CH06\" --veth -- ping -c1 -W5 10.199.0.1; echo \"status $?\" >&2; \
        \"$CH06\" --veth --map-root -- ping -c1 -W5 10.199.0.1 >/dev/null; \
        echo \"status $?\" >&2";
    let (_, err) = in_scratch_network(line);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        ["ping: setuid: Invalid argument", "status 255", "status 0"],
        "{err}"
    );
}
