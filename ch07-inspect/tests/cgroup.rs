//! `ch07-inspect unshare cgroup`: a cgroup namespace makes the cgroups
//! the process is in at `unshare` time its roots. Inside, every line of
//! `/proc/self/cgroup` ends in `/` (`0::/` for cgroup v2, and on a v1 or
//! hybrid host every v1 hierarchy too), while another process's cgroup
//! is shown relative to those roots: `/..` where it lies above them.

use nslab_testkit::{TIMEOUT, bin, have_root, stdout};

/// (hierarchy id and controllers, path) of each line in the text of
/// `/proc/PID/cgroup` files, in order.
fn cgroup_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (id, rest) = line.split_once(':')?;
            let (controllers, path) = rest.split_once(':')?;
            id.parse::<u32>().ok()?;
            path.starts_with('/')
                .then(|| (format!("{id}:{controllers}"), path.to_string()))
        })
        .collect()
}

#[test]
fn unshare_cgroup_makes_its_own_cgroups_the_root() {
    if !have_root("unshare_cgroup_makes_its_own_cgroups_the_root") {
        return;
    }
    let script = "echo self; cat /proc/self/cgroup; \
                  echo init; cat /proc/1/cgroup";
    let out = nslab_testkit::assert_cmd::Command::new(bin("ch07-inspect"))
        .args(["unshare", "cgroup", "--", "sh", "-c", script])
        .timeout(TIMEOUT)
        .assert()
        .success();
    let text = stdout(out.get_output());
    // stdout is the command's alone: unshare reports on stderr.
    let inside = text.strip_prefix("self\n").expect("the marker");
    let (self_inside, init_inside) = inside.split_once("\ninit\n").unwrap();
    let self_inside = cgroup_lines(self_inside);
    let init_inside = cgroup_lines(init_inside);
    assert!(!self_inside.is_empty(), "{text}");
    // Its own cgroups are the roots of the new namespace.
    for (hierarchy, path) in &self_inside {
        assert_eq!(path, "/", "{hierarchy}: {text}");
    }
    // cgroup v2 (the unified hierarchy, id 0) is shown as `0::/` where
    // it is mounted, v2-only or hybrid.
    let unified = std::fs::read_to_string("/proc/self/cgroup")
        .unwrap()
        .lines()
        .any(|line| line.starts_with("0::"));
    if unified {
        assert!(text.contains("\n0::/\n"), "{text}");
    }
    // Outside, this test is in the same cgroups as the command was.
    // Where they are below the host's init's, init is now above the
    // root: its path inside climbs out with `..`.
    let self_outside =
        cgroup_lines(&std::fs::read_to_string("/proc/self/cgroup").unwrap());
    let init_outside =
        cgroup_lines(&std::fs::read_to_string("/proc/1/cgroup").unwrap());
    for (((hierarchy, mine), (_, init)), (_, init_in)) in
        self_outside.iter().zip(&init_outside).zip(&init_inside)
    {
        if mine != init && mine.starts_with(init.as_str()) {
            assert!(
                init_in.starts_with("/.."),
                "{hierarchy}: init at {init}, we at {mine}, inside {init_in}"
            );
        }
    }
}

