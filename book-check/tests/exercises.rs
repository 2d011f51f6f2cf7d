//! Every exercise's solution, run: each test does what the solution says
//! and checks that the reader sees what it says they will see, and that
//! the host is left as it was. The tests run the commands as a reader
//! types them, with the chapters on PATH (`on_path`): a command, a
//! chapter's shell fed line by line (`Shell`, where the host looks on
//! between two lines), or a terminal where a real one matters.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nslab_testkit::shell::{Shell, children, status_field};
use nslab_testkit::{
    BinaryCopy, HostSnapshot, Rootfs, SharedDir, TIMEOUT, as_nobody, bin,
    chapter, have_root, host_lock, host_ns, processes_with, stderr, stdout,
    unique, unique_number,
};

/// The exercise sections of the chapter pages, and the prefix of their
/// tests' names: `## Exercises` is `chNN_exercise_M_...`, a section
/// `### Exercises: TITLE` has a word of its own.
const SECTIONS: [(&str, &str); 2] = [
    ("a root of its own", "root_"),
    ("a cable to the host", "veth_"),
];

/// Every exercise on a chapter's page is followed by its solution, in a
/// collapsed block, and has a test in this file named after it.
#[test]
fn every_exercise_has_a_solution_and_a_test() {
    let tests =
        std::fs::read_to_string(book_check::repo_root().join(file!())).unwrap();
    let mut found = 0;
    for page in book_check::CHAPTERS.iter().chain(&["ch07-inspect"]) {
        let path = book_check::book_src().join(format!("{page}.md"));
        let text = std::fs::read_to_string(&path).unwrap();
        let chapter = &page[..4];
        let mut section: Option<String> = None;
        let mut items: Vec<(String, bool)> = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') {
                let title = line.trim_start_matches('#').trim();
                // Without its id: `## Exercises {#exercises}`.
                let title = match title.rsplit_once(" {#") {
                    Some((title, _)) => title,
                    None => title,
                };
                section = if title == "Exercises" {
                    Some(String::new())
                } else {
                    title.strip_prefix("Exercises: ").map(|title| {
                        let (_, word) = SECTIONS
                            .iter()
                            .find(|(name, _)| *name == title)
                            .unwrap_or_else(|| panic!("{page}: {title}?"));
                        word.to_string()
                    })
                };
                continue;
            }
            let Some(word) = &section else { continue };
            let number = line.split_once(". ").and_then(|(n, _)| {
                n.parse::<u32>().ok().filter(|_| !line.starts_with(' '))
            });
            if let Some(number) = number {
                items.push((
                    format!("{chapter}_{word}exercise_{number}_"),
                    false,
                ));
            } else if line.trim() == "<details><summary>Solution</summary>" {
                let last =
                    items.last_mut().expect("a solution before any exercise");
                assert!(!last.1, "{page}: two solutions for {}", last.0);
                last.1 = true;
            }
        }
        for (name, solved) in items {
            assert!(solved, "{page}: {name}: no solution");
            assert!(
                tests.contains(&format!("fn {name}")),
                "{page}: no test named {name}..."
            );
            found += 1;
        }
    }
    assert!(found >= 25, "only {found} exercises found");
}

fn rootfs() -> Rootfs {
    Rootfs::new(env!("CARGO_TARGET_TMPDIR"))
}

/// ch04, "A root of its own", exercise 1: no `/proc` until one is
/// mounted.
#[test]
fn ch04_root_exercise_1_no_proc_until_mounted() {
    if !have_root("ch04_root_exercise_1_no_proc_until_mounted") {
        return;
    }
    let rootfs = rootfs();
    let out = chapter(
        "ch04-mount",
        &["--root", rootfs.arg(), "--", "cat", "/proc/self/mountinfo"],
    )
    .assert()
    .code(1);
    assert_eq!(
        stderr(out.get_output()),
        "cat: can't open '/proc/self/mountinfo': No such file or directory\n"
    );
    let script = "mount -t proc proc /proc; cat /proc/self/mountinfo";
    let out = chapter(
        "ch04-mount",
        &["--root", rootfs.arg(), "--", "/bin/sh", "-c", script],
    )
    .assert()
    .success();
    assert_eq!(stdout(out.get_output()).lines().count(), 2);
}

/// ch04, "A root of its own", exercise 2: an absolute link is resolved
/// inside DIR.
#[test]
fn ch04_root_exercise_2_the_shell_is_looked_up_inside() {
    if !have_root("ch04_root_exercise_2_the_shell_is_looked_up_inside") {
        return;
    }
    let rootfs = rootfs();
    let sh = rootfs.path.join("bin/sh");
    std::fs::remove_file(&sh).unwrap();
    std::os::unix::fs::symlink("/bin/bash", &sh).unwrap();
    let out = chapter("ch04-mount", &["--root", rootfs.arg()])
        .write_stdin("")
        .assert()
        .code(125);
    let err = stderr(out.get_output());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "ch04-mount: --root {} has no shell (no /bin/bash, no /bin/sh)",
            rootfs.arg()
        )
    );
    assert!(lines[1].starts_with("hint: "), "{err}");
    // Restored, the shell starts.
    std::fs::remove_file(&sh).unwrap();
    std::os::unix::fs::symlink("busybox", &sh).unwrap();
    chapter("ch04-mount", &["--root", rootfs.arg()])
        .write_stdin("exit 3\n")
        .assert()
        .code(3);
}

/// ch04, "A root of its own", exercise 3: root in a user namespace may
/// not mount a proc after the pivot.
#[test]
fn ch04_root_exercise_3_no_new_proc_in_a_user_namespace() {
    if !have_root("ch04_root_exercise_3_no_new_proc_in_a_user_namespace") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let rootfs = rootfs();
    let script = "id -u; mount -t proc proc /proc";
    let args = ["--root", rootfs.arg(), "--", "/bin/sh", "-c", script];
    let user = [&["--map-root"][..], &args].concat();
    let out = chapter("ch05-user", &user).assert().code(1);
    assert_eq!(stdout(out.get_output()), "0\n");
    assert_eq!(
        stderr(out.get_output()),
        "mount: permission denied (are you root?)\n"
    );
    // In chapter 4, as real root, the same mount works.
    chapter("ch04-mount", &args).assert().success();
    before.assert_unchanged();
}

/// A `ch06-net --veth --map-root` container that runs `script` once the
/// test writes a line to it, after printing `ready`.
fn veth_container(script: &str) -> std::process::Child {
    let line = format!("echo ready; read go; {script}");
    let mut child = Command::new(bin("ch06-net"))
        .args(["--veth", "--map-root", "--", "sh", "-c", &line])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start ch06-net");
    let mut ready = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready, "ready\n");
    child
}

