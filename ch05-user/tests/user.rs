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

/// Runs ch05-user with `args` as root and as nobody (without root: as
/// the caller, whoever that is): for each, the uid (and gid) outside and
/// the output, after checking it succeeded.
fn as_root_and_as_nobody(args: &[&str]) -> Vec<(u32, Output)> {
    let succeeded = |mut command: nslab_testkit::assert_cmd::Command,
                     outside: u32| {
        let out = command.output().expect("cannot run ch05-user");
        let without_root = outside != 0
            && stderr(&out).contains("cannot create namespaces (clone): EPERM");
        let cause = if without_root {
            " (without root, clone(2) makes the other namespaces only \
             together with a new user namespace: is CLONE_NEWUSER in \
             NAMESPACES?)"
        } else if args.contains(&"--map-root") {
            " (--map-root: does the child itself deny setgroups, then write \
             its gid_map and uid_map?)"
        } else {
            ""
        };
        assert!(
            out.status.success(),
            "`ch05-user {}` as uid {outside} exited with {:?}{cause}: {}",
            args.join(" "),
            out.status.code(),
            stderr(&out)
        );
        (outside, out)
    };
    if !nslab_testkit::is_root() {
        // SAFETY: geteuid(2) cannot fail and touches no memory.
        let me = unsafe { nslab_testkit::libc::geteuid() };
        return vec![succeeded(chapter("ch05-user", args), me)];
    }
    let (command, _copy) = as_nobody("ch05-user", args);
    vec![
        succeeded(chapter("ch05-user", args), 0),
        succeeded(command, NOBODY),
    ]
}

#[test]
fn id_is_the_overflow_user_with_or_without_root() {
    // Runs without root too: as the caller only.
    let (uid, gid) = overflow_ids();
    for (outside, out) in
        as_root_and_as_nobody(&["--", "sh", "-c", "id -u; id -g"])
    {
        assert_eq!(
            stdout(&out),
            format!("{uid}\n{gid}\n"),
            "`id -u; id -g` inside ch05-user as uid {outside} printed {:?}, \
             not the overflow ids {uid} and {gid}: is CLONE_NEWUSER in \
             NAMESPACES?",
            stdout(&out).lines().collect::<Vec<_>>()
        );
    }
}

/// The welcome line is printed before the options take effect, so it
/// must be true with and without `--map-root`: it names what `id` shows
/// in both cases, and does not tell you to start with an option that
/// you gave.
#[test]
fn the_welcome_line_is_true_with_and_without_map_root() {
    if !have_root("the_welcome_line_is_true_with_and_without_map_root") {
        return;
    }
    for (args, user) in [(&[][..], "nobody"), (&["--map-root"][..], "root")] {
        // No COMMAND: the shell reads `id -un` from stdin.
        let out = chapter("ch05-user", args)
            .write_stdin("id -un\n")
            .assert()
            .success();
        assert_eq!(stdout(out.get_output()), format!("{user}\n"));
        let err = stderr(out.get_output());
        let welcome = err
            .lines()
            .find(|line| line.contains("try `id`"))
            .unwrap_or_else(|| panic!("no welcome line: {err}"));
        assert!(welcome.contains("(nobody; with --map-root, root)"), "{err}");
        assert!(!welcome.contains("start with"), "{err}");
    }
}

#[test]
fn map_root_is_root_inside_and_maps_only_our_own_ids() {
    // Runs without root too: as the caller only.
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
        assert_eq!(
            lines[4], "deny",
            "/proc/self/setgroups inside ch05-user --map-root is not `deny`: \
             {text}"
        );
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
    // With an empty /proc the child cannot write its maps: it must stop
    // before it runs the command, and say why.
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
    assert!(
        err.starts_with(
            "ch05-user: --map-root: cannot write /proc/self/setgroups: ENOENT"
        ),
        "{err}"
    );
    assert!(err.contains("\nhint: /proc has no entry for this process"));
    assert!(nslab_testkit::processes_with(&marker).is_empty());
}

/// Runs `line` with sh, `$DIR` naming the directory of the binaries.
fn sh(line: &str) -> Output {
    let dir = nslab_testkit::bin("ch05-user");
    nslab_testkit::assert_cmd::Command::new("sh")
        .args(["-c", line])
        .env("DIR", dir.parent().unwrap())
        .timeout(nslab_testkit::TIMEOUT)
        .output()
        .unwrap()
}

#[test]
fn map_root_works_nested_in_another_pid_namespace() {
    if !have_root("map_root_works_nested_in_another_pid_namespace") {
        return;
    }
    // Inside ch04-mount without a new /proc, /proc is the host's: there
    // the child's PID as ch04 numbers it names another process. The maps
    // must be our own child's all the same.
    let out = sh("exec \"$DIR/ch04-mount\" \"$DIR/ch05-user\" --map-root \
                  sh -c 'id -u; cat /proc/self/uid_map'");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "0", "{text}");
    let map: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(map, ["0", "0", "1"], "{text}");
}

