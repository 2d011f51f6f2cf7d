//! What `ch04-mount --propagation MODE` promises: each mode behaves as
//! util-linux `unshare --mount --propagation MODE` does, side by side on
//! a `/` that is shared (as on a systemd host), and `--root` is refused,
//! before anything is made, with a mode that would leave `/` shared,
//! because `pivot_root(2)` refuses a shared mount.

use nslab_testkit::{
    HostSnapshot, Rootfs, TIMEOUT, bin, have_root, host_lock, stderr, stdout,
};

/// Runs `$TOOL` (a command that runs its arguments in a new mount
/// namespace) on a shared `/` in a scratch mount namespace of its own,
/// and reports, in one line each:
/// - `type=`: the propagation `findmnt` shows for `/` inside;
/// - `inside-out=`: whether a mount made inside reached the outside;
/// - `host-in=`: whether a mount made outside, after the start, arrived.
///
/// The scratch namespace is cut off from the real host first
/// (`--propagation private`): only then is its `/` made shared, so
/// nothing here reaches the host, whatever the host's `/` is. Fifos
/// order the two sides; nothing waits on time.
const SIDE_BY_SIDE: &str = r#"
set -e
mount -t tmpfs nslab-scratch /mnt
mount --make-rshared /
d=/mnt
mkdir "$d/from-host" "$d/from-inside"
mkfifo "$d/ready" "$d/go"
# Held open both ways, so that neither side's open blocks, and a tool
# that fails before it is ready still lets this side go on.
exec 3<> "$d/ready" 4<> "$d/go"
{
    $TOOL sh -c '
        d=$0
        mount -t tmpfs nslab-inside "$d/from-inside"
        findmnt -no PROPAGATION / > "$d/type"
        echo > "$d/ready"
        read -r _ < "$d/go"
        if findmnt -n -M "$d/from-host" > /dev/null; then
            echo host-in=yes
        else
            echo host-in=no
        fi
    ' "$d" 3>&- 4>&- || echo "failed=$?"
    [ -e "$d/type" ] || echo >&3
} &
read -r _ <&3
if findmnt -n -M "$d/from-inside" > /dev/null; then
    echo inside-out=yes
else
    echo inside-out=no
fi
mount -t tmpfs nslab-host "$d/from-host"
echo >&4
wait $!
echo "type=$(cat "$d/type" 2>/dev/null)"
"#;

/// What `tool` reports (see [`SIDE_BY_SIDE`]), sorted.
fn propagation_seen(tool: &str) -> Vec<String> {
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(SIDE_BY_SIDE)
        .env("TOOL", tool)
        .timeout(TIMEOUT)
        .assert()
        .success();
    let mut lines: Vec<String> =
        stdout(out.get_output()).lines().map(String::from).collect();
    lines.sort();
    lines
}

#[test]
fn every_mode_behaves_as_unshare_does() {
    if !have_root("every_mode_behaves_as_unshare_does") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let ch04 = bin("ch04-mount");
    // (mode, a mount inside reaches the outside, one outside arrives)
    let expected = [
        ("private", "no", "no"),
        ("slave", "no", "yes"),
        ("shared", "yes", "yes"),
        ("unchanged", "yes", "yes"),
    ];
    for (mode, out, into) in expected {
        let ours = propagation_seen(&format!(
            "{} --propagation {mode} --",
            ch04.display()
        ));
        let theirs =
            propagation_seen(&format!("unshare --mount --propagation {mode}"));
        assert_eq!(ours, theirs, "--propagation {mode}: ch04 vs unshare");
        assert!(
            ours.contains(&format!("inside-out={out}"))
                && ours.contains(&format!("host-in={into}")),
            "--propagation {mode}: {ours:?}"
        );
    }
    // With no option, ch04 is private, as the chapter has always been.
    let default = propagation_seen(&format!("{} --", ch04.display()));
    let private = propagation_seen(&format!(
        "{} --propagation private --",
        ch04.display()
    ));
    assert_eq!(default, private);
    assert!(default.contains(&"type=private".to_string()), "{default:?}");
    before.assert_unchanged();
}

/// Runs `ch04-mount ARGS --root DIR -- /bin/sh -c 'echo inside'` on a
/// shared `/` in a scratch mount namespace; returns (status, stdout,
/// stderr).
fn with_root_on_a_shared_root(args: &str) -> (Option<i32>, String, String) {
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    let line = format!(
        "mount --make-rshared / && \"$CH04\" {args} --root '{}' -- \
         /bin/sh -c 'echo inside'",
        rootfs.arg()
    );
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &line])
        .env("CH04", bin("ch04-mount"))
        .timeout(TIMEOUT)
        .output()
        .expect("cannot run unshare");
    (out.status.code(), stdout(&out), stderr(&out))
}

