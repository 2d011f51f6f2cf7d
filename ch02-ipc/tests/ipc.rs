//! What ch02-ipc promises: the host's IPC objects are invisible inside,
//! and what is made inside is gone when the command exits.

use nslab_testkit::{
    HostSnapshot, chapter, have_root, host, host_lock, stdout,
};

nslab_testkit::contract_tests!(
    "ch02-ipc",
    new: &["uts", "ipc"],
    limit: "max_ipc_namespaces",
    pid_namespace: false,
    needs_root: true,
);

/// A System V message queue on the host, removed when dropped.
struct HostQueue {
    id: String,
    key: String,
}

impl HostQueue {
    fn new() -> HostQueue {
        // ipcmk picks a random key; it prints "Message queue id: N".
        let out = stdout(&host("ipcmk", &["-Q"]));
        let id = out.trim().rsplit(' ').next().unwrap().to_string();
        let table = std::fs::read_to_string("/proc/sysvipc/msg").unwrap();
        let key = table
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|fields| fields.get(1) == Some(&id.as_str()))
            .map(|fields| fields[0].to_string())
            .expect("the new queue is not in /proc/sysvipc/msg");
        HostQueue { id, key }
    }
}

impl Drop for HostQueue {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ipcrm")
            .args(["-q", &self.id])
            .status();
    }
}

/// Queue rows (not headers) of `/proc/sysvipc/msg` text.
fn queue_rows(table: &str) -> Vec<&str> {
    table
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn host_queue_is_not_listed_inside() {
    if !have_root("host_queue_is_not_listed_inside") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let queue = HostQueue::new();
    // The host sees it: the check below could fail.
    let on_host = stdout(&host("ipcs", &["-q"]));
    assert!(on_host.contains(&format!(" {} ", queue.id)), "{on_host}");

    let out = chapter(
        "ch02-ipc",
        &[
            "--",
            "sh",
            "-c",
            "ipcs -q; echo nslab-separator; cat /proc/sysvipc/msg",
        ],
    )
    .assert()
    .success();
    let text = stdout(out.get_output());
    let (ipcs, table) = text.split_once("nslab-separator\n").unwrap();
    assert!(ipcs.contains("Message Queues"), "{ipcs}");
    let hex_key = format!("0x{:08x}", queue.key.parse::<i64>().unwrap() as u32);
    assert!(
        !ipcs.contains(&hex_key),
        "`ipcs -q` inside ch02-ipc lists the host's queue (key {hex_key}): \
         the command is not in a new IPC namespace; is CLONE_NEWIPC in \
         NAMESPACES?\n{ipcs}"
    );
    assert!(queue_rows(table).is_empty(), "queues inside: {table}");
    drop(queue);
    before.assert_unchanged();
}

#[test]
fn queue_made_inside_is_gone_after_exit() {
    if !have_root("queue_made_inside_is_gone_after_exit") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let out = chapter(
        "ch02-ipc",
        &[
            "--",
            "sh",
            "-c",
            "ipcmk -Q >/dev/null && cat /proc/sysvipc/msg",
        ],
    )
    .assert()
    .success();
    let text = stdout(out.get_output());
    assert_eq!(queue_rows(&text).len(), 1, "one queue inside: {text}");
    // The namespace died with its last process, and its queue with it.
    before.assert_unchanged();
}
