//! ch07-inspect.md, "Capabilities, down and not across": `enter` into a
//! user namespace needs CAP_SYS_ADMIN in it. Root of one user namespace
//! has that in its descendants and not in a sibling (EPERM); the
//! namespace's creator has it without any capability in the parent.
//! The sibling's namespace is named through a `keep` bind mount, made
//! in a mount namespace of the test's own: the host's mounts never
//! change.

use nslab_testkit::{BinaryCopy, bin, have_root, stderr, stdout};

fn bash(script: &str, inspect: &std::path::Path) -> std::process::Output {
    std::process::Command::new("bash")
        .args(["-c", script])
        .env("INSPECT", inspect)
        .output()
        .expect("cannot run bash")
}

/// A user namespace held by a sleep, mapped or not: its PID.
const HELD: &str = r#"
set -u
held() { unshare --user "$@" sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!'; }
"#;

#[test]
fn a_sibling_user_namespace_cannot_be_entered_a_child_one_can() {
    if !have_root("a_sibling_user_namespace_cannot_be_entered_a_child_one_can")
    {
        return;
    }
    let dir = std::env::temp_dir()
        .join(format!("nslab-siblings-{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    let script = format!(
        r#"{HELD}
        cd "$1"
        B=$(held --map-root-user); trap 'kill $B' EXIT
        "$INSPECT" keep $B user b-user >/dev/null
        unshare --user --map-root-user --mount --pid --fork --mount-proc sh -c '
            "$INSPECT" enter b-user id -u; echo "sibling: $?"
            C=$(unshare --user --map-root-user sh -c "sleep 1000 >/dev/null 2>&1 & echo \$!")
            "$INSPECT" enter /proc/$C/ns/user id -u; echo "child: $?"
            kill $C'
        "$INSPECT" release b-user >/dev/null
        "#
    );
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "bash", "-c", &script])
        .arg("bash")
        .arg(&dir)
        .env("INSPECT", bin("ch07-inspect"))
        .output()
        .expect("cannot run unshare");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        stdout(&out),
        "sibling: 125\n0\nchild: 0\n",
        "{}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains("ch07-inspect: cannot enter the user namespace: EPERM"),
        "{err}"
    );
    assert!(err.contains("that we do not own"), "{err}");
}

#[test]
fn the_creator_of_a_user_namespace_enters_it_without_capabilities() {
    if !have_root(
        "the_creator_of_a_user_namespace_enters_it_without_capabilities",
    ) {
        return;
    }
    let copy = BinaryCopy::new("ch07-inspect");
    let script = format!(
        r#"{HELD}
        grep CapEff /proc/self/status
        N=$(held); trap 'kill $N' EXIT
        "$INSPECT" enter --preserve-credentials /proc/$N/ns/user id -u
        echo "owner: $?"
        "$INSPECT" enter --preserve-credentials /proc/1/ns/user id -u
        echo "host: $?"
        "#
    );
    let out = bash(
        &format!(
            "setpriv --reuid=65534 --regid=65534 --clear-groups bash -c {}",
            shell_quote(&script)
        ),
        &copy.path,
    );
    assert_eq!(
        stdout(&out),
        "CapEff:\t0000000000000000\n65534\nowner: 0\nhost: 125\n",
        "{}",
        stderr(&out)
    );
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Root with supplementary groups, in a user namespace whose setgroups
/// is denied (inside `ch05-user --map-root`), enters a child user
/// namespace that denies it too: no process there can drop its groups,
/// so `enter` keeps them and becomes root, where `nsenter` fails.
#[test]
fn enter_keeps_groups_that_no_process_of_the_namespace_can_drop() {
    if !have_root(
        "enter_keeps_groups_that_no_process_of_the_namespace_can_drop",
    ) {
        return;
    }
    let inspect = BinaryCopy::new("ch07-inspect");
    let script = format!(
        r#"{HELD}
        setpriv --groups 4,27 -- "$CH05" --map-root -- sh -c '
            mount -t proc proc /proc
            C=$(unshare --user --map-root-user sh -c "sleep 1000 >/dev/null 2>&1 & echo \$!")
            "$INSPECT" enter /proc/$C/ns/user id -u
            echo "status $?"
            kill $C'
        "#
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .env("INSPECT", &inspect.path)
        .env("CH05", bin("ch05-user"))
        .output()
        .expect("cannot run bash");
    assert_eq!(stdout(&out), "0\nstatus 0\n", "{}", stderr(&out));
}
