//! `ch07-inspect idmap`: an idmapped bind mount (mount_setattr with
//! MOUNT_ATTR_IDMAP, Linux 5.12), in a scratch mount namespace. The
//! copy shows the owners through the user namespace's map, and stores
//! what is created through it with the owner mapped back; the initial
//! user namespace's map is refused (EPERM).

mod common;

use common::{assert_one_line_error, inspect};
use nslab_testkit::{TIMEOUT, bin, have_root, stdout};

#[test]
fn an_idmapped_mount_shows_and_stores_through_the_map() {
    if !have_root("an_idmapped_mount_shows_and_stores_through_the_map") {
        return;
    }
    let script = r#"
        mount -t tmpfs none /mnt && mkdir /mnt/src /mnt/dst || exit 1
        touch /mnt/src/file
        PID=$(unshare --user sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!')
        trap 'kill $PID' EXIT
        echo '0 1000 1' >/proc/$PID/uid_map
        echo '0 1000 1' >/proc/$PID/gid_map
        "$0" idmap /proc/$PID/ns/user /mnt/src /mnt/dst || exit 1
        setpriv --reuid 1000 --regid 1000 --clear-groups touch /mnt/dst/new
        stat -c '%u:%g %n' /mnt/src/file /mnt/dst/file /mnt/src/new
        touch /mnt/dst/by-root 2>/dev/null || echo "root: refused"
    "#;
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(bin("ch07-inspect"))
        .timeout(TIMEOUT)
        .assert()
        .success();
    assert_eq!(
        stdout(out.get_output()),
        "0:0 /mnt/src/file\n1000:1000 /mnt/dst/file\n0:0 /mnt/src/new\n\
         root: refused\n"
    );
}

#[test]
fn the_initial_user_namespace_is_refused() {
    if !have_root("the_initial_user_namespace_is_refused") {
        return;
    }
    // Nothing is attached: /proc/self/ns/user is the host's, refused
    // before move_mount, so DST can be any directory.
    let out = inspect(&["idmap", "/proc/self/ns/user", "/tmp", "/tmp"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        "cannot give the copy an id map (mount_setattr): EPERM",
        "a map other than the initial user namespace's",
    );
}

#[test]
fn idmap_needs_three_arguments_and_a_user_namespace_file() {
    let out = inspect(&["idmap", "/proc/self/ns/user", "/tmp"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "idmap needs USERNS, SRC and DST", "usage:");
    let out = inspect(&["idmap", "/nslab-none", "/tmp", "/tmp"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "cannot open /nslab-none", "/proc/PID/ns/user");
}
