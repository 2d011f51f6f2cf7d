//! Test-only helpers for the nslab chapters.
//!
//! The tests run each chapter's binary as a separate process (the test
//! harness is multithreaded, so no namespace call is made in it). This
//! crate gathers what every chapter's tests need: the root check, a lock
//! that keeps host-observing tests from overlapping, a snapshot of the
//! host's state to prove that a run left it unchanged, and namespace
//! identities to compare.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

mod at_exit;
pub mod failures;
pub mod hostile;
pub mod shell;
mod skipped;
pub mod staging;
pub mod terminal;

pub use assert_cmd;
pub use libc;
pub use predicates;

/// How long any single run of a chapter may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Every namespace type that `/proc/PID/ns` shows a link for.
pub const NS_TYPES: [&str; 8] =
    ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

/// True when the test runs as root. Otherwise says why the test does not
/// run, counts it for the report that the test process prints when it
/// exits, after the harness's summary, and fails when
/// `NSLAB_REQUIRE_ROOT=1` (as in CI), so that a test can never pass by
/// not running.
pub fn have_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(
        std::env::var("NSLAB_REQUIRE_ROOT").as_deref() != Ok("1"),
        "{test}: needs root, and NSLAB_REQUIRE_ROOT=1 forbids skipping it"
    );
    eprintln!("{test}: SKIPPED: creating namespaces needs root");
    skipped::count();
    false
}

pub fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// Serialises the tests that observe or change the host (hostname,
/// mounts, IPC, links), so that one test's temporary change never shows
/// up in another's "unchanged" check: within this test binary, and
/// across test runs side by side (a second `cargo test`, another
/// checkout). The lock is flock(2) on a file in `/run/lock`; it is let
/// go when the returned guard is dropped, or when the process dies.
pub fn host_lock() -> HostLock {
    let dir = std::path::Path::new("/run/lock");
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("nslab-tests-host.lock"))
        .expect("cannot open the host lock file");
    loop {
        // SAFETY: flock(2) on a descriptor we own; it touches no memory.
        let locked = unsafe {
            libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX)
        };
        if locked == 0 {
            return HostLock { _file: file };
        }
        let error = std::io::Error::last_os_error();
        assert_eq!(error.kind(), std::io::ErrorKind::Interrupted, "{error}");
    }
}

/// Holds the host lock until dropped.
pub struct HostLock {
    _file: std::fs::File,
}

/// The environment variable that points the tests at another build of a
/// chapter: the path of a binary whose file name is the chapter's name
/// (`cargo workshop check` sets it to the attendee's own program). Every
/// test finds its binary through [`bin`], so this is the only place that
/// chooses the binary under test.
pub const UNDER_TEST: &str = "NSLAB_UNDER_TEST";

/// The path of a chapter's binary: the one [`UNDER_TEST`] names when its
/// file name is `name`, else the one cargo built for this test run; a
/// staged copy where nobody could not reach it (see [`staging`]).
pub fn bin(name: &str) -> PathBuf {
    // Keeps the constructor below in every test binary that runs a tool.
    std::hint::black_box(&DEFAULT_SIGNALS);
    if let Some(path) = std::env::var_os(UNDER_TEST).map(PathBuf::from)
        && path.file_name() == Some(std::ffi::OsStr::new(name))
    {
        return staging::reachable(path);
    }
    staging::reachable(assert_cmd::cargo::cargo_bin(name))
}

/// Runs before the test harness, as a C constructor: a test process that
/// was started with signals ignored (SIGINT and SIGQUIT in a shell's
/// background job, SIGHUP under `nohup cargo test`) would pass that on
/// to every tool it runs, and the tools rightly keep what they inherit.
/// The tests that check inheritance set up their own callers; all others
/// start from the default. (A new program has no handlers, so each
/// signal is either ignored or at its default here.)
extern "C" fn default_signals() {
    for signal in (1..=libc::SIGRTMAX())
        .filter(|&s| s != libc::SIGKILL && s != libc::SIGSTOP)
    {
        // SAFETY: SIG_DFL installs no code; this runs before any thread.
        // The C library's own real-time signals refuse it (EINVAL).
        unsafe { libc::signal(signal, libc::SIG_DFL) };
    }
}

