//! What ch01-uts promises: a hostname of its own, the host's unchanged.

use nslab_testkit::{HostSnapshot, chapter, have_root, host_lock, stdout};

nslab_testkit::contract_tests!(
    "ch01-uts",
    new: &["uts"],
    limit: "max_uts_namespaces",
    pid_namespace: false,
    needs_root: true,
);

#[test]
fn hostname_inside_is_its_own_and_the_hosts_is_unchanged() {
    if !have_root("hostname_inside_is_its_own") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let host_name =
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = chapter(
        "ch01-uts",
        &["--", "sh", "-c", "hostname nslab-test && hostname"],
    )
    .assert()
    .success();
    assert_eq!(stdout(out.get_output()), "nslab-test\n");
    assert_ne!(host_name.trim(), "nslab-test");
    before.assert_unchanged();
}

#[test]
fn starts_with_the_hosts_hostname() {
    if !have_root("starts_with_the_hosts_hostname") {
        return;
    }
    // A new UTS namespace is a copy: same name until it is changed.
    let host_name =
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = chapter("ch01-uts", &["--", "hostname"]).assert().success();
    assert_eq!(stdout(out.get_output()), host_name);
}