/// The veth end on the host that appeared since `before`.
fn new_host_end(before: &[String]) -> String {
    let now: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("veth-nslab"))
        .filter(|name| !before.contains(name))
        .collect();
    assert_eq!(now.len(), 1, "{now:?}");
    now[0].clone()
}

use nslab_testkit::veth_host_ends as host_ends;

/// ch06, "A cable to the host", exercise 1: deleting the host end
/// deletes `eth0` too.
#[test]
fn ch06_veth_exercise_1_one_end_takes_the_other() {
    if !have_root("ch06_veth_exercise_1_one_end_takes_the_other") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let ends = host_ends();
    let mut child =
        veth_container("ip -o link | cut -d: -f2 | tr -d ' '; ip route");
    let host_end = new_host_end(&ends);
    nslab_testkit::host("ip", &["link", "del", &host_end]);
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    let links: Vec<&str> = text.lines().collect();
    assert_eq!(links[0], "lo", "{text}");
    assert!(!text.contains("eth0"), "eth0 must be gone: {text}");
    assert!(!text.contains("default"), "no route out: {text}");
    before.assert_unchanged();
}

/// ch06, "A cable to the host", exercise 2: `--veth` needs root.
#[test]
fn ch06_veth_exercise_2_veth_needs_root() {
    if !have_root("ch06_veth_exercise_2_veth_needs_root") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let (mut command, _copy) = as_nobody("ch06-net", &["--veth", "--", "true"]);
    let out = command.assert().code(125);
    let err = stderr(out.get_output());
    assert!(err.starts_with("ch06-net: --veth: cannot create veth-nslab"));
    assert!(
        err.contains(": EPERM: Operation not permitted\nhint: "),
        "{err}"
    );
    assert!(err.contains("as root"), "{err}");
    before.assert_unchanged();
}

/// ch06, "A cable to the host", exercise 3: the routes on each side.
#[test]
fn ch06_veth_exercise_3_a_route_on_each_side() {
    if !have_root("ch06_veth_exercise_3_a_route_on_each_side") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let ends = host_ends();
    let mut child = veth_container("ip route");
    let host_end = new_host_end(&ends);
    let n: u8 = host_end.trim_start_matches("veth-nslab").parse().unwrap();
    let on_host = stdout(&nslab_testkit::host(
        "ip",
        &["route", "show", "dev", &host_end],
    ));
    assert_eq!(
        on_host,
        format!("10.199.{n}.0/24 proto kernel scope link src 10.199.{n}.1 \n")
    );
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        format!(
            "default via 10.199.{n}.1 dev eth0 \n\
             10.199.{n}.0/24 dev eth0 proto kernel scope link src \
             10.199.{n}.2 \n"
        )
    );
    assert_eq!(host_ends(), ends, "the tool removed its end");
    before.assert_unchanged();
}

// ---------------------------------------------------------------------
// Helpers for the chapters' exercises.

/// PATH with the built chapters first, as the setup page's line makes
/// it, so that scripts name them as the pages do.
fn on_path() -> String {
    let dir = bin("ch01-uts").parent().unwrap().to_path_buf();
    let rest = std::env::var("PATH").unwrap_or_default();
    format!("{}:{rest}", dir.display())
}

/// `bash -c line` on the host, the chapters on PATH, stdin empty.
fn host_bash(line: &str) -> Output {
    Command::new("bash")
        .args(["-c", line])
        .env("PATH", on_path())
        .stdin(Stdio::null())
        .output()
        .expect("cannot run bash")
}

/// Waits until `done` holds, checking every 10 ms; fails the test when
/// it still does not after [`TIMEOUT`].
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not after {TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The state letter, parent PID and start time of process `pid`, from
/// `/proc/PID/stat`; `None` once it has been reaped.
fn stat(pid: u32) -> Option<(char, u32, u64)> {
    let stat = nslab::proc_self::Stat::of(pid)?;
    Some((stat.state, stat.parent, stat.start_time))
}

/// The one `sleep` whose command line holds `marker`, once it runs
/// (the tool's and the shell's command lines hold the marker too).
fn the_sleep_with(marker: &str) -> u32 {
    // One read of the command line decides: comm and cmdline read apart
    // can straddle an exec, and the shell that forks the sleep holds the
    // marker in its own command line until it execs.
    let wanted = format!("sleep\0100\0{marker}\0");
    let is_the_sleep = |pid: &u32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmdline| cmdline == wanted.as_bytes())
    };
    let mut found = Vec::new();
    until(&format!("a sleep with {marker}"), || {
        found = processes_with(marker)
            .into_iter()
            .filter(is_the_sleep)
            .collect();
        !found.is_empty()
    });
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]
}

/// Sends SIGTERM to `pid`, a live process below a tool the test runs:
/// none but PID 1 of its namespace may reap it, and that is still
/// running.
fn terminate(pid: u32) {
    use nslab_testkit::libc;
    // SAFETY: kill(2) touches no memory; the PID is still the process's.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
}

/// A process that the test started, killed and reaped when dropped.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `program args` with piped stdin and stdout, and returns it
/// with the first line it prints.
fn start_with_line(program: &str, args: &[&str]) -> (Started, String) {
    // From `/`: inside a user namespace the checkout (the tests' working
    // directory) may be closed, and some tools refuse to start there.
    let mut child = Command::new(program)
        .args(args)
        .current_dir("/")
        .env("PATH", on_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Started(child), line)
}

/// The `CapEff` or `CapBnd` value of a `/proc/PID/status` text.
fn cap(status: &str, name: &str) -> String {
    status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {status}"))
        .trim()
        .to_string()
}

/// Every capability this kernel has, as `/proc/PID/status` shows a set:
/// what a new user namespace's bounding set is, whatever the host's.
fn every_capability() -> String {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    format!("{:016x}", (1u64 << (last + 1)) - 1)
}

// ---------------------------------------------------------------------
// Chapter 1.

/// ch01-uts.md, exercise 1: the NIS domain name is the namespace's.
#[test]
fn ch01_exercise_1_the_domain_name_is_the_namespaces() {
    if !have_root("ch01_exercise_1_the_domain_name_is_the_namespaces") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let host = || std::fs::read_to_string("/proc/sys/kernel/domainname");
    let on_host = host().unwrap();
    let mut shell = Shell::start("ch01-uts", &[]);
    let inside = shell.run("domainname demo; cat /proc/sys/kernel/domainname");
    assert_eq!(inside, "demo\n");
    assert_eq!(host().unwrap(), on_host, "the host's changed too");
    assert!(shell.finish().status.success());
    before.assert_unchanged();
}

