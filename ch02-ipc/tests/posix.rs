//! The IPC namespace beyond System V: POSIX message queues are isolated,
//! each namespace with its own `mqueue` file system; `/dev/shm` is not
//! the IPC namespace's; the IPC limits (`kernel.msg*`, `fs.mqueue.*`)
//! are per namespace and start from the kernel's defaults.
//!
//! Each test runs in a stand-in host: an IPC and a mount namespace of
//! its own (util-linux `unshare`), so that the queues, files and limits
//! it makes go with that namespace, whether the test passes or fails.

use nslab_testkit::have_root;

/// Runs `script` in this file's stand-in host, `$CHAPTER` naming the
/// chapter; returns its stdout, after checking that it succeeded.
fn in_a_stand_in(script: &str) -> String {
    nslab_testkit::in_a_stand_in(
        &["--ipc", "--mount", "--propagation", "private"],
        "ch02-ipc",
        script,
    )
}

#[test]
fn posix_queues_are_per_namespace_each_with_its_own_mqueue_fs() {
    if !have_root("posix_queues_are_per_namespace_each_with_its_own_mqueue_fs")
    {
        return;
    }
    let out = in_a_stand_in(
        r#"
        mount -t mqueue none /mnt
        : >/mnt/jobs
        # The stand-in's mount still shows the stand-in's queues inside:
        # an mqueue mount belongs to the namespace that mounted it.
        echo "old mount: $("$CHAPTER" -- ls /mnt)"
        # A new mount inside shows the new namespace's: none, then the
        # one made there, which the stand-in never sees.
        echo "new mount: $("$CHAPTER" -- unshare --mount sh -c \
            'mount -t mqueue none /mnt && ls -A /mnt | wc -l &&
             : >/mnt/inner && ls /mnt' | tr '\n' ' ')"
        echo "stand-in: $(ls /mnt | tr '\n' ' ')"
        "#,
    );
    assert_eq!(
        out, "old mount: jobs\nnew mount: 0 inner \nstand-in: jobs \n",
        "{out}"
    );
}

#[test]
fn dev_shm_is_not_governed_by_the_ipc_namespace() {
    if !have_root("dev_shm_is_not_governed_by_the_ipc_namespace") {
        return;
    }
    let out = in_a_stand_in(
        r#"
        mount -t tmpfs none /dev/shm
        : >/dev/shm/frames
        "$CHAPTER" -- sh -c 'ls /dev/shm; : >/dev/shm/from-inside'
        # A System V segment, for contrast: not seen inside.
        ipcmk -M 4096 >/dev/null
        echo "segments inside: $("$CHAPTER" -- sh -c 'ipcs -m | grep -c "^0x"' || :)"
        ls /dev/shm
        "#,
    );
    assert_eq!(
        out, "frames\nsegments inside: 0\nframes\nfrom-inside\n",
        "{out}"
    );
}

#[test]
fn ipc_limits_are_per_namespace_and_start_from_the_defaults() {
    if !have_root("ipc_limits_are_per_namespace_and_start_from_the_defaults") {
        return;
    }
    let out = in_a_stand_in(
        r#"
        sysctl -q -w kernel.msgmnb=32768 fs.mqueue.msg_max=20
        "$CHAPTER" -- sh -c 'sysctl -n kernel.msgmnb fs.mqueue.msg_max;
            sysctl -q -w kernel.msgmnb=1000 fs.mqueue.msg_max=5;
            sysctl -n kernel.msgmnb fs.mqueue.msg_max'
        sysctl -n kernel.msgmnb fs.mqueue.msg_max
        "#,
    );
    // MSGMNB and DFLT_MSGMAX, the kernel's defaults, not the stand-in's
    // values; what is set inside stays there.
    assert_eq!(out, "16384\n10\n1000\n5\n32768\n20\n", "{out}");
}
