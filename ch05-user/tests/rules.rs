//! The kernel's rules that ch05-user.md shows in its sessions, each
//! checked for the errno that `user_namespaces(7)` and
//! `mount_namespaces(7)` state: how a map may be written and is read,
//! set*id without a map, and the mounts a less privileged mount
//! namespace inherits (locked) or may make.
//!
//! The maps are written by a shell on the host into user namespaces
//! that a `sleep` holds, as the page's session does; nothing on the
//! host changes, and every `sleep` is killed before the shell ends.

use std::process::Output;

use nslab_testkit::{bin, chapter, have_root, stderr, stdout, unique};

/// `fresh` makes a user namespace held by a sleep and enters its
/// /proc/PID; `map` writes its arguments, one per line, to `uid_map`
/// in one write(2) (dd reads the whole file in one block).
const PRELUDE: &str = r#"
set -u
sleeps=
trap 'kill $sleeps 2>/dev/null' EXIT
fresh() {
    T=$(unshare --user sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!')
    sleeps="$sleeps $T"
    cd /proc/$T
}
map() { printf '%s\n' "$@" >"$MAPFILE"; dd if="$MAPFILE" of=uid_map bs=4k status=none; }
"#;

/// Runs `script` after the prelude in bash, with the chapter at
/// `$CH05`, and returns its output (whatever its status).
fn rules(script: &str) -> Output {
    let dir = std::env::temp_dir();
    // One file per call: the tests of this file run at once, in threads
    // of one process.
    let mapfile = dir.join(unique("nslab-rules-map"));
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("{PRELUDE}\n{script}"))
        .env("MAPFILE", &mapfile)
        .env("CH05", bin("ch05-user"))
        .output()
        .expect("cannot run bash");
    let _ = std::fs::remove_file(&mapfile);
    out
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn a_map_is_written_once_without_overlap_in_at_most_340_lines() {
    if !have_root("a_map_is_written_once_without_overlap_in_at_most_340_lines")
    {
        return;
    }
    let out = rules(
        r#"
        fresh; map '0 1000 1' '1 100000 65536' && cat uid_map
        map '0 2000 1' || echo "second write refused"
        fresh; map '0 1000 10' '5 2000 10' || echo "overlap refused"
        map "$(seq 0 2 680 | awk '{print $1, $1, 1}')" || echo "341 refused"
        map "$(seq 0 2 678 | awk '{print $1, $1, 1}')" && wc -l <uid_map
        "#,
    );
    assert_eq!(
        lines(&stdout(&out)),
        [
            "0 1000 1",
            "1 100000 65536",
            "second write refused",
            "overlap refused",
            "341 refused",
            "340",
        ]
    );
    let err = stderr(&out);
    let errors: Vec<&str> = err.lines().collect();
    assert_eq!(
        errors,
        [
            "dd: error writing 'uid_map': Operation not permitted",
            "dd: error writing 'uid_map': Invalid argument",
            "dd: error writing 'uid_map': Invalid argument",
        ],
        "{err}"
    );
}

#[test]
fn a_map_is_one_write_at_offset_0() {
    if !have_root("a_map_is_one_write_at_offset_0") {
        return;
    }
    // bash's printf writes a line at a time: the first line is the map,
    // the second write comes at an offset and is refused.
    let out = rules(
        r#"
        fresh; printf '0 1000 1\n1 2000 1\n' >uid_map; cat uid_map
        fresh; printf '0 1000 1\n' | dd of=uid_map bs=1 seek=1 conv=notrunc status=none
        wc -l <uid_map
        "#,
    );
    assert_eq!(lines(&stdout(&out)), ["0 1000 1", "0"]);
    let err = stderr(&out);
    assert!(
        err.contains("printf: write error: Invalid argument"),
        "{err}"
    );
    assert!(
        err.contains("dd: error writing 'uid_map': Invalid argument"),
        "{err}"
    );
}

#[test]
fn only_the_namespace_or_its_parent_may_write_its_map() {
    if !have_root("only_the_namespace_or_its_parent_may_write_its_map") {
        return;
    }
    let out = rules(
        r#"
        fresh
        unshare --user --map-root-user bash -c "echo '0 1000 1' >uid_map"
        echo "sibling: $?"; wc -l <uid_map
        map '0 1000 1' && echo "parent: $?"
        "#,
    );
    assert_eq!(lines(&stdout(&out)), ["sibling: 1", "0", "parent: 0"]);
    assert!(
        stderr(&out).contains("echo: write error: Operation not permitted"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn mapping_uid_0_outside_needs_cap_setfcap() {
    if !have_root("mapping_uid_0_outside_needs_cap_setfcap") {
        return;
    }
    let out = rules(
        r#"
        setpriv --bounding-set -setfcap unshare --user --map-user=1 id -u
        echo "1 0 1 without CAP_SETFCAP: $?"
        unshare --user --map-user=1 id -u
        setpriv --bounding-set -setfcap "$CH05" --map-root -- id -u
        echo "ch05-user without CAP_SETFCAP: $?"
        "#,
    );
    assert_eq!(
        lines(&stdout(&out)),
        [
            "1 0 1 without CAP_SETFCAP: 1",
            "1",
            "ch05-user without CAP_SETFCAP: 125"
        ]
    );
    let err = stderr(&out);
    assert!(
        err.contains(
            "unshare: write failed /proc/self/uid_map: Operation not permitted"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "ch05-user: --map-root: cannot write /proc/self/uid_map: EPERM"
        ),
        "{err}"
    );
    assert!(
        err.contains("hint: mapping uid 0 outside needs CAP_SETFCAP"),
        "{err}"
    );
}

#[test]
fn a_map_is_read_relative_to_the_reader() {
    if !have_root("a_map_is_read_relative_to_the_reader") {
        return;
    }
    let out = rules(
        r#"
        cat /proc/self/uid_map
        fresh; map '0 1000 1' '1 100000 65536'
        cat uid_map
        unshare --user --map-root-user cat uid_map
        "#,
    );
    assert_eq!(
        lines(&stdout(&out)),
        [
            "0 0 4294967295",
            "0 1000 1",
            "1 100000 65536",
            "0 4294967295 1",
            "1 4294967295 65536",
        ]
    );
}

#[test]
fn set_id_calls_fail_until_a_map_exists() {
    if !have_root("set_id_calls_fail_until_a_map_exists") {
        return;
    }
    // Even to 65534, the UID `id` shows: it is only how an unmapped id
    // is displayed.
    let out = chapter("ch05-user", &["--", "setpriv", "--reuid=65534", "true"])
        .assert()
        .failure();
    let err = stderr(out.get_output());
    assert!(err.contains("setresuid failed: Invalid argument"), "{err}");
    let out = chapter(
        "ch05-user",
        &["--map-root", "--", "setpriv", "--reuid=0", "id", "-u"],
    )
    .assert()
    .success();
    assert_eq!(stdout(out.get_output()), "0\n");
}

/// A stand-in for a systemd host (a mount namespace of its own, its
/// tree shared) with a read-only, nosuid, nodev, noexec tmpfs on /mnt,
/// then `script`
/// in `ch05-user --map-root --propagation unchanged`.
fn in_stand_in(script: &str) -> Output {
    let stand_in = format!(
        "mount --make-rshared / && \
         mount -t tmpfs -o ro,nosuid,nodev,noexec,size=1m guarded /mnt && \
         \"$CH05\" --map-root --propagation unchanged -- sh -c '{script}'"
    );
    std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &stand_in])
        .env("CH05", bin("ch05-user"))
        .output()
        .expect("cannot run unshare")
}

#[test]
fn inherited_mounts_are_locked_and_shared_ones_arrive_as_slaves() {
    if !have_root(
        "inherited_mounts_are_locked_and_shared_ones_arrive_as_slaves",
    ) {
        return;
    }
    let out = in_stand_in(
        "findmnt -n -o PROPAGATION /; \
         umount /mnt; echo umount $?; \
         mount -o remount,rw /mnt; echo rw $?; \
         mount -o remount,bind,suid /mnt; echo suid $?; \
         mount -o remount,bind,dev /mnt; echo dev $?; \
         mount -o remount,bind,exec /mnt; echo exec $?; \
         mount -t tmpfs over /mnt && echo stacked; \
         findmnt -n -o SOURCE,OPTIONS /mnt",
    );
    assert_eq!(
        lines(&stdout(&out)),
        [
            "private,slave",
            "umount 32",
            "rw 32",
            "suid 32",
            "dev 32",
            "exec 32",
            "stacked",
            "guarded ro,nosuid,nodev,noexec,relatime,size=1024k",
            "over rw,relatime",
        ],
        "{}",
        stderr(&out)
    );
    let err = stderr(&out);
    // util-linux reports EINVAL from umount2(2) as "not mounted".
    assert!(err.contains("umount: /mnt: not mounted"), "{err}");
    assert_eq!(err.matches("mount: /mnt: permission denied").count(), 4);
}

#[test]
fn a_user_namespace_mounts_only_what_it_owns() {
    if !have_root("a_user_namespace_mounts_only_what_it_owns") {
        return;
    }
    let out = in_stand_in(
        "mount -t tmpfs over /mnt && cd /mnt && mkdir p t q d s c && \
         for fs in proc:p tmpfs:t mqueue:q sysfs:s cgroup2:c; do \
         mount -t ${fs%:*} none ${fs#*:} 2>/dev/null; echo ${fs%:*} $?; done; \
         mount -t devpts -o newinstance none d; echo devpts $?",
    );
    assert_eq!(
        lines(&stdout(&out)),
        [
            "proc 0",
            "tmpfs 0",
            "mqueue 0",
            "sysfs 32",
            "cgroup2 32",
            "devpts 0"
        ],
        "{}",
        stderr(&out)
    );
}