/// ch01-uts.md, exercise 2: only the `uts` link differs.
#[test]
fn ch01_exercise_2_only_uts_differs() {
    if !have_root("ch01_exercise_2_only_uts_differs") {
        return;
    }
    let shell = Shell::start("ch01-uts", &[]);
    let pid = shell.pid;
    let uts = std::fs::read_link(format!("/proc/{pid}/ns/uts")).unwrap();
    assert_ne!(uts.to_str().unwrap(), host_ns("uts"));
    // The solution's loop as the page prints it, its first line setting
    // `pid` to the PID from the welcome line.
    let page =
        std::fs::read_to_string(book_check::book_src().join("ch01-uts.md"))
            .unwrap();
    let block: Vec<&str> = page
        .lines()
        .skip_while(|l| !l.trim().starts_with("pid="))
        .take_while(|l| !l.trim().starts_with("```"))
        .map(str::trim)
        .collect();
    assert!(
        block.len() > 1 && block[1].starts_with("for t in $(ls /proc/$$/ns)"),
        "ch01-uts.md: the solution's loop must start by setting pid: {block:?}"
    );
    let the_loop = |pid: &str| {
        let mut lines = block.clone();
        let first = format!("pid={pid}");
        lines[0] = &first;
        lines.join("\n")
    };
    let out = host_bash(&the_loop(&pid.to_string()));
    assert_eq!(stdout(&out), "uts differs\n", "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    // Pasted with the placeholder, `readlink -v` says what is wrong.
    let out = host_bash(&the_loop("PID"));
    assert!(
        stderr(&out).contains("/proc/PID/ns/uts: No such file or directory"),
        "{}",
        stderr(&out)
    );
    // From a terminal that is not root: `readlink` prints nothing,
    // `readlink -v` says why.
    let link = format!("/proc/{pid}/ns/uts");
    let as_nobody = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .args(args)
            .current_dir("/")
            .output()
            .unwrap()
    };
    let out = as_nobody(&["readlink", &link]);
    assert_eq!((stdout(&out), stderr(&out)), (String::new(), String::new()));
    let out = as_nobody(&["readlink", "-v", &link]);
    assert!(
        stderr(&out).contains("Permission denied"),
        "{}",
        stderr(&out)
    );
    assert!(shell.finish().status.success());
}

/// ch01-uts.md, exercise 3: the command's exit code, or 128 + signal.
#[test]
fn ch01_exercise_3_exit_code_or_128_plus_the_signal() {
    if !have_root("ch01_exercise_3_exit_code_or_128_plus_the_signal") {
        return;
    }
    let out = host_bash(
        "ch01-uts -- sh -c 'exit 3'; echo $?; \
         ch01-uts -- sh -c 'kill -KILL $$'; echo $?",
    );
    assert_eq!(stdout(&out), "3\n137\n");
}

/// ch01-uts.md, exercise 4: the subreaper ends the `sleep` before the
/// tool exits. (A fraction added to `sleep 88` marks this test's.)
#[test]
fn ch01_exercise_4_the_tool_ends_the_orphan_before_it_exits() {
    if !have_root("ch01_exercise_4_the_tool_ends_the_orphan_before_it_exits") {
        return;
    }
    let marker = unique_number();
    let script = format!("sleep 88 {marker} & echo started");
    let out = chapter("ch01-uts", &["--", "sh", "-c", &script])
        .assert()
        .success();
    assert_eq!(stdout(out.get_output()), "started\n");
    // No waiting: the tool reaped it before it exited.
    assert_eq!(processes_with(&marker), Vec::<u32>::new());
}

// ---------------------------------------------------------------------
// Chapter 2.

/// The rows of `ipcs` output: one per object, none for an empty list.
fn ipcs_rows(text: &str) -> Vec<&str> {
    text.lines().filter(|line| line.starts_with("0x")).collect()
}

/// ch02-ipc.md, exercise 1: a queue made inside goes with its
/// namespace.
#[test]
fn ch02_exercise_1_the_queue_goes_with_the_namespace() {
    if !have_root("ch02_exercise_1_the_queue_goes_with_the_namespace") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let queues = || std::fs::read_to_string("/proc/sysvipc/msg").unwrap();
    let on_host = queues();
    let mut shell = Shell::start("ch02-ipc", &[]);
    assert_eq!(shell.run("ipcmk -Q"), "Message queue id: 0\n");
    let listed = shell.run("ipcs -q");
    let rows = ipcs_rows(&listed);
    assert_eq!(rows.len(), 1, "{listed}");
    assert_eq!(rows[0].split_whitespace().nth(1), Some("0"), "{listed}");
    assert_eq!(queues(), on_host, "the host lists the queue");
    assert!(shell.finish().status.success());
    let again = chapter("ch02-ipc", &["--", "ipcs", "-q"])
        .assert()
        .success();
    let listed = stdout(again.get_output());
    assert!(ipcs_rows(&listed).is_empty(), "{listed}");
    before.assert_unchanged();
}

/// A System V shared memory segment on the host, removed when dropped.
struct HostSegment(String);

impl Drop for HostSegment {
    fn drop(&mut self) {
        let _ = Command::new("ipcrm").args(["-m", &self.0]).status();
    }
}

/// ch02-ipc.md, exercise 2: the host's shared memory is not listed
/// inside; `ipcrm -m ID` removes it again.
#[test]
fn ch02_exercise_2_the_hosts_shared_memory_is_not_listed() {
    if !have_root("ch02_exercise_2_the_hosts_shared_memory_is_not_listed") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let made = stdout(&nslab_testkit::host("ipcmk", &["-M", "4096"]));
    let id = made
        .trim()
        .strip_prefix("Shared memory id: ")
        .unwrap_or_else(|| panic!("{made}"))
        .to_string();
    let segment = HostSegment(id.clone());
    let on_host = stdout(&nslab_testkit::host("ipcs", &["-m"]));
    assert!(
        ipcs_rows(&on_host).iter().any(|row| {
            let words: Vec<&str> = row.split_whitespace().collect();
            words[1] == id && words[2] == "root" && words[4] == "4096"
        }),
        "{on_host}"
    );
    let out = chapter("ch02-ipc", &["--", "ipcs", "-m"])
        .assert()
        .success();
    let inside = stdout(out.get_output());
    assert!(inside.contains("------ Shared Memory Segments --------"));
    assert!(ipcs_rows(&inside).is_empty(), "{inside}");
    nslab_testkit::host("ipcrm", &["-m", &id]);
    std::mem::forget(segment);
    before.assert_unchanged();
}

