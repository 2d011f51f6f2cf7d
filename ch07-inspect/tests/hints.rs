//! Each refusal gets the hint that names its cause: joining a PID
//! namespace above ours, opening another user namespace's files, an
//! owner out of our scope, too many open files.

mod common;

use std::path::Path;

use common::{Background, ScratchDir, assert_one_line_error};
use nslab_testkit::{bin, have_root, stdout};

fn run(program: &str, args: &[&str]) -> std::process::Output {
    nslab_testkit::assert_cmd::Command::new(program)
        .args(args)
        .timeout(nslab_testkit::TIMEOUT)
        .output()
        .expect("cannot run the command")
}

#[test]
fn joining_a_pid_namespace_above_ours_says_why_it_cannot() {
    if !have_root("joining_a_pid_namespace_above_ours_says_why_it_cannot") {
        return;
    }
    // Inside ch03-pid, the test's own PID namespace is the parent.
    let ours = format!("/proc/{}/ns/pid", std::process::id());
    let tool = bin("ch07-inspect").display().to_string();
    let ch03 = bin("ch03-pid").display().to_string();
    let out = run(&ch03, &["--", &tool, "enter", &ours, "true"]);
    assert_one_line_error(
        &out,
        "cannot enter the pid namespace: EINVAL",
        "its own PID namespace or one below it",
    );
}

/// A user namespace of nobody's, beside the one the tool will run in.
fn sibling() -> Background {
    Background::start(
        Path::new("setpriv"),
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "unshare",
            "--user",
            "--map-root-user",
            "sh",
            "-c",
            "echo ready; read x || :",
        ],
    )
}

#[test]
fn a_namespace_file_of_a_sibling_user_namespace_is_refused_for_what_it_is() {
    if !have_root(
        "a_namespace_file_of_a_sibling_user_namespace_is_refused_for_what_it_is",
    ) {
        return;
    }
    let other = sibling();
    let path = format!("/proc/{}/ns/user", other.pid());
    let tool = bin("ch07-inspect").display().to_string();
    let out = run("unshare", &["-U", "-r", &tool, "enter", &path, "true"]);
    assert_one_line_error(
        &out,
        &format!("cannot open {path}: EACCES"),
        "ptrace access check refused",
    );
    assert_eq!(other.stop(), Some(0));
}

#[test]
fn tree_says_an_owner_above_our_scope_is_hidden_not_that_it_is_the_top() {
    if !have_root(
        "tree_says_an_owner_above_our_scope_is_hidden_not_that_it_is_the_top",
    ) {
        return;
    }
    // fd 5: our UTS namespace, owned by the user namespace above the
    // tool's.
    let line = "exec 5</proc/self/ns/uts; exec unshare -U -r \"$1\" tree \
                /proc/self/fd/5";
    let tool = bin("ch07-inspect").display().to_string();
    let out = run("bash", &["-c", line, "bash", &tool]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let owner = text
        .lines()
        .find(|l| l.trim_start().starts_with("NS_GET_USERNS"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(owner.contains("EPERM"), "{text}");
    assert!(owner.contains("owns it is above ours"), "{text}");
    assert!(!text.contains("initial (top)"), "{text}");
}

#[test]
fn too_many_open_files_asks_for_a_higher_limit_in_list_and_tree() {
    if !have_root(
        "too_many_open_files_asks_for_a_higher_limit_in_list_and_tree",
    ) {
        return;
    }
    // In a scratch mount namespace, a kept namespace (list and tree open
    // it), then each command under ever smaller limits.
    let dir = ScratchDir::new();
    let area = dir.join("area");
    std::fs::create_dir(&area).unwrap();
    let script = "mount -t tmpfs nslab-emfile \"$2\" || exit 9\n\
        \"$1\" keep $$ uts \"$2/k\" >/dev/null || exit 9\n\
        for n in 3 4 5 6 7 8 9 10; do for c in list tree; do\n\
          (ulimit -n $n; exec \"$1\" $c) >/dev/null 2>\"$2.err\"\n\
          echo \"$c $? $(tr '\\n' '|' <\"$2.err\")\"\n\
        done; done\n";
    let tool = bin("ch07-inspect").display().to_string();
    let args = [
        "-m",
        "--propagation",
        "private",
        "bash",
        "-c",
        script,
        "bash",
    ];
    let out = run("unshare", &[&args[..], &[&tool, &area]].concat());
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for command in ["list", "tree"] {
        let failed: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("{command} 125 ")))
            .collect();
        assert!(!failed.is_empty(), "{command} never failed: {text}");
        for line in failed {
            assert!(line.contains("EMFILE"), "{line}");
            assert!(line.contains("|hint: ") && line.contains("ulimit -n"));
            assert!(!line.contains("give a PID"), "{line}");
        }
    }
}

/// `unshare user` writes its maps as ch05's `--map-root` does, with the
/// same hints.
#[test]
fn unshare_user_gives_the_id_map_hints_of_the_chapters() {
    if !have_root("unshare_user_gives_the_id_map_hints_of_the_chapters") {
        return;
    }
    nslab_testkit::failures::an_undumpable_tool_says_why_it_cannot_write_its_maps(
        "ch07-inspect",
        &["unshare", "user", "--", "true"],
    );
}

/// Root on the host, but nobody in a user namespace that does not map
/// it: `unshare` blames the unmapped uid, as the chapters do, not a
/// lack of root.
#[test]
fn unshare_where_our_uid_is_unmapped_names_that_cause() {
    if !have_root("unshare_where_our_uid_is_unmapped_names_that_cause") {
        return;
    }
    let tool = bin("ch07-inspect").display().to_string();
    let out = run("unshare", &["-U", &tool, "unshare", "uts", "--", "true"]);
    assert_one_line_error(
        &out,
        "cannot unshare(CLONE_NEWUTS): EPERM",
        "our uid has no mapping in this user namespace",
    );
    let err = nslab_testkit::stderr(&out);
    assert!(!err.contains("needs root"), "{err}");
}