/// What a cgroup namespace does not change, on a cgroup of the test's
/// own in the v2 hierarchy (mounted in a scratch mount namespace, and
/// removed at the end): a cgroup2 mount made before keeps showing the
/// whole hierarchy, its root shown as `/..` in mountinfo, until cgroup2
/// is mounted again inside, rooted at the namespace's root (`/`); and
/// the process stays a member of the very cgroup it was in (the same
/// directory, the same inode, its PID in that cgroup's `cgroup.procs`).
#[test]
fn the_view_changes_not_the_membership() {
    if !have_root("the_view_changes_not_the_membership") {
        return;
    }
    let script = r#"
        mount -t cgroup2 none /mnt || exit 1
        cg=/mnt/nslab-test-$$
        mkdir "$cg" || exit 1
        trap 'echo $$ >/mnt/cgroup.procs; rmdir "$cg"' EXIT
        echo $$ >"$cg/cgroup.procs"
        "$0" unshare cgroup mnt -- sh -c '
            grep "^0::" /proc/self/cgroup
            findmnt -no FSROOT /mnt
            mount -t cgroup2 none /srv && findmnt -no FSROOT /srv
            stat -c %i /srv
            grep -cx $$ /srv/cgroup.procs' 2>/dev/null
        echo "outside $(stat -c %i "$cg")"
    "#;
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(bin("ch07-inspect"))
        .timeout(TIMEOUT)
        .assert()
        .success();
    let text = stdout(out.get_output());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(&lines[..3], ["0::/", "/..", "/"], "{text}");
    // The new mount's root is the test's cgroup, seen from outside.
    assert_eq!(format!("outside {}", lines[3]), lines[5], "{text}");
    assert_eq!(lines[4], "1", "the command is a member: {text}");
}

/// Forks until the kernel refuses, then prints the pids line of
/// `/proc/self/cgroup`, and `CURRENT FORKED ERROR`: how many processes
/// the cgroup `argv[1]` held before, how many forks worked, and the
/// errno of the one that failed.
const FORK_UNTIL_REFUSED: &str = r#"
import errno, os, sys
cgroup = sys.argv[1]
view = [line for line in open('/proc/self/cgroup').read().splitlines()
        if ':pids:' in line or line.startswith('0::')]
current = int(open(cgroup + '/pids.current').read())
r, w = os.pipe()
forked, error = 0, 'none'
try:
    while forked < 64:
        if os.fork() == 0:
            os.close(w)
            os.read(r, 1)
            os._exit(0)
        forked += 1
except BlockingIOError as e:
    error = errno.errorcode[e.errno]
os.close(w)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
print(view[0])
print(current, forked, error)
"#;

/// The limits of a cgroup stay in force inside a cgroup namespace: it
/// changes the path a process is shown, not the cgroup it is in. In a
/// cgroup of its own with `pids.max` 16 (the v1 pids hierarchy, or v2
/// where the root hands the pids controller down), a command inside
/// `unshare cgroup` sees its cgroup as `/`, and its forks fail with
/// EAGAIN once the cgroup holds 16 processes.
#[test]
fn limits_stay_in_force_inside_the_namespace() {
    if !have_root("limits_stay_in_force_inside_the_namespace") {
        return;
    }
    let script = r#"
        if mount -t cgroup -o pids none /mnt 2>/dev/null; then :
        elif mount -t cgroup2 none /mnt &&
            grep -qw pids /mnt/cgroup.subtree_control; then :
        else echo "no pids controller"; exit 0; fi
        cg=/mnt/nslab-limit-$$
        mkdir "$cg" || exit 1
        trap 'echo $$ >/mnt/cgroup.procs; rmdir "$cg"' EXIT
        echo 16 >"$cg/pids.max"
        echo $$ >"$cg/cgroup.procs"
        "$0" unshare cgroup -- python3 -c "$1" "$cg" 2>/dev/null
    "#;
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(bin("ch07-inspect"))
        .arg(FORK_UNTIL_REFUSED)
        .timeout(TIMEOUT)
        .assert()
        .success();
    let text = stdout(out.get_output());
    if text == "no pids controller\n" {
        eprintln!(
            "limits_stay_in_force_inside_the_namespace: no pids controller \
             here (neither cgroup v1's nor v2's at the root): not checked"
        );
        return;
    }
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with(":/"), "the view changed: {text}");
    let fields: Vec<&str> = lines[1].split(' ').collect();
    let [current, forked, error] = fields[..] else {
        panic!("{text}");
    };
    let (current, forked): (u32, u32) =
        (current.parse().unwrap(), forked.parse().unwrap());
    // The stand-in's shell, the tool and the command at least.
    assert!(current >= 3, "{text}");
    assert_eq!((current + forked, error), (16, "EAGAIN"), "{text}");
}
