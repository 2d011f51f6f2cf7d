//! ns, diff, list, limits, tree and cost, against running chapters.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Background, LINKS, inspect_ok, line_starting, ns_inode};
use nslab_testkit::{bin, have_root};

/// ch04-mount with its own hostname and /proc, waiting for stdin.
fn start_ch04() -> Background {
    Background::start(
        &bin("ch04-mount"),
        &[
            "--",
            "sh",
            "-c",
            "hostname inner; mount -t proc proc /proc; echo ready; read x || :",
        ],
    )
}

#[test]
fn ns_of_self_shows_all_ten_links_shared() {
    let text = inspect_ok(&["ns"]);
    assert!(text.starts_with("namespaces of PID "), "{text}");
    for kind in LINKS {
        let words = line_starting(&text, kind);
        // The tool and this test are in the same namespaces.
        assert_eq!(words[1], ns_inode("self", kind).to_string(), "{kind}");
        assert_eq!(words[2], "yes", "{kind}");
    }
}

#[test]
fn ns_and_diff_of_a_container_show_what_it_does_not_share() {
    if !have_root("ns_and_diff_of_a_container_show_what_it_does_not_share") {
        return;
    }
    let container = start_ch04();
    let pid = container.container_pid().to_string();
    let text = inspect_ok(&["ns", &pid]);
    assert!(text.starts_with(&format!("namespaces of PID {pid} (sh)")));
    let new = ["ipc", "mnt", "pid", "pid_for_children", "uts"];
    for kind in LINKS {
        let words = line_starting(&text, kind);
        assert_eq!(words[1], ns_inode(&pid, kind).to_string(), "{kind}");
        let shared = if new.contains(&kind) { "no" } else { "yes" };
        assert_eq!(words[2], shared, "{kind}: {text}");
    }

    let me = std::process::id().to_string();
    let text = inspect_ok(&["diff", &me, &pid]);
    assert!(
        text.contains("\nshared:    cgroup net time time_for_children user\n"),
        "{text}"
    );
    assert!(
        text.contains("\ndifferent: ipc mnt pid pid_for_children uts\n"),
        "{text}"
    );
    assert_eq!(
        line_starting(&text, "uts")[2],
        ns_inode(&pid, "uts").to_string()
    );
    assert_eq!(container.stop(), Some(0));
}

#[test]
fn ns_shows_a_dangling_pid_for_children() {
    if !have_root("ns_shows_a_dangling_pid_for_children") {
        return;
    }
    // util-linux unshare without --fork: sh itself unshared the PID
    // namespace and, running only builtins, never has a child.
    let shell = Background::start(
        std::path::Path::new("unshare"),
        &["--pid", "sh", "-c", "echo ready; read x || :"],
    );
    let pid = shell.pid().to_string();
    let text = inspect_ok(&["ns", &pid]);
    let words = line_starting(&text, "pid_for_children");
    assert_eq!(words[1..3], ["-", "dangling:"], "{text}");
    // Its own PID namespace is still ours.
    assert_eq!(line_starting(&text, "pid")[2], "yes", "{text}");
    assert_eq!(shell.stop(), Some(0));
}

/// (inode, type) -> (nprocs, pid) from `lsns -r -n -o NS,TYPE,NPROCS,PID`
/// or from `ch07-inspect list` (same first four columns).
fn namespaces(text: &str, skip_header: bool) -> Listed {
    text.lines()
        .skip(usize::from(skip_header))
        .map(|line| {
            let w: Vec<&str> = line.split_whitespace().collect();
            (
                (w[0].parse().unwrap(), w[1].to_string()),
                (w[2].parse().unwrap(), w[3].to_string()),
            )
        })
        .collect()
}

type Listed = BTreeMap<(u64, String), (u32, String)>;