#[used]
#[unsafe(link_section = ".init_array")]
static DEFAULT_SIGNALS: extern "C" fn() = default_signals;

/// A command that runs chapter `name` with `args`, with a timeout.
pub fn chapter(name: &str, args: &[&str]) -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new(bin(name));
    command.args(args).timeout(TIMEOUT);
    command
}

/// The uid and gid of the unprivileged user the tests run as: nobody.
pub const NOBODY: u32 = 65534;

/// Runs chapter `name` as an unprivileged user (nobody, no capabilities,
/// no supplementary groups). The binary is copied into a fresh directory
/// that nobody can reach (the checkout may sit under a private home);
/// the copy is removed when the returned [`BinaryCopy`] is dropped.
pub fn as_nobody(
    name: &str,
    args: &[&str],
) -> (assert_cmd::Command, BinaryCopy) {
    let copy = BinaryCopy::new(name);
    let mut command = setpriv_nobody();
    command.arg(&copy.path).args(args);
    (command, copy)
}

/// `setpriv` to nobody (uid and gid 65534, no groups), the command to
/// follow.
fn setpriv_nobody() -> assert_cmd::Command {
    let mut command = assert_cmd::Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .timeout(TIMEOUT);
    command
}

/// Like [`as_nobody`], but the copy is found through `PATH`, as a
/// chapter typed by name is: its `argv[0]` is the bare name.
pub fn as_nobody_through_path(
    name: &str,
    args: &[&str],
) -> (assert_cmd::Command, BinaryCopy) {
    let copy = BinaryCopy::new(name);
    let dir = copy.path.parent().expect("a copy has a directory");
    let mut command = setpriv_nobody();
    command
        .arg("env")
        .arg(format!("PATH={}:/usr/bin:/bin", dir.display()))
        .arg(name)
        .args(args);
    (command, copy)
}

/// A world-executable copy of a chapter binary in its own directory.
pub struct BinaryCopy {
    dir: PathBuf,
    pub path: PathBuf,
}

impl BinaryCopy {
    pub fn new(name: &str) -> BinaryCopy {
        let base = staging::reachable_base(&std::env::temp_dir());
        let dir = base.join(unique("nslab-bin"));
        staging::create_dir_with_mode(&dir, 0o755);
        let path = dir.join(name);
        staging::stage(&bin(name), &path);
        BinaryCopy { dir, path }
    }
}

impl Drop for BinaryCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A directory every user may write to, removed when dropped.
pub struct SharedDir {
    pub path: PathBuf,
}

impl SharedDir {
    pub fn new() -> SharedDir {
        let path = std::env::temp_dir().join(unique("nslab-shared"));
        staging::create_dir_with_mode(&path, 0o777);
        SharedDir { path }
    }
}

impl Default for SharedDir {
    fn default() -> Self {
        SharedDir::new()
    }
}

impl Drop for SharedDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The host ends of the veth pairs that `ch06-net --veth` made.
pub fn veth_host_ends() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .expect("cannot list /sys/class/net")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with("veth-nslab"))
        .collect()
}