/// ch02-ipc.md, exercise 3: `ipc` and `uts` differ, `pid` and `mnt`
/// do not.
#[test]
fn ch02_exercise_3_ipc_and_uts_differ_pid_and_mnt_do_not() {
    if !have_root("ch02_exercise_3_ipc_and_uts_differ_pid_and_mnt_do_not") {
        return;
    }
    let script = "for t in ipc uts pid mnt; do readlink /proc/self/ns/$t; done";
    let on_host = stdout(&host_bash(script));
    let out = chapter("ch02-ipc", &["--", "sh", "-c", script])
        .assert()
        .success();
    let inside = stdout(out.get_output());
    let pairs: Vec<(&str, &str)> =
        on_host.lines().zip(inside.lines()).collect();
    assert_eq!(pairs.len(), 4, "{on_host}{inside}");
    for (host, inside) in &pairs[..2] {
        assert_ne!(host, inside);
    }
    for (host, inside) in &pairs[2..] {
        assert_eq!(host, inside);
    }
}

// ---------------------------------------------------------------------
// Chapter 3.

/// ch03-pid.md, exercise 1: PID 1 survives SIGTERM and SIGKILL sent
/// from inside; PID 2 (`--init`) does not.
#[test]
fn ch03_exercise_1_pid_1_drops_signals_from_inside() {
    if !have_root("ch03_exercise_1_pid_1_drops_signals_from_inside") {
        return;
    }
    for (signal, killed) in [("TERM", 143), ("KILL", 137)] {
        let script = format!("kill -{signal} $$; echo survived");
        let out = chapter("ch03-pid", &["--", "sh", "-c", &script])
            .assert()
            .success();
        assert_eq!(stdout(out.get_output()), "survived\n", "{signal}");
        let out = chapter("ch03-pid", &["--init", "--", "sh", "-c", &script])
            .assert()
            .code(killed);
        assert_eq!(stdout(out.get_output()), "", "{signal}");
    }
}

/// What a reader types into the interactive shell of `ch03-pid args`
/// at a real terminal (script(1) makes one; what we write is typed on
/// it): the exit status, and what the terminal showed. The typed lines
/// show `$$`; only the output of `echo` shows a number.
fn typed_at_a_terminal(args: &str, typed: &str) -> (Option<i32>, String) {
    let line = format!("exec {} {args}", bin("ch03-pid").display());
    let secs = TIMEOUT.as_secs().to_string();
    let mut child = Command::new("timeout")
        .args([&secs, "script", "-qefc", &line, "/dev/null"])
        .env("HOME", "/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start script(1)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(typed.as_bytes()).unwrap();
    let mut shown = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut shown);
    drop(stdin);
    (child.wait().unwrap().code(), shown)
}

/// ch03-pid.md, exercise 1, its last claims, at a terminal: an
/// interactive bash ignores SIGTERM as PID 1 and as PID 2 (`--init`);
/// only SIGKILL tells them apart.
#[test]
fn ch03_exercise_1_an_interactive_bash_ignores_sigterm_anyway() {
    if !have_root("ch03_exercise_1_an_interactive_bash_ignores_sigterm_anyway")
    {
        return;
    }
    let typed = "kill -TERM $$; echo \"after TERM, PID $$\"\n\
                 kill -KILL $$; echo \"after KILL, PID $$\"\n\
                 exit 0\n";
    let (status, shown) = typed_at_a_terminal("", typed);
    assert!(shown.contains("after TERM, PID 1"), "{shown}");
    assert!(shown.contains("after KILL, PID 1"), "{shown}");
    assert_eq!(status, Some(0), "{shown}");
    let (status, shown) = typed_at_a_terminal("--init", typed);
    assert!(shown.contains("after TERM, PID 2"), "{shown}");
    assert!(!shown.contains("after KILL, PID 2"), "{shown}");
    assert_eq!(status, Some(137), "{shown}");
}

/// ch03-pid.md, exercise 2: `NSpid` lists the host PID, then 1.
#[test]
fn ch03_exercise_2_nspid_has_one_pid_per_level() {
    if !have_root("ch03_exercise_2_nspid_has_one_pid_per_level") {
        return;
    }
    let shell = Shell::start("ch03-pid", &[]);
    let pid = shell.pid;
    assert_eq!(status_field(pid, "NSpid"), [pid.to_string(), "1".into()]);
    assert!(shell.finish().status.success());
}

/// ch03-pid.md, exercise 3, with and without `--init`: the orphan of
/// `(sleep 1 &)` is handed to PID 1, and only an init reaps it. Here the
/// orphan sleeps until the test ends it, once it is seen adopted, and
/// `sleep 3` until the tool is ended: no timing decides the outcome.
fn orphan_is_reaped_only_by_an_init(init: bool) {
    let orphan = unique_number();
    let last = unique_number();
    let script = format!("(sleep 100 {orphan} &); exec sleep 100 {last}");
    let mut args = vec!["--", "sh", "-c", &script];
    if init {
        args.insert(0, "--init");
    }
    let _tool = Started(
        Command::new(bin("ch03-pid"))
            .args(&args)
            .stdin(Stdio::null())
            .spawn()
            .expect("cannot start ch03-pid"),
    );
    let pid1 = the_sleep_with(&last);
    let pid1 = if init { stat(pid1).unwrap().1 } else { pid1 };
    let orphan = the_sleep_with(&orphan);
    let (_, _, started) = stat(orphan).unwrap();
    until("the orphan is adopted by PID 1", || {
        stat(orphan).is_some_and(|(_, parent, _)| parent == pid1)
    });
    assert_eq!(status_field(pid1 as i32, "NSpid").last().unwrap(), "1");
    terminate(orphan);
    if init {
        until("the init reaps the orphan", || {
            stat(orphan).is_none_or(|(_, _, start)| start != started)
        });
        assert_eq!(children(pid1 as i32).len(), 1, "sleep 3 only");
    } else {
        until("the orphan ends", || {
            stat(orphan).is_some_and(|(state, ..)| state == 'Z')
        });
        let (state, parent, _) = stat(orphan).unwrap();
        assert_eq!((state, parent), ('Z', pid1), "a zombie of sleep 3");
    }
}

/// ch03-pid.md, exercise 3, with `--init`: the init reaps the orphan.
#[test]
fn ch03_exercise_3_with_init_the_orphan_is_reaped() {
    if !have_root("ch03_exercise_3_with_init_the_orphan_is_reaped") {
        return;
    }
    orphan_is_reaped_only_by_an_init(true);
}