#[test]
fn map_root_touches_no_stranger_under_a_foreign_proc() {
    if !have_root("map_root_touches_no_stranger_under_a_foreign_proc") {
        return;
    }
    // A stranger's fresh user namespace, and our tool in a nested PID
    // namespace under a /proc that is not its own: only our command may
    // get a map, and the stranger's stays empty.
    let out = sh("exec unshare --pid --fork --mount-proc sh -c '\
           unshare --user sh -c \"echo > /dev/null; exec sleep 30\" & \
           stranger=$!; \
           \"$DIR/ch03-pid\" \"$DIR/ch05-user\" --map-root id -u; \
           echo status=$?; \
           cat /proc/$stranger/uid_map | wc -l; kill $stranger'");
    let text = stdout(&out);
    assert_eq!(text, "0\nstatus=0\n0\n", "{}", stderr(&out));
}

#[test]
fn map_root_under_a_proc_without_us_refuses_with_the_cause() {
    if !have_root("map_root_under_a_proc_without_us") {
        return;
    }
    // In a mount namespace whose /proc belongs to a sibling PID namespace,
    // /proc/self does not exist: the tool must say so and stop.
    let marker = nslab_testkit::unique_number();
    let out = sh(&format!(
        "unshare --pid --fork --kill-child --mount --mount-proc sleep 30 & \
         holder=$!; \
         while [ \"$(readlink /proc/$holder/ns/mnt)\" = \
                 \"$(readlink /proc/self/ns/mnt)\" ]; do sleep 0.01; done; \
         nsenter --target $holder --mount \"$DIR/ch05-user\" --map-root \
           sleep 100 {marker}; \
         echo status=$?; kill -KILL $holder"
    ));
    let err = stderr(&out);
    assert!(stdout(&out).contains("status=125"), "{err}");
    assert!(
        err.contains("cannot write /proc/self/setgroups: ENOENT"),
        "{err}"
    );
    assert!(err.contains("hint: /proc has no entry for this process"));
    assert!(nslab_testkit::processes_with(&marker).is_empty());
}

#[test]
fn a_nested_unmapped_user_gets_the_mapping_hint() {
    if !have_root("a_nested_unmapped_user_gets_the_mapping_hint") {
        return;
    }
    let out = sh("exec \"$DIR/ch05-user\" \"$DIR/ch05-user\" true");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(err.contains("EPERM"), "{err}");
    assert!(err.contains("hint: our uid has no mapping"), "{err}");
    // AppArmor is named only where its setting exists and is 1.
    let apparmor = std::fs::read_to_string(
        "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
    );
    if apparmor.map(|v| v.trim() != "1").unwrap_or(true) {
        assert!(!err.contains("AppArmor"), "{err}");
    }
}

/// The page's way to run the chapter on a root-only machine: a shell as
/// nobody, made by `setpriv`, runs a copy that every user may reach,
/// but not a binary in a directory open to root alone (a checkout under
/// `/root`).
#[test]
fn a_shell_as_nobody_runs_a_reachable_copy_and_not_one_under_root() {
    use std::os::unix::fs::PermissionsExt;
    if !have_root("a_shell_as_nobody_runs_a_reachable_copy") {
        return;
    }
    let copy = nslab_testkit::BinaryCopy::new("ch05-user");
    let open = copy.path.parent().unwrap().display().to_string();
    let closed = SharedDir::new();
    let closed_dir = closed.path.join("root");
    std::fs::create_dir(&closed_dir).unwrap();
    std::fs::set_permissions(
        &closed_dir,
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    // A link, not a copy: no file open for writing (see BinaryCopy).
    std::fs::hard_link(&copy.path, closed_dir.join("ch05-user")).unwrap();
    let script = format!(
        "ch05-user -- id -un; ch05-user --map-root -- id -un; \
         {}/ch05-user -- true",
        closed_dir.display()
    );
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .args(["env", "HOME=/tmp", &format!("PATH={open}:/usr/bin:/bin")])
        .args(["bash", "--norc", "-c", &script])
        .current_dir("/tmp")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(stdout(&out), "nobody\nroot\n", "{err}");
    assert_eq!(out.status.code(), Some(126), "{err}");
    assert!(err.contains("ch05-user: Permission denied"), "{err}");
}

nslab_testkit::root_test!(
    map_root_maps_the_effective_ids,
    nslab_testkit::failures::map_root_maps_the_effective_ids("ch05-user")
);

nslab_testkit::root_test!(
    an_undumpable_tool_says_why_it_cannot_write_its_maps,
    nslab_testkit::failures::an_undumpable_tool_says_why_it_cannot_write_its_maps(
        "ch05-user",
        &["--map-root", "--", "true"]
    )
);
