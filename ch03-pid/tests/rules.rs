//! The PID namespace's rules as `pid_namespaces(7)` states them, each
//! run inside ch03-pid: `ns_last_pid` is the namespace's own;
//! `unshare(CLONE_NEWPID)` works once per process (EINVAL after); a
//! signal from an ancestor namespace carries `si_pid` 0; PID namespaces
//! nest 32 levels deep, and the 33rd fails with ENOSPC.

use nslab_testkit::{TIMEOUT, bin, chapter, have_root, stderr, stdout};

/// Runs `script` with `sh`, `$CH03` naming the chapter.
fn sh(script: &str) -> std::process::Output {
    nslab_testkit::assert_cmd::Command::new("sh")
        .args(["-c", script])
        .env("CH03", bin("ch03-pid"))
        .timeout(TIMEOUT)
        .output()
        .expect("cannot run sh")
}

#[test]
fn ns_last_pid_is_the_namespaces_own() {
    if !have_root("ns_last_pid_is_the_namespaces_own") {
        return;
    }
    // cat is PID 2; after 99 is written, the next PID is 100.
    let script = "cat /proc/sys/kernel/ns_last_pid; \
                  echo 99 >/proc/sys/kernel/ns_last_pid; sh -c 'echo $$'";
    let out = chapter("ch03-pid", &["--", "sh", "-c", script])
        .assert()
        .success();
    assert_eq!(stdout(out.get_output()), "2\n100\n");
}

#[test]
fn unshare_newpid_works_once_per_process() {
    if !have_root("unshare_newpid_works_once_per_process") {
        return;
    }
    // The same process asks twice (unshare execs unshare): EINVAL.
    let twice = chapter("ch03-pid", &["--", "unshare", "--pid", "unshare"])
        .args(["--pid", "true"])
        .assert()
        .failure();
    let text = stderr(twice.get_output());
    assert!(text.contains("Invalid argument"), "{text}");
    // A child, which is in the new namespace, may ask again.
    let nested = chapter("ch03-pid", &["--", "unshare", "--pid", "--fork"])
        .args(["unshare", "--pid", "--fork", "sh", "-c", "echo $$"])
        .assert()
        .success();
    assert_eq!(stdout(nested.get_output()), "1\n");
}

#[test]
fn a_signal_from_an_ancestor_namespace_has_si_pid_0() {
    if !have_root("a_signal_from_an_ancestor_namespace_has_si_pid_0") {
        return;
    }
    // From inside: si_pid is the sender's PID in the namespace.
    let inside = chapter("ch03-pid", &["--", "strace", "-qq", "-e"])
        .args(["trace=none", "sh", "-c", "echo $$; kill -USR1 $$"])
        .output()
        .expect("cannot run ch03-pid");
    let pid = stdout(&inside);
    let text = stderr(&inside);
    assert!(
        text.contains(&format!("si_pid={}, ", pid.trim())),
        "{pid}{text}"
    );
    // From the host: strace (PID 1) traces sleep (PID 2), which the
    // host signals by its host PID, found below the chapter.
    let script = r#"
        err=$(mktemp)
        "$CH03" -- strace -qq -e trace=none sleep 100 2>"$err" &
        tool=$!
        until tracer=$(pgrep -P "$tool") && s=$(pgrep -P "$tracer" -x sleep)
        do sleep 0.01; done
        kill -USR1 "$s"
        wait "$tool"
        echo "status $?"
        cat "$err"; rm "$err"
    "#;
    let host = sh(script);
    let text = stdout(&host);
    assert!(text.starts_with("status 138\n"), "{text}");
    assert!(
        text.contains("si_signo=SIGUSR1, si_code=SI_USER, si_pid=0,"),
        "{text}"
    );
}

#[test]
fn pid_namespaces_nest_32_deep() {
    if !have_root("pid_namespaces_nest_32_deep") {
        return;
    }
    // How deep the test already is: one NSpid field per level from the
    // /proc mount's namespace.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    let start = nspid.split_whitespace().count() - 2;
    // Each level starts the next, until the kernel refuses; ch03-pid
    // makes the first.
    let script = r#"NEST='n=$((n + 1)); export n
        unshare --pid --fork sh -c "$NEST" || echo "refused below level $n"'
        export NEST; n=0 "$CH03" -- sh -c "$NEST""#;
    let out = sh(script);
    let text = stdout(&out);
    assert_eq!(text, format!("refused below level {}\n", 32 - start));
    let err = stderr(&out);
    assert!(err.contains("No space left on device"), "{err}");
}