/// ch03-pid.md, exercise 3, without `--init`: a zombie stays while
/// `sleep 3` is PID 1.
#[test]
fn ch03_exercise_3_without_init_the_orphan_stays_a_zombie() {
    if !have_root("ch03_exercise_3_without_init_the_orphan_stays_a_zombie") {
        return;
    }
    orphan_is_reaped_only_by_an_init(false);
}

/// ch03-pid.md, exercise 3, the solution's last claim: a plain
/// `sleep 1 &` is no orphan, and leaves a zombie with `--init` too.
#[test]
fn ch03_exercise_3_a_child_that_is_no_orphan_stays_a_zombie_anyway() {
    if !have_root(
        "ch03_exercise_3_a_child_that_is_no_orphan_stays_a_zombie_anyway",
    ) {
        return;
    }
    let child = unique_number();
    let last = unique_number();
    let script = format!("sleep 100 {child} & exec sleep 100 {last}");
    let _tool = Started(
        Command::new(bin("ch03-pid"))
            .args(["--init", "--", "sh", "-c", &script])
            .stdin(Stdio::null())
            .spawn()
            .expect("cannot start ch03-pid"),
    );
    let parent = the_sleep_with(&last);
    let child = the_sleep_with(&child);
    assert_eq!(stat(child).unwrap().1, parent, "sh, now sleep 3");
    terminate(child);
    until("the child ends", || {
        stat(child).is_some_and(|(state, ..)| state == 'Z')
    });
    assert_eq!(stat(child).unwrap().1, parent);
}

// ---------------------------------------------------------------------
// Chapter 4.