/// lsns, `ch07-inspect list`, lsns again. For each namespace whose lowest
/// PID lsns saw the same before and after, `list` must give that lowest
/// PID and a count between lsns's two counts; else Err says where not.
/// (Except for the counts in our own namespaces, the whole machine's,
/// which a test run beside this one moves by dozens between the lsns
/// runs: there `list` must only find a process.)
fn one_round_against_lsns() -> Result<(Listed, Listed, Listed), String> {
    let before = lsns();
    let ours = namespaces(&inspect_ok(&["list"]), true);
    let after = lsns();
    let mut stable = 0;
    for (key, (count_before, lowest)) in &before {
        let Some((count_after, lowest_after)) = after.get(key) else {
            continue;
        };
        if lowest_after != lowest {
            continue;
        }
        stable += 1;
        let (our_count, our_lowest) =
            ours.get(key).ok_or_else(|| format!("{key:?} not listed"))?;
        if our_lowest != lowest {
            return Err(format!(
                "{key:?}: lowest PID {our_lowest}, not {lowest}"
            ));
        }
        let range = if key.0 == ns_inode("self", &key.1) {
            1..=u32::MAX
        } else {
            *count_before.min(count_after)..=*count_before.max(count_after)
        };
        if !range.contains(our_count) {
            return Err(format!(
                "{key:?}: {our_count} processes, lsns counted {count_before} \
                 then {count_after}"
            ));
        }
    }
    assert!(stable >= 8, "too few stable namespaces: {before:?}");
    Ok((before, ours, after))
}

fn lsns() -> Listed {
    let out = common::lsns(&["-r", "-n", "-o", "NS,TYPE,NPROCS,PID"]);
    namespaces(&out, false)
}

#[test]
fn list_agrees_with_lsns_and_finds_a_running_chapter() {
    if !have_root("list_agrees_with_lsns_and_finds_a_running_chapter") {
        return;
    }
    let container = start_ch04();
    let pid = container.container_pid();
    // Other tests start and stop processes meanwhile, in namespaces of
    // their own too: a round where one of them did so between lsns's
    // counts proves nothing, and is run again. A `list` that miscounts
    // fails every round.
    let mut rounds = Vec::new();
    let (before, ours, after) = loop {
        match one_round_against_lsns() {
            Ok(round) => break round,
            Err(problem) if rounds.len() < 19 => rounds.push(problem),
            Err(problem) => panic!("20 rounds: {rounds:?}, then {problem}"),
        }
    };
    // Nothing invented: every namespace we list was seen by lsns, unless
    // its processes came or went during the runs. "Still there" is the
    // PID still in that namespace: a PID that ended may be reused at
    // once (pid_max can be as low as 32768).
    for (key, (_, lowest)) in &ours {
        let still_there = lowest != "-"
            && std::fs::metadata(format!("/proc/{lowest}/ns/{}", key.1))
                .is_ok_and(|ns| {
                    use std::os::unix::fs::MetadataExt;
                    ns.ino() == key.0
                });
        if still_there {
            assert!(
                before.contains_key(key) || after.contains_key(key),
                "{key:?} (PID {lowest}) unknown to lsns"
            );
        }
    }
    // The container's own namespaces: one process, its PID 1.
    for kind in ["ipc", "mnt", "pid", "uts"] {
        let key = (ns_inode(&pid.to_string(), kind), kind.to_string());
        assert_eq!(ours.get(&key), Some(&(1, pid.to_string())), "{kind}");
    }
    // `list uts` shows only UTS namespaces, the container's among them.
    let uts = namespaces(&inspect_ok(&["list", "uts"]), true);
    assert!(uts.keys().all(|(_, kind)| kind == "uts"), "{uts:?}");
    let inode = ns_inode(&pid.to_string(), "uts");
    assert!(uts.contains_key(&(inode, "uts".into())), "{uts:?}");
    assert_eq!(container.stop(), Some(0));
}

#[test]
fn limits_show_the_sysctls_and_counts() {
    let text = inspect_ok(&["limits"]);
    let kinds: BTreeSet<&str> = nslab_testkit::NS_TYPES.into_iter().collect();
    for kind in &kinds {
        let words = line_starting(&text, kind);
        let file = format!("/proc/sys/user/max_{kind}_namespaces");
        let max = std::fs::read_to_string(&file).unwrap();
        assert_eq!(words[1], max.trim(), "{kind}");
        assert!(words[2].parse::<u32>().unwrap() >= 1, "{kind}: {text}");
        assert_eq!(words[3], file);
    }
}

