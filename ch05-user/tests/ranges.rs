//! `--map-users`, `--map-groups` and `--map-auto`: maps of several
//! ranges, written by newuidmap and newgidmap (package uidmap) from the
//! ranges that /etc/subuid and /etc/subgid grant. Each test gives
//! nobody a range in a mount namespace of its own, where a file of the
//! test's is bound over /etc/subuid and /etc/subgid: the host's files
//! never change.

use std::path::Path;
use std::process::Output;

use nslab_testkit::{BinaryCopy, have_root, stderr, stdout, unique};

/// Runs `ch05-user ARGS` as nobody, with `subids` as the content of
/// /etc/subuid and /etc/subgid.
fn with_subids(subids: &str, args: &[&str]) -> Output {
    for file in ["/etc/subuid", "/etc/subgid"] {
        assert!(
            Path::new(file).exists(),
            "{file} is missing: the passwd package makes it (empty)"
        );
    }
    let copy = BinaryCopy::new("ch05-user");
    let file = std::env::temp_dir().join(unique("nslab-subids"));
    std::fs::write(&file, subids).unwrap();
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(
            "mount --bind \"$1\" /etc/subuid && mount --bind \"$1\" /etc/subgid && \
             shift && exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$@\"",
        )
        .arg("sh")
        .arg(&file)
        .arg(&copy.path)
        .args(args)
        .output()
        .expect("cannot run unshare");
    let _ = std::fs::remove_file(&file);
    out
}

#[test]
fn map_auto_maps_the_first_subordinate_range_with_root_as_the_user() {
    if !have_root(
        "map_auto_maps_the_first_subordinate_range_with_root_as_the_user",
    ) {
        return;
    }
    let script = "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; \
                  setpriv --reuid=1000 --regid=1000 --clear-groups id -u";
    let out = with_subids(
        "someone:300000:65536\nnobody:100000:65536\nnobody:400000:65536\n",
        &["--map-root", "--map-auto", "--", "sh", "-c", script],
    );
    let lines: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        [
            "0 65534 1",
            "1 100000 65535",
            "0 65534 1",
            "1 100000 65535",
            // newgidmap leaves setgroups(2) allowed: --clear-groups works.
            "allow",
            "1000",
        ],
        "{}",
        stderr(&out)
    );
}

#[test]
fn map_users_writes_exactly_the_ranges_given() {
    if !have_root("map_users_writes_exactly_the_ranges_given") {
        return;
    }
    let out = with_subids(
        "65534:100000:65536\n",
        &[
            "--map-users=0:100000:10",
            "--map-users",
            "100020,20,5",
            "--map-groups",
            "0:100000:1",
            "--",
            "cat",
            "/proc/self/uid_map",
            "/proc/self/gid_map",
        ],
    );
    let lines: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    // The second range is util-linux 2.38's OUTER,INNER,COUNT.
    assert_eq!(
        lines,
        ["0 100000 10", "20 100020 5", "0 100000 1"],
        "{}",
        stderr(&out)
    );
}

#[test]
fn overlapping_ranges_are_the_kernels_einval() {
    if !have_root("overlapping_ranges_are_the_kernels_einval") {
        return;
    }
    let out = with_subids(
        "nobody:100000:65536\n",
        &[
            "--map-users",
            "0:100000:10",
            "--map-users",
            "20:100005:5",
            "--",
            "echo",
            "ran",
        ],
    );
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stdout(&out), "", "the command must not run");
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "ch05-user: cannot write the uid map with newuidmap: newuidmap: \
             write to uid_map failed: Invalid argument\n\
             hint: the kernel refused the map: ranges may not overlap"
        ),
        "{err}"
    );
}

#[test]
fn a_range_not_granted_stops_the_command() {
    if !have_root("a_range_not_granted_stops_the_command") {
        return;
    }
    let out = with_subids(
        "nobody:100000:65536\n",
        &["--map-users", "0:200000:10", "--", "echo", "ran"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stdout(&out), "", "the command must not run");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[0],
        "ch05-user: cannot write the uid map with newuidmap: newuidmap: \
         uid range [0-10) -> [200000-200010) not allowed"
    );
    assert!(lines[1].starts_with(
        "hint: newuidmap writes only the ranges that /etc/subuid grants"
    ));
}

#[test]
fn map_auto_without_a_range_says_how_to_get_one() {
    if !have_root("map_auto_without_a_range_says_how_to_get_one") {
        return;
    }
    let out = with_subids(
        "someone:100000:65536\n",
        &["--map-auto", "--", "echo", "ran"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "ch05-user: cannot map uids: no range for nobody in /etc/subuid\n\
             hint: auto maps the first range that /etc/subuid gives the user"
        ),
        "{err}"
    );
}

/// The helpers find the child as /proc/PID: in a PID namespace whose
/// /proc is still its parent's, that number names another process, so
/// the tool refuses before running them.
#[test]
fn a_proc_of_another_pid_namespace_is_refused() {
    if !have_root("a_proc_of_another_pid_namespace_is_refused") {
        return;
    }
    let out = std::process::Command::new("unshare")
        .args(["--pid", "--fork"])
        .arg(nslab_testkit::bin("ch05-user"))
        .args(["--map-users", "0:0:1", "--", "echo", "ran"])
        .output()
        .expect("cannot run unshare");
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).starts_with(
            "ch05-user: cannot write the maps with newuidmap: /proc is not \
             this PID namespace's\nhint: newuidmap finds the child by its PID"
        ),
        "{}",
        stderr(&out)
    );
}