/// The names in `dir`, sorted.
fn names_in(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// ch04-mount.md, exercise 1: the file lives in a mount the host does
/// not have.
#[test]
fn ch04_exercise_1_the_host_has_no_such_mount() {
    if !have_root("ch04_exercise_1_the_host_has_no_such_mount") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let on_host = names_in("/mnt");
    let mut shell = Shell::start("ch04-mount", &[]);
    let inside = shell.run("mount -t tmpfs none /mnt && touch /mnt/x; ls /mnt");
    assert_eq!(inside, "x\n");
    assert_eq!(names_in("/mnt"), on_host);
    before.assert_unchanged();
    assert!(shell.finish().status.success());
    before.assert_unchanged();
}

/// ch04-mount.md, exercises 2 and 3: what the reader types in the
/// stand-in for a systemd host, a shell of `unshare --mount` (a copy of
/// the host's tree, private, so cut off from the host), to make its
/// mounts shared as systemd makes them.
const STAND_IN: &str = "mount --make-rshared /";

/// The stand-in keeps the host safe also where the host's `/` is
/// shared: exercise 3's leak, made in the stand-in, stays there. The
/// "host" here is itself a scratch mount namespace made shared.
#[test]
fn ch04_the_stand_in_is_cut_off_from_a_shared_host() {
    if !have_root("ch04_the_stand_in_is_cut_off_from_a_shared_host") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let leak = "unshare --mount --propagation unchanged \
                mount -t tmpfs nslab-leak /mnt";
    let out = host_bash(&format!(
        "unshare --mount sh -c \"mount --make-rshared /; \
         unshare --mount sh -c '{STAND_IN}; {leak}'; \
         findmnt -no SOURCE /mnt || echo the-host-is-safe\""
    ));
    assert_eq!(stdout(&out), "the-host-is-safe\n", "{}", stderr(&out));
    before.assert_unchanged();
}

/// ch04-mount.md, exercise 2, in the stand-in for a systemd host: `/`
/// is shared there and private inside.
#[test]
fn ch04_exercise_2_private_inside_a_shared_stand_in() {
    if !have_root("ch04_exercise_2_private_inside_a_shared_stand_in") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let out = host_bash(&format!(
        "unshare --mount sh -c '{STAND_IN}; \
         findmnt -o TARGET,PROPAGATION /; \
         ch04-mount -- findmnt -o TARGET,PROPAGATION /'"
    ));
    assert_eq!(
        stdout(&out),
        "TARGET PROPAGATION\n/      shared\n\
         TARGET PROPAGATION\n/      private\n",
        "{}",
        stderr(&out)
    );
    before.assert_unchanged();
}

/// ch04-mount.md, exercise 3, in the stand-in: without the private
/// mount, a mount made in a new namespace lands in the stand-in's too;
/// with `ch04-mount`, it does not.
#[test]
fn ch04_exercise_3_without_private_a_mount_reaches_the_stand_in() {
    if !have_root(
        "ch04_exercise_3_without_private_a_mount_reaches_the_stand_in",
    ) {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let inner = "mount -t tmpfs none /mnt";
    let out = host_bash(&format!(
        "unshare --mount sh -c \"{STAND_IN}; \
         unshare --mount --propagation unchanged sh -c '{inner}'; \
         findmnt /mnt; umount /mnt; \
         ch04-mount -- sh -c '{inner}'; \
         findmnt /mnt; echo \\$?\""
    ));
    assert_eq!(
        stdout(&out),
        "TARGET SOURCE FSTYPE OPTIONS\n\
         /mnt   none   tmpfs  rw,relatime\n\
         1\n",
        "{}",
        stderr(&out)
    );
    before.assert_unchanged();
}

// ---------------------------------------------------------------------
// Chapter 5.

/// ch05-user.md, exercise 1, as nobody on a root-only machine, typed at
/// the root of a checkout in a directory that only root may enter (as
/// `/root` is): a relative path works there, where a full path does not
/// (for a shell of nobody's; `setpriv` itself still has root's
/// capabilities when it executes the program), and a file that mapped
/// root makes is root's inside and nobody's outside. (The test's file is
/// in a directory of its own instead of `/tmp/x`; dropping the directory
/// removes it.)
#[test]
fn ch05_exercise_1_mapped_roots_file_is_the_users() {
    if !have_root("ch05_exercise_1_mapped_roots_file_is_the_users") {
        return;
    }
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let copy = BinaryCopy::new("ch05-user");
    let home = SharedDir::new();
    let mode = |path: &std::path::Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .unwrap();
    };
    mode(&home.path, 0o700);
    let checkout = home.path.join("nslab");
    std::fs::create_dir_all(checkout.join("target/debug")).unwrap();
    for dir in ["", "target", "target/debug"] {
        mode(&checkout.join(dir), 0o755);
    }
    let program = checkout.join("target/debug/ch05-user");
    std::fs::hard_link(&copy.path, &program).unwrap();
    let as_nobody = || {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .current_dir(&checkout);
        command
    };
    let from_a_shell = |path: &std::path::Path| {
        let mut command = as_nobody();
        command.args(["sh", "-c", "\"$0\" true"]).arg(path);
        command.output().unwrap().status.code()
    };
    assert_eq!(from_a_shell(&program), Some(126));
    assert_eq!(from_a_shell("target/debug/ch05-user".as_ref()), Some(0));

    let dir = SharedDir::new();
    let file = dir.path.join("x");
    let mut command = as_nobody();
    command.arg("target/debug/ch05-user").arg("--map-root");
    let mut shell = Shell::start_command(command);
    let inside =
        shell.run(&format!("touch {0}; stat -c '%U %G' {0}", file.display()));
    assert_eq!(inside, "root root\n");
    let outside = std::fs::metadata(&file).unwrap();
    assert_eq!((outside.uid(), outside.gid()), (65534, 65534));
    assert!(shell.finish().status.success());

    // As an ordinary user with supplementary groups (a uid of no one's
    // here, in groups 27 and 100, as a sudo user is): the file is the
    // user's, and `id` shows the unmapped groups as 65534(nogroup).
    std::fs::remove_file(&file).unwrap();
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=4242", "--regid=4242", "--groups=27,100"])
        .arg(&copy.path)
        .arg("--map-root")
        .current_dir("/");
    let mut shell = Shell::start_command(command);
    let inside = shell.run(&format!("touch {0}; id", file.display()));
    assert_eq!(
        inside,
        "uid=0(root) gid=0(root) groups=0(root),65534(nogroup)\n"
    );
    let outside = std::fs::metadata(&file).unwrap();
    assert_eq!((outside.uid(), outside.gid()), (4242, 4242));
    assert!(shell.finish().status.success());
}

/// ch05-user.md, exercise 2: no effective capability without a map,
/// every one with `--map-root`; the bounding set is full either way.
#[test]
fn ch05_exercise_2_capabilities_with_and_without_a_map() {
    if !have_root("ch05_exercise_2_capabilities_with_and_without_a_map") {
        return;
    }
    let bounding = every_capability();
    let read = |args: &[&str]| {
        let args = [args, &["--", "cat", "/proc/self/status"]].concat();
        let out = chapter("ch05-user", &args).assert().success();
        stdout(out.get_output())
    };
    let nobody = read(&[]);
    assert_eq!(cap(&nobody, "CapEff"), "0000000000000000");
    assert_eq!(cap(&nobody, "CapBnd"), bounding);
    let root = read(&["--map-root"]);
    assert_eq!(cap(&root, "CapEff"), bounding);
    assert_eq!(cap(&root, "CapBnd"), bounding);
}

/// ch05-user.md, exercise 3: the UID mapped from the host, the GID not.
#[test]
fn ch05_exercise_3_uid_mapped_gid_not() {
    if !have_root("ch05_exercise_3_uid_mapped_gid_not") {
        return;
    }
    let mut shell = Shell::start("ch05-user", &[]);
    let pid = shell.pid;
    std::fs::write(format!("/proc/{pid}/uid_map"), "0 0 1\n").unwrap();
    assert_eq!(
        shell.run("id"),
        "uid=0(root) gid=65534(nogroup) groups=65534(nogroup)\n"
    );
    assert_eq!(status_field(pid, "CapEff"), ["0000000000000000"]);
    assert_eq!(
        shell.run("grep CapEff /proc/self/status"),
        format!("CapEff:\t{}\n", every_capability())
    );
    assert!(shell.finish().status.success());
}

/// ch05-user.md, exercise 4: our own proc comes off, the host's does
/// not: it is locked (EINVAL, "not mounted" in util-linux's words).
#[test]
fn ch05_exercise_4_the_hosts_proc_is_locked() {
    if !have_root("ch05_exercise_4_the_hosts_proc_is_locked") {
        return;
    }
    let script = "mount -t proc proc /proc && umount /proc && echo first; \
                  umount /proc; echo \"second: $?\"; findmnt -n -o TARGET /proc";
    let out = chapter("ch05-user", &["--map-root", "--", "sh", "-c", script])
        .assert()
        .success();
    let out = out.get_output();
    assert_eq!(stdout(out), "first\nsecond: 32\n/proc\n");
    assert_eq!(stderr(out), "umount: /proc: not mounted.\n");
}

/// ch05-user.md, exercise 5: a map of two ranges written from the host
/// in one write; inside UID 1000 is UID 100999 outside.
#[test]
fn ch05_exercise_5_two_ranges_from_the_host() {
    if !have_root("ch05_exercise_5_two_ranges_from_the_host") {
        return;
    }
    let mut shell = Shell::start("ch05-user", &[]);
    let pid = shell.pid;
    let map = std::env::temp_dir().join(unique("nslab-map"));
    std::fs::write(&map, "0 0 1\n1 100000 65536\n").unwrap();
    let dd = Command::new("dd")
        .arg(format!("if={}", map.display()))
        .arg(format!("of=/proc/{pid}/uid_map"))
        .arg("bs=4k")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&map);
    assert!(
        dd.status.success(),
        "{}",
        String::from_utf8_lossy(&dd.stderr)
    );
    shell.run("setpriv --reuid=1000 sleep 1000 >/dev/null 2>&1 &");
    // The child is forked; it is `sleep` once setpriv has changed its
    // uid and executed it.
    let deadline = Instant::now() + TIMEOUT;
    let sleep = loop {
        let found = children(pid).into_iter().find(|child| {
            std::fs::read_to_string(format!("/proc/{child}/comm"))
                .is_ok_and(|comm| comm == "sleep\n")
        });
        if let Some(child) = found {
            break child;
        }
        assert!(Instant::now() < deadline, "no sleep under the shell");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status_field(sleep, "Uid"), ["100999"; 4]);
    // The shell has no capability (it was executed before the map), so
    // its builtin kill may not signal UID 1000; a program run now may.
    let refused = shell.run("kill $! 2>&1; echo $?");
    assert!(
        refused.ends_with("Operation not permitted\n1\n"),
        "{refused}"
    );
    assert_eq!(shell.run("env kill $!; wait $!; echo $?"), "143\n");
    assert!(shell.finish().status.success());
}

// ---------------------------------------------------------------------
// Chapter 6.

