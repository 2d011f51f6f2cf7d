//! A run without root must not read as a full pass: a test process
//! whose root-only tests returned early says, after the harness's
//! `test result:` line (which counts them as passed), how many did not
//! run and why, and how many in the whole run so far.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use nslab_testkit::{have_root, is_root, staging, stderr, stdout, unique};

/// Needs root: creates a UTS namespace (one of the two tests that the
/// test below runs without root).
#[test]
fn creating_a_uts_namespace_needs_root() {
    if !have_root("creating_a_uts_namespace_needs_root") {
        return;
    }
    let status = Command::new("unshare").args(["--uts", "true"]).status();
    assert!(status.unwrap().success());
}

/// Needs root: creates an IPC namespace.
#[test]
fn creating_an_ipc_namespace_needs_root() {
    if !have_root("creating_an_ipc_namespace_needs_root") {
        return;
    }
    let status = Command::new("unshare").args(["--ipc", "true"]).status();
    assert!(status.unwrap().success());
}

#[test]
fn a_run_without_root_says_how_many_tests_did_not_run() {
    // This test binary, where nobody can run it.
    let base = staging::reachable_base(&std::env::temp_dir());
    let dir = base.join(unique("nslab-skipped-test"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .unwrap();
    let copy = dir.join("skipped");
    staging::stage(&std::env::current_exe().unwrap(), &copy);
    // Two runs from one parent, as cargo runs the test binaries of one
    // `cargo test`: the first skips two tests, the second one more.
    let line = r#""$0" --exact creating_a_uts_namespace_needs_root creating_an_ipc_namespace_needs_root 2>&1
echo END-OF-FIRST-RUN
"$0" --exact creating_a_uts_namespace_needs_root 2>&1"#;
    let mut command = if is_root() {
        let mut command = Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        command.arg("sh");
        command
    } else {
        Command::new("sh")
    };
    let child = command
        .args(["-c", line])
        .arg(&copy)
        .env_remove("NSLAB_REQUIRE_ROOT")
        .current_dir("/")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // setpriv execs sh: the two runs' parent has the child's PID.
    let parent = child.id();
    let out = child.wait_with_output().unwrap();
    // The runs' tally, which their parent, gone now, leaves behind.
    let uid = if is_root() { 65534 } else { own_uid() };
    let tally = format!("nslab-skipped-{uid}-{parent}-");
    for entry in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&tally) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    let (first, second) = text
        .split_once("END-OF-FIRST-RUN\n")
        .unwrap_or_else(|| panic!("{text}"));
    for (run, here, total) in [(first, 2, 2), (second, 1, 3)] {
        // The harness counts the skipped tests as passed ...
        let summary = format!("test result: ok. {here} passed; 0 failed;");
        let at = run.find(&summary).unwrap_or_else(|| panic!("{run}"));
        // ... and right after it, the report says they did not run.
        let report = format!(
            "\nnslab: NOT A FULL PASS: {here} of the tests counted as passed \
             above did not run: they need root (creating namespaces), and \
             this run is not root ({total} in this run so far).\n\
             nslab: run every test as root: `cargo sudo-test --workspace` \
             (it builds as you), or `cargo test --workspace` in a root \
             shell.\n"
        );
        assert!(
            run[at..].contains(&report),
            "no {report:?} after the summary in:\n{run}"
        );
    }
}

/// Our own uid, from `/proc/self/status` (no unsafe call needed).
fn own_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next())
        .and_then(|uid| uid.parse().ok())
        .expect("no Uid line in /proc/self/status")
}
