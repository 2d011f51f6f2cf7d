//! What ch05-user promises: nobody inside, with or without root outside;
//! `--map-root` makes root inside out of your own ids and nothing more.

use std::os::unix::fs::MetadataExt;
use std::process::Output;

use nslab_testkit::{
    NOBODY, SharedDir, as_nobody, chapter, have_root, overflow_ids, stderr,
    stdout,
};

nslab_testkit::contract_tests!(
    "ch05-user",
    new: &["uts", "ipc", "pid", "mnt", "user"],
    limit: "max_user_namespaces",
    pid_namespace: true,
    needs_root: false,
);

/// Runs ch05-user with `args` as root and as nobody: for each, the uid
/// (and gid) outside and the output, after checking it succeeded.
fn as_root_and_as_nobody(args: &[&str]) -> Vec<(u32, Output)> {
    let as_root = chapter("ch05-user", args).assert().success();
    let (mut command, _copy) = as_nobody("ch05-user", args);
    let unprivileged = command.assert().success();
    vec![
        (0, as_root.get_output().clone()),
        (NOBODY, unprivileged.get_output().clone()),
    ]
}

#[test]
fn id_is_the_overflow_user_with_or_without_root() {
    if !have_root("id_is_the_overflow_user") {
        return;
    }
    let (uid, gid) = overflow_ids();
    for (outside, out) in
        as_root_and_as_nobody(&["--", "sh", "-c", "id -u; id -g"])
    {
        assert_eq!(stdout(&out), format!("{uid}\n{gid}\n"), "as {outside}");
    }
}

#[test]
fn map_root_is_root_inside_and_maps_only_our_own_ids() {
    if !have_root("map_root_is_root_inside") {
        return;
    }
    let script = "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; \
                  cat /proc/self/setgroups";
    for (outside, out) in
        as_root_and_as_nobody(&["--map-root", "--", "sh", "-c", script])
    {
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "one line per map: {text}");
        assert_eq!(lines[..2], ["0", "0"], "root inside: {text}");
        for map in &lines[2..4] {
            let fields: Vec<&str> = map.split_whitespace().collect();
            assert_eq!(fields, ["0", &outside.to_string(), "1"], "{text}");
        }
        assert_eq!(lines[4], "deny", "{text}");
    }
}

#[test]
fn map_root_can_set_the_hostname_and_mount_proc() {
    if !have_root("map_root_can_set_the_hostname_and_mount_proc") {
        return;
    }
    let script = "grep CapEff /proc/self/status; \
                  hostname nslab-mapped && hostname && \
                  mount -t proc proc /proc && ps -e -o pid=,comm=";
    for (outside, out) in
        as_root_and_as_nobody(&["--map-root", "--", "sh", "-c", script])
    {
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_ne!(lines[0], "CapEff:\t0000000000000000", "as {outside}");
        assert_eq!(lines[1], "nslab-mapped", "as {outside}: {text}");
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>(),
            ["1", "sh"]
        );
        assert_eq!(lines.len(), 4, "only sh and ps: {text}");
    }
}

#[test]
fn without_map_root_hostname_and_mount_fail() {
    if !have_root("without_map_root_hostname_and_mount_fail") {
        return;
    }
    // execve(2) drops the capabilities of a uid with no mapping: nobody
    // has none left, so the kernel refuses both (EPERM).
    let script = "grep CapEff /proc/self/status; \
                  hostname nslab-denied; echo hostname=$?; \
                  mount -t proc proc /proc; echo mount=$?; hostname";
    let host_name =
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for (outside, out) in as_root_and_as_nobody(&["--", "sh", "-c", script]) {
        let text = stdout(&out);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "CapEff:\t0000000000000000", "as {outside}");
        assert_ne!(lines[1], "hostname=0", "{text}");
        assert_ne!(lines[2], "mount=0", "{text}");
        assert_eq!(lines[3], host_name.trim(), "hostname unchanged: {text}");
        let err = stderr(&out);
        assert!(
            err.contains("must be root"),
            "EPERM from sethostname: {err}"
        );
    }
}

#[test]
fn files_made_by_mapped_root_belong_to_the_invoking_user() {
    if !have_root("files_made_by_mapped_root_belong_to_the_invoking_user") {
        return;
    }
    let shared = SharedDir::new();
    for (index, (outside, out)) in as_root_and_as_nobody(&[
        "--map-root",
        "--",
        "sh",
        "-c",
        &format!(
            "for f in a b; do [ -e {0}/$f ] || {{ touch {0}/$f; \
             stat -c %u {0}/$f; break; }}; done",
            shared.path.display()
        ),
    ])
    .into_iter()
    .enumerate()
    {
        assert_eq!(stdout(&out), "0\n", "root inside");
        let file = shared.path.join(["a", "b"][index]);
        assert_eq!(std::fs::metadata(file).unwrap().uid(), outside);
    }
}

#[test]
fn failing_to_write_the_maps_stops_the_command() {
    if !have_root("failing_to_write_the_maps_stops_the_command") {
        return;
    }
    // With an empty /proc the parent cannot write the child's maps: the
    // child must be killed before it runs the command.
    let marker = nslab_testkit::unique_number();
    let line = format!(
        "mount -t tmpfs nslab-empty /proc && \
         exec {} --map-root -- sleep 100 {marker}",
        nslab_testkit::bin("ch05-user").display()
    );
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "sh", "-c", &line])
        .timeout(nslab_testkit::TIMEOUT)
        .assert()
        .code(125);
    let err = stderr(out.get_output());
    assert!(err.starts_with("ch05-user: cannot write /proc/"), "{err}");
    assert!(err.contains("/setgroups: ENOENT"), "{err}");
    assert!(nslab_testkit::processes_with(&marker).is_empty());
}