#[test]
fn root_is_refused_where_slash_would_stay_shared() {
    if !have_root("root_is_refused_where_slash_would_stay_shared") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    for mode in ["shared", "unchanged"] {
        let (code, out, err) =
            with_root_on_a_shared_root(&format!("--propagation {mode}"));
        assert_eq!(code, Some(125), "--propagation {mode}: {err}");
        assert!(out.is_empty(), "nothing ran: {out}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{err}");
        assert!(
            lines[0].starts_with(&format!(
                "ch04-mount: --root cannot be used with --propagation {mode}"
            )) && lines[0].contains("pivot_root(2) refuses a shared mount"),
            "{err}"
        );
        assert_eq!(
            lines[1],
            "hint: use --propagation private (the default) or slave with --root"
        );
    }
    for args in ["", "--propagation private", "--propagation slave"] {
        let (code, out, err) = with_root_on_a_shared_root(args);
        assert_eq!(
            (code, out.as_str()),
            (Some(0), "inside\n"),
            "{args}: {err}"
        );
    }
    before.assert_unchanged();
}

#[test]
fn unchanged_with_root_works_where_slash_is_private() {
    if !have_root("unchanged_with_root_works_where_slash_is_private") {
        return;
    }
    let _host = host_lock();
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    // A scratch mount namespace whose `/` is private, whatever the host's.
    let line = format!(
        "\"$CH04\" --propagation unchanged --root '{}' -- /bin/sh -c 'echo inside'",
        rootfs.arg()
    );
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &line])
        .env("CH04", bin("ch04-mount"))
        .timeout(TIMEOUT)
        .assert()
        .success();
    assert_eq!(stdout(out.get_output()), "inside\n");
}

#[test]
fn the_kernel_itself_refuses_to_pivot_a_shared_root() {
    if !have_root("the_kernel_itself_refuses_to_pivot_a_shared_root") {
        return;
    }
    let _host = host_lock();
    // What the up-front refusal stands for: util-linux's own pivot_root,
    // in a namespace whose copy stays shared, gets EINVAL from the kernel.
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    let line = format!(
        "mount --make-rshared / && unshare --mount --propagation shared \
         sh -c 'mount --bind \"$0\" \"$0\" && cd \"$0\" && pivot_root . .' '{}'",
        rootfs.arg()
    );
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &line])
        .timeout(TIMEOUT)
        .output()
        .expect("cannot run unshare");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("Invalid argument"),
        "{}",
        stderr(&out)
    );
}

/// Runs `script` with bash in a scratch mount namespace of its own (a
/// private copy, cut off from the host); returns what it printed.
fn in_a_scratch_namespace(script: &str) -> String {
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "bash", "-c", script])
        .timeout(TIMEOUT)
        .assert()
        .success();
    stdout(out.get_output())
}

/// mount_namespaces(7)'s mount explosion: each recursive bind of a
/// shared tree into itself copies every mount made so far, into every
/// peer; `--make-unbindable` on each bind keeps the count linear.
#[test]
fn unbindable_stops_the_mount_explosion() {
    if !have_root("unbindable_stops_the_mount_explosion") {
        return;
    }
    let binds = |how: &str| {
        in_a_scratch_namespace(&format!(
            "mount -t tmpfs demo /mnt && mkdir /mnt/a /mnt/b /mnt/c /mnt/d && \
             mount --make-shared /mnt && for u in a b c d; do \
             mount --rbind {how} /mnt /mnt/$u; findmnt -Rn /mnt | wc -l; done"
        ))
    };
    // The page's counts, the fourth bind's 1806 included.
    assert_eq!(binds(""), "2\n6\n42\n1806\n");
    assert_eq!(binds("--make-unbindable"), "2\n3\n4\n5\n");
}

/// What a bind or a move makes of a mount (mount_namespaces(7), the
/// table for bind and move): a private source bound or moved under a
/// shared mount becomes shared; an unbindable one cannot be bound
/// (EINVAL, which mount(8) reports as "wrong fs type, bad option...").
#[test]
fn bind_and_move_follow_the_transition_rules() {
    if !have_root("bind_and_move_follow_the_transition_rules") {
        return;
    }
    let seen = in_a_scratch_namespace(
        "mount -t tmpfs demo /mnt && mkdir /mnt/shared /mnt/other && \
         mount --make-shared /mnt && \
         mount -t tmpfs src /srv && mkdir /srv/p /srv/u /srv/m && \
         mount -t tmpfs p /srv/p && findmnt -no PROPAGATION /srv/p && \
         mount --bind /srv/p /mnt/shared && \
         mount -t tmpfs --make-unbindable u /srv/u && \
         { mount --bind /srv/u /mnt/other 2>/dev/null || echo refused; } && \
         mount -t tmpfs m /srv/m && mount --move /srv/m /mnt/other && \
         findmnt -no PROPAGATION /mnt/shared && \
         findmnt -no PROPAGATION /mnt/other",
    );
    assert_eq!(seen, "private\nrefused\nshared\nshared\n");
    // A shared source bound elsewhere: one more peer of the same group.
    let groups = in_a_scratch_namespace(
        "mount -t tmpfs demo /mnt && mount --make-shared /mnt && \
         mount -t tmpfs src /srv && mkdir /srv/peer && \
         mount --bind /mnt /srv/peer && \
         awk '$5 == \"/mnt\" || $5 == \"/srv/peer\" {print $7}' \
         /proc/self/mountinfo",
    );
    let groups: Vec<&str> = groups.lines().collect();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(groups[0].starts_with("shared:"), "{groups:?}");
    assert_eq!(groups[0], groups[1], "the same peer group");
}