/// ch06-net.md, exercise 1: a veth pair made by hand in a stand-in for
/// the host's network; ping across; the pair goes with the namespace.
#[test]
fn ch06_exercise_1_a_veth_pair_by_hand() {
    if !have_root("ch06_exercise_1_a_veth_pair_by_hand") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let mut shell = Shell::start("ch06-net", &["--map-root"]);
    let pid = shell.pid;
    // The stand-in says `ready` once its end is up, then waits for a
    // line, and after it for h0 to go.
    let stand_in = format!(
        "ip link add h0 type veth peer name c0 && \
         ip link set c0 netns {pid} && \
         ip addr add 10.0.0.1/24 dev h0 && ip link set h0 up && \
         echo ready && read line && \
         i=0; while ip link show h0 >/dev/null 2>&1; do \
         i=$((i + 1)); [ $i -lt 3000 ] || exit 9; sleep 0.01; done; \
         ip link show h0"
    );
    let (mut stand_in, ready) =
        start_with_line("unshare", &["--net", "sh", "-c", &stand_in]);
    assert_eq!(ready, "ready\n");
    let ping = shell.run(
        "ip addr add 10.0.0.2/24 dev c0; ip link set c0 up; \
         ping -c1 10.0.0.1",
    );
    assert!(
        ping.contains("1 packets transmitted, 1 received, 0% packet loss"),
        "{ping}"
    );
    assert!(shell.finish().status.success());
    let child = &mut stand_in.0;
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1), "{err}");
    assert_eq!(err, "Device \"h0\" does not exist.\n");
    before.assert_unchanged();
}

/// ch06-net.md, exercise 2: one port, a server inside and one on the
/// host; a second on the host is refused. (The host's server takes a
/// free port, which the others then ask for.)
#[test]
fn ch06_exercise_2_two_port_spaces() {
    if !have_root("ch06_exercise_2_two_port_spaces") {
        return;
    }
    let dir = SharedDir::new();
    let dir = dir.path.to_str().unwrap();
    let server = ["-u", "-m", "http.server", "--directory", dir];
    let (_host_server, serving) =
        start_with_line("python3", &[&server[..], &["0"]].concat());
    let port = serving
        .split_whitespace()
        .nth(5)
        .unwrap_or_else(|| panic!("{serving}"))
        .to_string();
    let expected = format!(
        "Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ...\n"
    );
    assert_eq!(serving, expected);
    let inside = format!(
        "ip link set lo up && exec python3 {} {port}",
        server.join(" ")
    );
    let (_inside_server, serving) =
        start_with_line("ch06-net", &["--map-root", "--", "sh", "-c", &inside]);
    assert_eq!(serving, expected);
    let out = Command::new("python3")
        .args([&server[..], &[&port]].concat())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("OSError: [Errno 98] Address already in use"),
        "{}",
        stderr(&out)
    );
}

/// ch06-net.md, exercise 3: `/sys` shows the host's links until a
/// sysfs is mounted inside; without `--map-root` the mount fails.
#[test]
fn ch06_exercise_3_a_sysfs_of_its_own() {
    if !have_root("ch06_exercise_3_a_sysfs_of_its_own") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let script = "ls /sys/class/net; echo --; \
                  mount -t sysfs none /sys && ls /sys/class/net; echo --; \
                  ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d ' '";
    let out = chapter("ch06-net", &["--map-root", "--", "sh", "-c", script])
        .assert()
        .success();
    let text = stdout(out.get_output());
    let parts: Vec<Vec<&str>> = text
        .split("--\n")
        .map(|part| {
            let mut names: Vec<&str> = part.lines().collect();
            names.sort();
            names
        })
        .collect();
    assert_eq!(parts.len(), 3, "{text}");
    assert_eq!(parts[0], names_in("/sys/class/net"), "the host's");
    assert_eq!(parts[1], parts[2], "the namespace's own");
    assert!(parts[1].contains(&"lo"), "{text}");
    let out =
        chapter("ch06-net", &["--", "mount", "-t", "sysfs", "none", "/sys"])
            .assert()
            .failure();
    let err = stderr(out.get_output());
    assert!(err.contains("must be superuser to use mount"), "{err}");
    before.assert_unchanged();
}

// ---------------------------------------------------------------------
// Chapter 7.

/// A `ch07-inspect keep` mount, released when dropped if the test did
/// not get to it.
struct Kept(String);

impl Drop for Kept {
    fn drop(&mut self) {
        if std::path::Path::new(&self.0).exists() {
            let _ = Command::new(bin("ch07-inspect"))
                .args(["release", &self.0])
                .output();
        }
    }
}

/// ch07-inspect.md, exercise 1: a kept network namespace keeps `lo` up
/// after its last process has exited. (The test keeps it at a path of
/// its own under `/run`.)
#[test]
fn ch07_exercise_1_a_kept_namespace_keeps_its_configuration() {
    if !have_root("ch07_exercise_1_a_kept_namespace_keeps_its_configuration") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let kept = Kept(format!("/run/{}", unique("demo-net")));
    let path = kept.0.as_str();
    let mut shell = Shell::start("ch06-net", &["--map-root"]);
    shell.run("ip link set lo up");
    let pid = shell.pid.to_string();
    nslab_testkit::host(
        bin("ch07-inspect").to_str().unwrap(),
        &["keep", &pid, "net", path],
    );
    assert!(shell.finish().status.success());
    let out = chapter("ch07-inspect", &["enter", path, "ip", "addr"])
        .assert()
        .success();
    let text = stdout(out.get_output());
    assert!(text.starts_with("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 "));
    assert!(text.contains("inet 127.0.0.1/8"), "{text}");
    chapter("ch07-inspect", &["release", path])
        .assert()
        .success();
    assert!(!std::path::Path::new(path).exists(), "{path} is left");
    before.assert_unchanged();
}

/// The `NS_GET_PARENT` line of `ch07-inspect tree`'s output.
fn parent_line(tree: &str) -> &str {
    tree.lines()
        .find(|line| line.trim_start().starts_with("NS_GET_PARENT"))
        .unwrap_or_else(|| panic!("no NS_GET_PARENT in {tree}"))
        .trim()
}

