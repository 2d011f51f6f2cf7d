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
    assert_eq!(
        stdout(out.get_output()),
        "nslab-test\n",
        "`hostname nslab-test && hostname` inside ch01-uts did not print \
         nslab-test"
    );
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

/// Runs `line` with sh, `$TOOL` naming this chapter's binary.
fn sh(line: &str) -> std::process::Output {
    nslab_testkit::assert_cmd::Command::new("sh")
        .args(["-c", line])
        .env("TOOL", nslab_testkit::bin("ch01-uts"))
        .timeout(nslab_testkit::TIMEOUT)
        .output()
        .unwrap()
}

#[test]
fn a_dead_pid_namespace_for_children_is_named_in_the_hint() {
    if !have_root("a_dead_pid_namespace_for_children") {
        return;
    }
    // unshare -p without --fork: our children go to a new PID namespace,
    // whose first process (/bin/true) is its init; once it has exited, no
    // process can be born there (clone gives ENOMEM).
    let out = sh("exec unshare --pid sh -c '/bin/true; exec \"$TOOL\" true'");
    let err = nslab_testkit::stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(err.contains("ENOMEM"), "{err}");
    assert!(
        err.contains("\nhint: the PID namespace our children"),
        "{err}"
    );
}

#[test]
fn a_limit_reached_above_a_nested_user_namespace_is_explained() {
    if !have_root("a_limit_reached_above_a_nested_user_namespace") {
        return;
    }
    // The limit is 0 one user namespace up; ours has the default. A
    // process can read only its own namespace's limits, so the hint must
    // say that the ones above count too.
    let out = sh("exec unshare --user --map-root-user sh -c \
         'echo 0 > /proc/sys/user/max_uts_namespaces && \
          exec unshare --user --map-root-user \"$TOOL\" true'");
    let err = nslab_testkit::stderr(&out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(err.contains("ENOSPC"), "{err}");
    assert!(
        err.contains("user.max_uts_namespaces = 2147483647"),
        "{err}"
    );
    assert!(err.contains("nested user namespace"), "{err}");
}

nslab_testkit::root_test!(
    the_prompt_never_runs_what_the_environment_says,
    nslab_testkit::terminal::the_prompt_never_runs_what_the_environment_says(
        "ch01-uts"
    )
);
nslab_testkit::root_test!(
    posix_mode_bash_names_the_tool_and_leaks_nothing,
    nslab_testkit::terminal::posix_mode_bash_names_the_tool_and_leaks_nothing(
        "ch01-uts"
    )
);
nslab_testkit::root_test!(
    a_caller_holding_fds_3_to_9_gets_the_named_prompt,
    nslab_testkit::terminal::a_caller_holding_fds_3_to_9_gets_the_named_prompt(
        "ch01-uts"
    )
);