/// pivot_root(2) moves more than its caller: every process of the mount
/// namespace whose root or working directory was the old root gets the
/// new root instead, while a working directory elsewhere stays where it
/// was, now below the old root's new place (here `tmp`).
#[test]
fn pivot_root_moves_the_root_and_cwd_of_other_processes() {
    if !have_root("pivot_root_moves_the_root_and_cwd_of_other_processes") {
        return;
    }
    let rootfs = Rootfs::new(env!("CARGO_TARGET_TMPDIR"));
    let script = r#"
        mount --bind "$0" "$0"
        (cd / && exec sleep 1000) & (cd /etc && exec sleep 1000) &
        show() {
            for p in $(jobs -p); do
                echo "root=$(readlink $1/$p/root) cwd=$(readlink $1/$p/cwd)"
            done
        }
        show /proc
        cd "$0" && pivot_root . tmp && show /tmp/proc
        first=$(jobs -p | head -n 1)
        test -f "/tmp/proc/$first/cwd/bin/busybox" && echo "in the new root"
        kill $(jobs -p)
    "#;
    let seen = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "bash", "-c", script])
        .arg(rootfs.arg())
        .timeout(TIMEOUT)
        .assert()
        .success();
    // Both start at the host's root; after the pivot, the first (at the
    // old root) is at the new one, the second below the old root.
    assert_eq!(
        stdout(seen.get_output()),
        "root=/ cwd=/\nroot=/ cwd=/etc\n\
         root=/ cwd=/\nroot=/ cwd=/tmp/etc\nin the new root\n"
    );
}

/// `book/demos/transitions.sh` measures mount_namespaces(7)'s whole
/// table for bind and move; the rows are the man page's.
#[test]
fn the_transition_table_is_the_man_pages() {
    if !have_root("the_transition_table_is_the_man_pages") {
        return;
    }
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../book/demos/transitions.sh");
    let out = nslab_testkit::assert_cmd::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "bash"])
        .arg(demo)
        .timeout(TIMEOUT)
        .assert()
        .success();
    let rows: Vec<Vec<String>> = stdout(out.get_output())
        .lines()
        .skip(1)
        .map(|row| {
            let (_, cells) = row.split_once(':').expect("an operation");
            cells.split_whitespace().map(String::from).collect()
        })
        .collect();
    let table = [
        ["shared", "shared", "shared,slave", "refused"],
        ["shared", "private", "private,slave", "refused"],
        ["shared", "shared", "shared,slave", "refused"],
        ["shared", "private", "private,slave", "private,unbindable"],
    ];
    assert_eq!(
        rows, table,
        "bind under shared, under private; move the same"
    );
}

/// The optional fields of mountinfo, as the page reads them: `shared:N`
/// (a peer group), `master:N` (a slave of group N, the same N as the
/// master's `shared:N`), `unbindable`, and `propagate_from:N`, which
/// only a reader whose root leaves out the master group sees: the
/// nearest group upstream with a mount under that root
/// (`book/demos/mountinfo-from.py` reads the table from such a root).
#[test]
fn mountinfo_names_peer_groups_masters_and_propagate_from() {
    if !have_root("mountinfo_names_peer_groups_masters_and_propagate_from") {
        return;
    }
    let demo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../book/demos/mountinfo-from.py"
    );
    let seen = in_a_scratch_namespace(&format!(
        "set -e; mount -t tmpfs demo /mnt; cd /mnt; mkdir -p root/z root/m root/u x
         mount -t tmpfs z root/z; mount --make-shared root/z
         mount --bind root/z x; mount --make-slave x; mount --make-shared x
         mount --bind x root/m; mount --make-slave root/m
         mount -t tmpfs u root/u; mount --make-unbindable root/u
         fields() {{ awk '$5 ~ /\\/[zmux]$/ \
             {{ s = $5; for (i = 7; $i != \"-\"; i++) s = s \" \" $i; print s }}'; }}
         fields < /proc/self/mountinfo; echo from root; python3 {demo} root | fields"
    ));
    let lines: Vec<&str> = seen.lines().collect();
    let group = |line: &str, field: &str| -> String {
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(field))
            .unwrap_or_else(|| panic!("no {field} in {line:?}: {seen}"))
            .to_string()
    };
    let (z, x) = (group(lines[0], "shared:"), group(lines[1], "shared:"));
    assert_ne!(z, x, "{seen}");
    assert_eq!(
        lines,
        [
            format!("/mnt/root/z shared:{z}"),
            format!("/mnt/x shared:{x} master:{z}"),
            format!("/mnt/root/m master:{x}"),
            "/mnt/root/u unbindable".into(),
            "from root".into(),
            format!("/z shared:{z}"),
            format!("/m master:{x} propagate_from:{z}"),
            "/u unbindable".into(),
        ],
        "{seen}"
    );
}