/// ch07-inspect.md, exercise 2: the parent of a child PID namespace
/// shows from the host only.
#[test]
fn ch07_exercise_2_only_the_host_sees_the_parent() {
    if !have_root("ch07_exercise_2_only_the_host_sees_the_parent") {
        return;
    }
    let tree = |args: &[&str]| {
        let out = host_bash(&args.join(" "));
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let eperm = "NS_GET_PARENT     EPERM: outside our scope";
    let on_host = tree(&["ch07-inspect tree /proc/self/ns/pid"]);
    assert!(parent_line(&on_host).starts_with(eperm), "{on_host}");
    let mut shell = Shell::start("ch03-pid", &[]);
    let inside = shell.run(&format!(
        "{} tree /proc/self/ns/pid",
        bin("ch07-inspect").display()
    ));
    assert!(parent_line(&inside).starts_with(eperm), "{inside}");
    let from_host =
        tree(&["ch07-inspect tree", &format!("/proc/{}/ns/pid", shell.pid)]);
    assert_eq!(
        parent_line(&from_host),
        format!("NS_GET_PARENT     {}", host_ns("pid"))
    );
    assert!(shell.finish().status.success());
    let unshared = tree(&[
        "ch07-inspect unshare pid -- ch07-inspect tree /proc/self/ns/pid",
    ]);
    assert!(parent_line(&unshared).starts_with(eperm), "{unshared}");
}

/// The `extra µs` of the `mnt` line of `ch07-inspect cost`.
fn mnt_extra(cost: &str) -> f64 {
    let line = cost
        .lines()
        .find(|line| line.starts_with("mnt "))
        .unwrap_or_else(|| panic!("no mnt line in {cost}"));
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

/// ch07-inspect.md, exercise 3, in a stand-in mount namespace: 300 more
/// mounts are 301 more for each new mount namespace to copy, and `cost`
/// shows the price on its `mnt` line (a figure for the reader to
/// compare, not asserted: time on a busy machine is noise).
#[test]
fn ch07_exercise_3_a_new_mount_namespace_copies_every_mount() {
    if !have_root("ch07_exercise_3_a_new_mount_namespace_copies_every_mount") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let script = "\
        count() { unshare --mount sh -c 'wc -l </proc/self/mountinfo'; }
        count; ch07-inspect cost; echo ==
        mount -t tmpfs none /mnt
        for i in $(seq 300); do mkdir /mnt/$i; mount -t tmpfs none /mnt/$i; done
        count; ch07-inspect cost";
    // How much slower is a figure that `cost` prints, not something a
    // test on a shared machine may assert; what makes it slower is: the
    // 301 mounts that each new mount namespace copies.
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", script])
        .env("PATH", on_path())
        .output()
        .expect("cannot run unshare");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (without, with) = text.split_once("==\n").unwrap();
    let mounts = |part: &str| -> u32 {
        part.lines().next().unwrap().trim().parse().unwrap()
    };
    assert_eq!(mounts(with) - mounts(without), 301, "{text}");
    // Both runs print the mnt line, with its note on what it copies.
    for part in [without, with] {
        assert!(mnt_extra(part).is_finite(), "{text}");
        assert!(part.contains("(copies every mount)"), "{text}");
    }
    before.assert_unchanged();
}

/// ch07 exercise 4: a cgroup namespace does not keep root in: through
/// the cgroup2 mount made before the namespace, the shell moves to the
/// hierarchy's root, above its view's root, and sees `0::/..`.
#[test]
fn ch07_exercise_4_the_namespace_does_not_confine() {
    if !have_root("ch07_exercise_4_the_namespace_does_not_confine") {
        return;
    }
    let out = host_bash(
        "unshare --mount bash -c '
            export CG=/mnt/demo-$$
            mount -t cgroup2 none /mnt && mkdir $CG && echo $$ >$CG/cgroup.procs || exit 1
            trap \"echo \\$\\$ >/mnt/cgroup.procs; rmdir $CG\" EXIT
            ch07-inspect unshare cgroup mnt -- bash -c \"
                grep ^0:: /proc/self/cgroup
                echo \\$\\$ >/mnt/cgroup.procs; grep ^0:: /proc/self/cgroup
                echo \\$\\$ >\\$CG/cgroup.procs; grep ^0:: /proc/self/cgroup
            \" 2>/dev/null'",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "0::/\n0::/..\n0::/\n");
}

/// ch02-ipc.md, exercise 4: a limit set inside (no queues at all) holds
/// inside only; the host's `kernel.msgmni` is as it was.
#[test]
fn ch02_exercise_4_a_limit_set_inside_stays_inside() {
    if !have_root("ch02_exercise_4_a_limit_set_inside_stays_inside") {
        return;
    }
    let _host = host_lock();
    let before = HostSnapshot::take();
    let msgmni = || std::fs::read_to_string("/proc/sys/kernel/msgmni").unwrap();
    let on_host = msgmni();
    let out =
        host_bash("ch02-ipc -- sh -c 'sysctl -q -w kernel.msgmni=0; ipcmk -Q'");
    assert!(!out.status.success(), "{out:?}");
    let err = stderr(&out);
    assert!(
        err.contains("create message queue failed: No space left on device"),
        "{err}"
    );
    assert_eq!(msgmni(), on_host, "the host's kernel.msgmni changed");
    before.assert_unchanged();
}

/// ch03-pid.md, exercise 4: after 299 is written to `ns_last_pid`, the
/// next process is PID 300; `exec` starts none, and stays PID 1.
#[test]
fn ch03_exercise_4_the_next_pid_is_300() {
    if !have_root("ch03_exercise_4_the_next_pid_is_300") {
        return;
    }
    let out = host_bash(
        r#"ch03-pid -- sh -c 'echo 299 >/proc/sys/kernel/ns_last_pid; sh -c "echo \$\$"'
           ch03-pid -- sh -c 'echo 299 >/proc/sys/kernel/ns_last_pid; exec sh -c "echo \$\$"'"#,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "300\n1\n");
}

/// ch06-net.md, exercise 4: a UNIX socket with a path is reached from
/// inside ch06-net, through the file system it shares with the host.
/// The test binds it in a stand-in (a mount namespace with a tmpfs on
/// /tmp), so that no file is left behind, however it ends.
#[test]
fn ch06_exercise_4_a_socket_with_a_file_is_reached() {
    if !have_root("ch06_exercise_4_a_socket_with_a_file_is_reached") {
        return;
    }
    // The server listens before its parent prints its PID and exits, so
    // the client never comes too early; it keeps no pipe of ours open
    // (closed 0-2), and the trap ends it and removes its socket, also
    // when the client never connects.
    let script = r#"
        set -e
        sock=/tmp/nslab-demo-$$.sock
        srv=$(python3 -c 'import socket, os, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
pid = os.fork()
if pid:
    print(pid)
else:
    os.closerange(0, 3)
    s.accept()' "$sock")
        trap 'kill $srv 2>/dev/null; rm -f "$sock"' EXIT
        ch06-net -- python3 -c 'import socket, os, sys
e = socket.socket(socket.AF_UNIX).connect_ex(sys.argv[1])
print(os.strerror(e) if e else "connected")' "$sock"
    "#;
    let out = Command::new("sh")
        .args(["-c", script])
        .env("PATH", on_path())
        .stdin(Stdio::null())
        .output()
        .expect("cannot run sh");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "connected\n");
}
