//! Help and error paths: what a learner sees when something is wrong.

mod common;

use common::{inspect, inspect_ok};
use nslab_testkit::{as_nobody, bin, have_root, stderr};

const COMMANDS: [&str; 10] = [
    "ns", "diff", "list", "tree", "limits", "enter", "unshare", "keep",
    "release", "cost",
];

/// A PID that cannot exist (above any pid_max).
const NO_PID: &str = "2147483647";

/// Asserts a one-line error with a hint, exit status 125.
fn assert_error(args: &[&str], message: &str, hint: &str) {
    let out = inspect(args).output().unwrap();
    common::assert_one_line_error(&out, message, hint);
    assert!(out.stdout.is_empty(), "{args:?}");
}

#[test]
fn help_names_every_command_and_what_to_try() {
    let text = inspect_ok(&["--help"]);
    for command in COMMANDS {
        assert!(text.contains(&format!("\n  {command} ")), "{command}");
    }
    assert!(text.contains("Try:"), "{text}");
    assert_eq!(inspect_ok(&[]), text, "no arguments shows the help");
}

#[test]
fn every_command_has_its_own_help() {
    for command in COMMANDS {
        let text = inspect_ok(&[command, "--help"]);
        assert!(
            text.starts_with(&format!("ch07-inspect {command}: ")),
            "{text}"
        );
        assert!(text.contains("Usage: ch07-inspect "), "{text}");
        assert!(text.contains("Try"), "{command} --help says what to try");
        assert_eq!(inspect_ok(&["help", command]), text);
    }
}

#[test]
fn unknown_command_and_option_are_one_line_errors() {
    assert_error(&["frobnicate"], "unknown command 'frobnicate'", "--help");
    assert_error(&["--frobnicate"], "unknown option '--frobnicate'", "--help");
    assert_error(&["ns", "--frob"], "unknown option '--frob'", "usage:");
    assert_error(&["diff", "1"], "diff needs two PIDs", "usage:");
    assert_error(&["ns", "abc"], "'abc' is not a PID", "positive number");
    assert_error(&["cost", "0"], "'0' is not a count", "usage:");
}

#[test]
fn unknown_type_names_the_types() {
    let types = "cgroup, ipc, mnt, net, pid, time, user, uts";
    assert_error(&["list", "foo"], "unknown namespace type 'foo'", types);
    let me = std::process::id().to_string();
    assert_error(
        &["keep", &me, "foo", "/tmp/x"],
        "unknown namespace type 'foo'",
        types,
    );
    assert_error(&["unshare", "foo"], "unknown namespace type 'foo'", "--");
    assert_error(
        &["unshare", "--boottime", "5", "pid"],
        "--boottime and --monotonic need the time type",
        "usage:",
    );
}

#[test]
fn no_such_pid_is_an_error_with_a_hint() {
    let me = std::process::id().to_string();
    for args in [
        vec!["ns", NO_PID],
        vec!["diff", &me, NO_PID],
        vec!["enter", NO_PID, "true"],
        vec!["keep", NO_PID, "uts", "/tmp/nslab-never"],
    ] {
        assert_error(&args, "no process with PID 2147483647", "ps -e");
    }
    assert!(!std::path::Path::new("/tmp/nslab-never").exists());
}

#[test]
fn permission_denied_is_an_error_with_a_hint() {
    if !have_root("permission_denied_is_an_error_with_a_hint") {
        return;
    }
    // nobody may not look into PID 1's namespaces (ptrace access mode).
    let (mut command, _copy) = as_nobody("ch07-inspect", &["ns", "1"]);
    let out = command.assert().code(125);
    let err = stderr(out.get_output());
    assert!(
        err.starts_with(
            "ch07-inspect: cannot read /proc/1/ns/cgroup: \
                         permission denied (EACCES)\nhint: "
        ),
        "{err}"
    );
    assert!(err.contains("root"), "{err}");
}

#[test]
fn keep_refuses_a_path_that_exists() {
    let me = std::process::id().to_string();
    let before = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert_error(
        &["keep", &me, "uts", "/etc/passwd"],
        "/etc/passwd exists",
        "new path",
    );
    let after = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert_eq!(before, after, "keep mounted something");
}

#[test]
fn release_refuses_what_keep_did_not_make() {
    assert_error(
        &["release", "/etc/passwd"],
        "/etc/passwd is not a kept namespace",
        "nsfs",
    );
    assert_error(
        &["release", "/nslab-no-such-file"],
        "cannot release",
        "list",
    );
}

#[test]
fn enter_refuses_a_file_that_is_not_a_namespace() {
    assert_error(
        &["enter", "/etc/passwd", "true"],
        "/etc/passwd is not a namespace file (a regular file)",
        "keep",
    );
}

#[test]
fn tree_and_enter_refuse_a_fifo_a_device_and_a_file_without_opening_them() {
    // open(2) for reading would block on the FIFO forever (until the
    // harness's timeout) and open the device for real.
    let dir = common::ScratchDir::new();
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for (path, what) in [
        (fifo.as_str(), "a FIFO"),
        ("/dev/null", "a character device"),
        ("/etc/passwd", "a regular file"),
    ] {
        let message = format!("{path} is not a namespace file ({what})");
        assert_error(&["tree", path], &message, "keep");
        assert_error(&["enter", path, "true"], &message, "keep");
        assert_error(&["enter", "--", path, "true"], &message, "keep");
    }
}

#[test]
fn tree_explains_einval_and_eperm() {
    let text = inspect_ok(&["tree", "/proc/self/ns/uts"]);
    assert_eq!(common::line_starting(&text, "NS_GET_NSTYPE")[1], "uts");
    let parent = common::line_starting(&text, "NS_GET_PARENT");
    assert_eq!(parent[1], "EINVAL:", "{text}");
    assert!(text.contains("only pid and user namespaces nest"), "{text}");

    // Our own user namespace is the top of our scope: its parent and its
    // owner are out of reach (EPERM).
    let text = inspect_ok(&["tree", "/proc/self/ns/user"]);
    assert_eq!(common::line_starting(&text, "NS_GET_PARENT")[1], "EPERM:");
    assert_eq!(common::line_starting(&text, "NS_GET_USERNS")[1], "EPERM:");
    assert!(
        text.contains("the top: NS_GET_PARENT gives EPERM"),
        "{text}"
    );
}

#[test]
fn list_through_a_closed_pipe_ends_quietly() {
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("{} list | head -1", bin("ch07-inspect").display()),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// The hint to run as root gives the command to type, with the full
/// path: typed by name, found through `PATH`, sudo would not find it
/// (its `secure_path`).
#[test]
fn the_hint_to_run_as_root_gives_the_full_command() {
    if !nslab_testkit::have_root(
        "the_hint_to_run_as_root_gives_the_full_command",
    ) {
        return;
    }
    let (mut command, copy) =
        nslab_testkit::as_nobody_through_path("ch07-inspect", &["ns", "1"]);
    let out = command.current_dir("/").assert().code(125);
    let err = nslab_testkit::stderr(out.get_output());
    let want = format!("run as root, `sudo {} ns 1`", copy.path.display());
    assert!(err.contains(&want), "{err}");
}
