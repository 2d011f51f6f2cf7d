//! ch05-user.md's rule for sysfs, from the other side: a user namespace
//! may mount sysfs only for a network namespace that it owns, which
//! ch06-net has (ch05-user, without one, is refused: ch05-user's
//! `tests/rules.rs`). What it shows is the new namespace's: only `lo`.

use nslab_testkit::{chapter, have_root, stdout};

#[test]
fn root_inside_mounts_the_sysfs_of_its_own_network_namespace() {
    if !have_root("root_inside_mounts_the_sysfs_of_its_own_network_namespace") {
        return;
    }
    // /mnt is the host's (locked): a tmpfs on top holds the mount point.
    let script = "mount -t tmpfs over /mnt && mkdir /mnt/sys && \
                  mount -t sysfs sys /mnt/sys && ls /mnt/sys/class/net";
    let out = chapter("ch06-net", &["--map-root", "--", "sh", "-c", script])
        .assert()
        .success();
    assert_eq!(stdout(out.get_output()), "lo\n");
}