#[test]
fn tree_shows_a_ch05_user_containers_chain() {
    if !have_root("tree_shows_a_ch05_user_containers_chain") {
        return;
    }
    let container = Background::start(
        &bin("ch05-user"),
        &["--", "sh", "-c", "echo ready; read x || :"],
    );
    let pid = container.container_pid().to_string();
    let user = ns_inode(&pid, "user");
    let host_user = ns_inode("self", "user");
    assert_ne!(user, host_user);

    let text = inspect_ok(&["tree", &format!("/proc/{pid}/ns/uts")]);
    let chain: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("chain up to"))
        .skip(1)
        .map(str::trim)
        .collect();
    assert_eq!(
        chain[0],
        format!("uts:[{}]", ns_inode(&pid, "uts")),
        "{text}"
    );
    assert_eq!(
        chain[1],
        format!("└ owned by user:[{user}] (created by uid 0)"),
        "{text}"
    );
    assert_eq!(
        chain[2],
        format!("└ child of user:[{host_user}] (created by uid 0)"),
        "{text}"
    );
    assert!(chain[3].starts_with("(the top: NS_GET_PARENT gives EPERM"));
    assert_eq!(
        line_starting(&text, "NS_GET_USERNS")[1],
        format!("user:[{user}]")
    );
    let text = inspect_ok(&["tree", &format!("/proc/{pid}/ns/pid")]);
    let parent = format!("pid:[{}]", ns_inode("self", "pid"));
    assert_eq!(line_starting(&text, "NS_GET_PARENT")[1], parent, "{text}");
    let text = inspect_ok(&["tree", &format!("/proc/{pid}/ns/user")]);
    assert_eq!(line_starting(&text, "NS_GET_OWNER_UID")[1], "0", "{text}");

    // The whole tree: the initial user namespace at the top, the
    // container's user namespace under it, its four namespaces under it.
    let text = inspect_ok(&["tree"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(&format!("user:[{host_user}] initial")),
        "{text}"
    );
    let at = lines
        .iter()
        .position(|l| {
            l.contains(&format!("user:[{user}] parent user:[{host_user}]"))
        })
        .unwrap_or_else(|| panic!("no user:[{user}] in\n{text}"));
    let indent = lines[at].find("user:[").unwrap();
    let below: Vec<&str> = lines[at + 1..]
        .iter()
        .take_while(|l| {
            l.find(|c: char| c.is_ascii_alphabetic()).unwrap() > indent
        })
        .copied()
        .collect();
    for kind in ["ipc", "mnt", "pid", "uts"] {
        let name = format!("{kind}:[{}]", ns_inode(&pid, kind));
        assert!(below.iter().any(|l| l.contains(&name)), "{name} in\n{text}");
    }
    assert_eq!(container.stop(), Some(0));
}

#[test]
fn cost_times_every_type() {
    if !have_root("cost_times_every_type") {
        return;
    }
    let text = inspect_ok(&["cost", "20"]);
    assert!(text.starts_with("20 rounds of clone3"), "{text}");
    let baseline: f64 = line_starting(&text, "(none)")[1].parse().unwrap();
    assert!(baseline > 0.0, "{text}");
    for kind in nslab_testkit::NS_TYPES {
        let words = line_starting(&text, kind);
        let micros: f64 = words[1].parse().unwrap();
        // The extra over the baseline: negative when it is noise.
        let extra: f64 = words[3].parse().unwrap();
        assert!(micros > 0.0 && extra.is_finite(), "{kind}: {text}");
    }
    assert!(text.contains("asynchronous"), "{text}");
}

#[test]
fn cost_without_root_fails_with_a_hint() {
    if !have_root("cost_without_root_fails_with_a_hint") {
        return;
    }
    let (mut command, _copy) =
        nslab_testkit::as_nobody("ch07-inspect", &["cost", "1"]);
    let out = command.assert().code(125);
    let err = nslab_testkit::stderr(out.get_output());
    assert!(
        err.starts_with(
            "ch07-inspect: cannot create a cgroup namespace: EPERM"
        ),
        "{err}"
    );
    assert!(
        err.contains("hint: creating namespaces needs root"),
        "{err}"
    );
}