/// The kernel's overflow uid and gid: what an unmapped id shows as.
pub fn overflow_ids() -> (u32, u32) {
    let read = |file: &str| {
        std::fs::read_to_string(format!("/proc/sys/kernel/{file}"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    (read("overflowuid"), read("overflowgid"))
}

/// stdout of a finished command as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr of a finished command as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The identity of this test process's namespace of `kind`, as the
/// kernel prints it (`uts:[4026531838]`).
pub fn host_ns(kind: &str) -> String {
    let link = std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .unwrap_or_else(|e| panic!("cannot read /proc/self/ns/{kind}: {e}"));
    link.to_string_lossy().into_owned()
}

/// A shell line that prints `kind link` for every namespace type, run
/// inside a chapter to compare its namespaces with the host's.
pub fn print_namespaces_script() -> String {
    NS_TYPES
        .iter()
        .map(|kind| format!("echo {kind} $(readlink /proc/self/ns/{kind})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks, from the output of [`print_namespaces_script`], that exactly
/// the types in `new` differ from the host's and all others are shared.
pub fn assert_namespaces(output: &str, new: &[&str]) {
    for kind in NS_TYPES {
        let line = output
            .lines()
            .find(|line| line.split_whitespace().next() == Some(kind))
            .unwrap_or_else(|| panic!("no {kind} line in {output:?}"));
        let inside = line.split_whitespace().nth(1).unwrap_or("");
        assert!(
            inside.starts_with(&format!("{kind}:[")),
            "bad line {line:?}"
        );
        let host = host_ns(kind);
        let flag = match kind {
            "mnt" => "CLONE_NEWNS".to_string(),
            other => format!("CLONE_NEW{}", other.to_uppercase()),
        };
        if new.contains(&kind) {
            assert_ne!(
                inside, host,
                "inside, /proc/self/ns/{kind} is {inside}, the host's own: the \
                 command is not in a new {kind} namespace; is {flag} in NAMESPACES?"
            );
        } else {
            assert_eq!(
                inside, host,
                "inside, /proc/self/ns/{kind} is {inside}, not the host's \
                 {host}: {flag} is in NAMESPACES, but this chapter does not add it"
            );
        }
    }
}

/// What a run of a chapter must leave as it was.
#[derive(Debug, PartialEq, Eq)]
pub struct HostSnapshot {
    hostname: String,
    domainname: String,
    mounts: BTreeSet<String>,
    message_queues: String,
    shared_memory: String,
    semaphores: String,
    links: BTreeSet<String>,
    proc_mounted: bool,
}

impl HostSnapshot {
    pub fn take() -> Self {
        assert!(
            std::path::Path::new("/proc/self/mountinfo").exists(),
            "the host's /proc is covered by the proc of another PID \
             namespace (/proc/self is gone): a `mount -t proc` inside \
             reached the host; is / made private (MS_REC | MS_PRIVATE) \
             before anything is mounted?"
        );
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
        };
        HostSnapshot {
            hostname: read("/proc/sys/kernel/hostname"),
            domainname: read("/proc/sys/kernel/domainname"),
            mounts: read("/proc/self/mountinfo")
                .lines()
                .map(Into::into)
                .collect(),
            message_queues: read("/proc/sysvipc/msg"),
            shared_memory: read("/proc/sysvipc/shm"),
            semaphores: read("/proc/sysvipc/sem"),
            links: std::fs::read_dir("/sys/class/net")
                .expect("cannot list /sys/class/net")
                .map(|entry| {
                    entry.unwrap().file_name().to_string_lossy().into()
                })
                .collect(),
            proc_mounted: std::path::Path::new("/proc/self/stat").exists(),
        }
    }

    /// Fails the test with the differences when the host changed.
    pub fn assert_unchanged(&self) {
        let now = HostSnapshot::take();
        assert_eq!(
            self.hostname,
            now.hostname,
            "the host's hostname changed from {:?} to {:?}: the command ran in \
             the host's UTS namespace; is CLONE_NEWUTS in NAMESPACES?",
            self.hostname.trim(),
            now.hostname.trim()
        );
        assert_eq!(self.domainname, now.domainname, "the domain name changed");
        let added: Vec<_> = now.mounts.difference(&self.mounts).collect();
        let removed: Vec<_> = self.mounts.difference(&now.mounts).collect();
        assert!(
            added.is_empty() && removed.is_empty(),
            "the host's mount table changed: added {added:#?}, removed \
             {removed:#?}; a mount made inside reached the host (is / made \
             private, MS_REC | MS_PRIVATE, before anything is mounted?)"
        );
        assert_eq!(
            self.message_queues, now.message_queues,
            "the host's IPC message queues changed (is CLONE_NEWIPC in \
             NAMESPACES?)"
        );
        assert_eq!(
            self.shared_memory, now.shared_memory,
            "shared memory changed"
        );
        assert_eq!(self.semaphores, now.semaphores, "semaphores changed");
        assert_eq!(
            self.links, now.links,
            "the host's network links changed (is CLONE_NEWNET in NAMESPACES?)"
        );
        assert!(now.proc_mounted, "the host's /proc is gone");
    }
}

/// PIDs of host processes whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .expect("cannot list /proc")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&pid: &u32| pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|cmdline| {
                    String::from_utf8_lossy(&cmdline).contains(marker)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// A number that no earlier call in this test process returned.
fn next_count() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A name no other run of any test will use.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), next_count())
}

/// A decimal fraction no other test run uses, such as `0.9123400017`:
/// `sleep 100 0.91234...` sleeps a little longer and carries the marker.
pub fn unique_number() -> String {
    format!("0.9{}{:04}", std::process::id(), next_count())
}

/// Runs `script` (after `set -e`) with `sh` in a stand-in host: the
/// namespaces util-linux `unshare` makes with `namespaces` (such as
/// `["--net"]`), so that what the script makes goes with them whether
/// the test passes or fails. `$CHAPTER` names the chapter's binary.
/// Returns its stdout, after checking that it succeeded.
pub fn in_a_stand_in(
    namespaces: &[&str],
    chapter: &str,
    script: &str,
) -> String {
    let out = assert_cmd::Command::new("unshare")
        .args(namespaces)
        .args(["sh", "-c"])
        .arg(format!("set -e\n{script}"))
        .env("CHAPTER", bin(chapter))
        .timeout(TIMEOUT)
        .output()
        .expect("cannot run unshare");
    assert!(
        out.status.success(),
        "the stand-in failed ({:?}): {}{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// Runs a host command to completion and returns its output; panics
/// with its stderr when it fails.
pub fn host(program: &str, args: &[&str]) -> Output {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        stderr(&output)
    );
    output
}

/// The exit status of `child` once it has exited (and is reaped), or
/// `None` if it is still running after `limit`: a wait that cannot hang
/// a test.
pub fn exit_within(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("cannot wait") {
            return Some(status);
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A chapter started in the background with piped stdout, for tests that
/// signal it while it runs.
pub struct Running {
    pub child: std::process::Child,
    pub stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Running {
    /// Starts `program args` and waits until it prints the line `ready`.
    pub fn start(program: &std::path::Path, args: &[&str]) -> Running {
        use std::io::BufRead;
        let mut child = Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program:?}: {e}"));
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).expect("cannot read stdout");
        assert_eq!(line.trim(), "ready", "{program:?} did not get ready");
        Running { child, stdout }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends `signal` to the tool itself (not to its command).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the PID of a child we have not reaped yet.
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0);
    }

    /// Waits at most `limit` for the tool to exit; its exit code and the
    /// rest of its stdout. Kills it and fails the test when it hangs.
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        use std::io::Read;
        let Some(code) = self.exit_within(limit) else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!("the tool did not exit within {limit:?}");
        };
        let mut rest = String::new();
        let _ = self.stdout.read_to_string(&mut rest);
        (code, rest)
    }

    /// Waits at most `limit` for the tool to exit and returns its exit
    /// code, without reading stdout: processes the tool left behind may
    /// still hold the pipe open.
    pub fn reap(mut self, limit: Duration) -> Option<i32> {
        let exited = self.exit_within(limit);
        assert!(exited.is_some(), "the tool did not exit within {limit:?}");
        exited.flatten()
    }

    /// `Some(exit code)` once the tool has exited, `None` if it is still
    /// running after `limit`.
    fn exit_within(&mut self, limit: Duration) -> Option<Option<i32>> {
        exit_within(&mut self.child, limit).map(|status| status.code())
    }

    /// True when the tool is still running after `delay`.
    pub fn still_running_after(&mut self, delay: Duration) -> bool {
        std::thread::sleep(delay);
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Running {
    /// A test that fails half-way must not leave the tool running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Shell text that makes `sh` stop itself with SIGTERM: directly where the
/// command is an ordinary process, and as PID 2 under `--init` where it
/// would be PID 1 (which cannot be killed from inside its namespace).
pub fn killed_by_sigterm_args(pid_namespace: bool) -> Vec<&'static str> {
    let kill_self = ["sh", "-c", "kill -TERM $$; sleep 5"];
    if pid_namespace {
        ["--init", "--"].into_iter().chain(kill_self).collect()
    } else {
        ["--"].into_iter().chain(kill_self).collect()
    }
}

/// A test that needs root: skipped (or failed under
/// `NSLAB_REQUIRE_ROOT=1`) without it.
#[macro_export]
macro_rules! root_test {
    ($name:ident, $body:expr) => {
        #[test]
        fn $name() {
            if !$crate::have_root(stringify!($name)) {
                return;
            }
            $body;
        }
    };
}

/// The command-line contract (see the `nslab` crate doc), as tests. Each chapter's
/// tests call this once with its binary's name, the namespace types it
/// adds, whether it has a PID namespace, and whether it needs root.
#[macro_export]
macro_rules! contract_tests {
    ($bin:literal, new: $new:expr, limit: $limit:literal, pid_namespace: $pid:expr, needs_root: $root:expr $(,)?) => {
        mod contract {
            use std::time::Duration;
            use $crate::predicates::prelude::*;
            use $crate::{chapter, have_root, host_lock, stderr, HostSnapshot};

            #[test]
            fn help_says_what_the_chapter_adds_and_what_to_try() {
                let out = chapter($bin, &["--help"]).assert().success();
                let text = $crate::stdout(&out.get_output());
                assert!(text.contains("Try inside"), "{text}");
                for kind in $new {
                    let flag = format!("CLONE_NEW{}", match *kind {
                        "mnt" => "NS".to_string(),
                        other => other.to_uppercase(),
                    });
                    assert!(text.contains(&flag), "--help must name {flag}");
                }
            }

            #[test]
            fn unknown_option_is_a_one_line_error_with_a_hint() {
                chapter($bin, &["--frobnicate"])
                    .assert()
                    .code(125)
                    .stderr(predicate::str::starts_with(concat!(
                        $bin, ": unknown option '--frobnicate'\nhint: "
                    )));
            }

            #[test]
            fn creates_exactly_its_namespaces() {
                // A chapter that needs no root runs it as anyone.
                if $root && !have_root("creates_exactly_its_namespaces") { return; }
                let script = $crate::print_namespaces_script();
                let out = chapter($bin, &["--", "sh", "-c", &script])
                    .assert()
                    .success();
                $crate::assert_namespaces(&$crate::stdout(&out.get_output()), $new);
            }

            #[test]
            fn missing_command_exits_127() {
                if !have_root("missing_command_exits_127") { return; }
                let _host = host_lock();
                let before = HostSnapshot::take();
                let out = chapter($bin, &["--", "nslab-no-such-command"])
                    .assert()
                    .code(127);
                let err = stderr(&out.get_output());
                assert!(err.starts_with(concat!(
                    $bin, ": cannot run 'nslab-no-such-command': command not found"
                )), "{err}");
                assert!(err.lines().nth(1).unwrap_or("").starts_with("hint: "), "{err}");
                before.assert_unchanged();
            }

            #[test]
            fn non_executable_file_exits_126() {
                if !have_root("non_executable_file_exits_126") { return; }
                chapter($bin, &["--", "/etc/passwd"])
                    .assert()
                    .code(126)
                    .stderr(predicate::str::contains("cannot execute '/etc/passwd'"));
            }

            #[test]
            fn exit_status_is_the_commands_own() {
                if !have_root("exit_status_is_the_commands_own") { return; }
                chapter($bin, &["--", "sh", "-c", "exit 42"]).assert().code(42);
            }

            #[test]
            fn command_killed_by_sigterm_gives_143() {
                if !have_root("command_killed_by_sigterm_gives_143") { return; }
                chapter($bin, &$crate::killed_by_sigterm_args($pid)).assert().code(143);
            }

            #[test]
            fn sigterm_sent_to_the_tool_reaches_the_command() {
                if !have_root("sigterm_sent_to_the_tool_reaches_the_command") { return; }
                let script = "trap 'echo got-term; exit 7' TERM; echo ready; \
                              while :; do sleep 0.1; done";
                let running = $crate::Running::start(
                    &$crate::bin($bin), &["--", "sh", "-c", script]);
                running.signal($crate::libc::SIGTERM);
                let (code, rest) = running.wait(Duration::from_secs(10));
                assert_eq!(code, Some(7));
                assert_eq!(rest.trim(), "got-term");
            }

            #[test]
            fn sighup_sent_to_the_tool_reaches_the_command() {
                if !have_root("sighup_sent_to_the_tool_reaches_the_command") { return; }
                let script = "trap 'exit 9' HUP; echo ready; while :; do sleep 0.1; done";
                let running = $crate::Running::start(
                    &$crate::bin($bin), &["--", "sh", "-c", script]);
                running.signal($crate::libc::SIGHUP);
                assert_eq!(running.wait(Duration::from_secs(10)).0, Some(9));
            }

            $crate::root_test!(command_starts_with_what_the_caller_had, $crate::hostile::command_starts_with_what_the_caller_had($bin));
            $crate::root_test!(sigpipe_reaches_the_command_as_the_caller_left_it, $crate::hostile::sigpipe_reaches_the_command_as_the_caller_left_it($bin, &["--"]));
            $crate::root_test!(ignored_and_blocked_signals_pass_to_the_command, $crate::hostile::ignored_and_blocked_signals_pass_to_the_command($bin));
            $crate::root_test!(an_ignored_signal_is_not_caught, $crate::hostile::an_ignored_signal_is_not_caught($bin));
            $crate::root_test!(sigint_sent_by_a_process_reaches_the_command, $crate::hostile::sigint_sent_by_a_process_reaches_the_command($bin));
            $crate::root_test!(ctrl_c_at_a_terminal_is_not_passed_on, $crate::hostile::ctrl_c_at_a_terminal_is_not_passed_on($bin));
            $crate::root_test!(ignored_sigchld_still_gives_the_status, {
                    $crate::hostile::ignored_sigchld_still_gives_the_status($bin, false);
                    if $pid {
                        $crate::hostile::ignored_sigchld_still_gives_the_status($bin, true);
                    }
                });
            $crate::root_test!(a_death_by_a_real_time_signal_gives_128_plus_n, $crate::hostile::a_death_by_a_real_time_signal_gives_128_plus_n($bin, $pid));
            $crate::root_test!(every_signal_a_process_sends_reaches_the_command, $crate::hostile::every_signal_a_process_sends_reaches_the_command($bin, $pid));
            $crate::root_test!(a_hang_up_reaches_the_command_when_the_tool_leads_the_session, $crate::hostile::a_hang_up_reaches_the_command_when_the_tool_leads_the_session($bin, $pid));
            $crate::root_test!(leftovers_where_proc_is_not_ours, $crate::hostile::leftovers_where_proc_is_not_ours($bin, $pid));
            $crate::root_test!(each_leftover_is_killed_once, if !$pid { $crate::hostile::each_leftover_is_killed_once($bin) });
            $crate::root_test!(nothing_the_command_left_outlives_the_tool, $crate::hostile::nothing_the_command_left_outlives_the_tool($bin));
            $crate::root_test!(nothing_outlives_a_forwarded_sigterm, $crate::hostile::nothing_outlives_a_forwarded_sigterm($bin));
            $crate::root_test!(help_survives_a_full_or_closed_stdout, $crate::hostile::help_survives_a_full_or_closed_stdout($bin));
            $crate::root_test!(closed_standard_fds_reach_the_command_as_dev_null, $crate::hostile::closed_standard_fds_reach_the_command_as_dev_null($bin));
            $crate::root_test!(errors_to_a_full_or_closed_stderr_keep_the_status, $crate::hostile::errors_to_a_full_or_closed_stderr_keep_the_status($bin));
            $crate::root_test!(a_small_address_space_fails_cleanly, $crate::hostile::a_small_address_space_fails_cleanly($bin));
            $crate::root_test!(interactive_shell_names_the_chapter_in_its_prompt, $crate::terminal::the_prompt_names_the_tool($bin));
            $crate::root_test!(a_chapter_inside_a_chapter_names_both_in_its_prompt, $crate::terminal::a_chapter_inside_a_chapter_names_both($bin));
            $crate::root_test!(the_sh_fallback_names_the_chapter_in_its_prompt, $crate::terminal::the_sh_prompt_names_the_tool($bin));
            $crate::root_test!(without_a_terminal_the_shell_reads_stdin, $crate::terminal::without_a_terminal_the_shell_reads_stdin($bin));
            $crate::root_test!(welcome_line_names_the_shells_host_pid, $crate::shell::welcome_line_names_the_shells_host_pid($bin, $pid));
            $crate::root_test!(an_unmapped_uid_is_named_as_the_cause, $crate::failures::an_unmapped_uid_is_named_as_the_cause($bin));
            $crate::root_test!(a_missing_interpreter_is_named, $crate::failures::a_missing_interpreter_is_named($bin, env!("CARGO_TARGET_TMPDIR")));
            $crate::root_test!(only_stdio_is_inherited_without_close_range, $crate::failures::only_stdio_is_inherited_without_close_range($bin));

            #[test]
            fn command_inherits_only_stdin_stdout_stderr() {
                if !have_root("command_inherits_only_stdin_stdout_stderr") { return; }
                // fd 7 is open (without close-on-exec) in the tool itself.
                let line = format!(
                    "exec 7</etc/hostname; exec {} -- ls -l /proc/self/fd",
                    $crate::bin($bin).display()
                );
                let out = $crate::assert_cmd::Command::new("bash")
                    .args(["-c", &line])
                    .timeout($crate::TIMEOUT)
                    .assert()
                    .success();
                let text = $crate::stdout(&out.get_output());
                let fds: Vec<&str> = text
                    .lines()
                    .filter(|l| l.contains(" -> "))
                    .filter_map(|l| l.split(" -> ").next()?.split_whitespace().last())
                    .collect();
                // ls itself holds one more: the directory it is listing.
                assert_eq!(fds.len(), 4, "{text}");
                assert_eq!(&fds[..3], ["0", "1", "2"], "{text}");
                assert!(text.lines().last().unwrap().ends_with("/fd"), "{text}");
            }

            #[test]
            fn killing_the_tool_kills_the_command() {
                if !have_root("killing_the_tool_kills_the_command") { return; }
                // sleep adds up its arguments: a unique fraction is a marker
                // that stays on its command line.
                let marker = $crate::unique_number();
                // With a PID namespace, everything in it must die too.
                let (script, expected) = if $pid {
                    (format!("echo ready; sleep 100 {marker} & exec sleep 100 {marker}"), 2)
                } else {
                    (format!("echo ready; exec sleep 100 {marker}"), 1)
                };
                let running = $crate::Running::start(
                    &$crate::bin($bin), &["--", "sh", "-c", &script]);
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while $crate::processes_with(&marker).len() < expected {
                    assert!(std::time::Instant::now() < deadline, "sleep never started");
                    std::thread::sleep(Duration::from_millis(10));
                }
                running.signal($crate::libc::SIGKILL);
                assert_eq!(running.reap(Duration::from_secs(5)), None, "killed");
                let deadline = std::time::Instant::now() + Duration::from_secs(1);
                while !$crate::processes_with(&marker).is_empty() {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "the command outlived the tool by more than a second"
                    );
                    std::thread::sleep(Duration::from_millis(10));
                }
            }

            #[test]
            fn interactive_shell_says_what_to_type() {
                if !have_root("interactive_shell_says_what_to_type") { return; }
                // stdin is empty: the shell reads EOF and exits at once.
                let out = chapter($bin, &[]).write_stdin("").assert().success();
                let err = stderr(&out.get_output());
                assert!(err.starts_with(concat!($bin, ": new ")), "{err}");
                assert!(err.contains("try `"), "{err}");
            }

            #[test]
            fn reached_limit_names_the_setting() {
                if !have_root("reached_limit_names_the_setting") { return; }
                // Lower the limit to 0 in a scratch user namespace of the
                // test's own (limits are per user namespace): the host's
                // setting is never touched.
                let line = format!(
                    "echo 0 > /proc/sys/user/{} && exec {} -- true",
                    $limit,
                    $crate::bin($bin).display()
                );
                let out = $crate::assert_cmd::Command::new("unshare")
                    .args(["--user", "--map-root-user", "sh", "-c", &line])
                    .timeout($crate::TIMEOUT)
                    .assert()
                    .code(125);
                let err = stderr(&out.get_output());
                let lines: Vec<&str> = err.lines().collect();
                assert_eq!(lines.len(), 2, "{err}");
                assert!(lines[0].contains("ENOSPC"), "{err}");
                assert!(lines[1].starts_with("hint: "), "{err}");
                assert!(lines[1].contains(concat!("user.", $limit, " is 0")), "{err}");
                assert!(lines[1].contains(concat!("/proc/sys/user/", $limit)), "{err}");
            }

            #[test]
            fn without_root_exits_125_with_a_hint_about_root() {
                if !$root { return; }
                let (mut command, _copy) = if $crate::is_root() {
                    let (command, copy) = $crate::as_nobody($bin, &["--", "true"]);
                    (command, Some(copy))
                } else {
                    (chapter($bin, &["--", "true"]), None)
                };
                let out = command.assert().code(125);
                let err = stderr(&out.get_output());
                let lines: Vec<&str> = err.lines().collect();
                assert_eq!(lines.len(), 2, "{err}");
                assert!(lines[0].starts_with(concat!($bin, ": cannot create namespaces")), "{err}");
                assert!(lines[0].contains("EPERM"), "{err}");
                assert!(lines[1].starts_with("hint: ") && lines[1].contains("root"), "{err}");
                assert!(lines[1].contains("cargo sudo-run"), "{err}");
                // And what to do where there is no sudo.
                assert!(lines[1].contains("without sudo `su -c "), "{err}");
                if !$crate::is_root() { return; }
                // Found through PATH, the hint names the full path: the
                // bare name would fail under sudo (its secure_path).
                let (mut command, copy) = $crate::as_nobody_through_path($bin, &["--", "true"]);
                let out = command.assert().code(125);
                let err = stderr(&out.get_output());
                let full = format!("`sudo {}`", copy.path.display());
                assert!(err.contains(&full), "{err}");
            }
        }
    };
}

/// A minimal root file system for `--root`, made by
/// `ch04-mount/make-rootfs.sh` in a fresh directory under `base` (a
/// test's `CARGO_TARGET_TMPDIR`: on the checkout's file system, which is
/// not `noexec`, where `/tmp` may be), removed when dropped. Where
/// `base` is closed to other users (a checkout in a home of mode
/// `0700`), which root in a user namespace cannot pass, the directory
/// is made in one they can reach (see [`staging::reachable_base`]).
pub struct Rootfs {
    pub path: PathBuf,
}

impl Rootfs {
    pub fn new(base: &str) -> Rootfs {
        let base = staging::reachable_base(std::path::Path::new(base));
        let path = base.join(unique("nslab-rootfs"));
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ch04-mount/make-rootfs.sh");
        let out = Command::new("sh")
            .arg(&script)
            .arg(&path)
            .output()
            .expect("cannot run sh");
        assert!(
            out.status.success(),
            "{} failed (is busybox-static installed?): {}",
            script.display(),
            stderr(&out)
        );
        Rootfs { path }
    }

    /// The directory, as an argument.
    pub fn arg(&self) -> &str {
        self.path.to_str().expect("a UTF-8 path")
    }
}

impl Drop for Rootfs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
