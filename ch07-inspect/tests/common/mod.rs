//! Helpers for the ch07-inspect tests: run the tool, and keep a chapter
//! running in the background while the tool looks at it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use nslab_testkit::{TIMEOUT, bin, stdout};

/// `ch07-inspect args`, run to completion with a timeout.
pub fn inspect(args: &[&str]) -> nslab_testkit::assert_cmd::Command {
    let mut command =
        nslab_testkit::assert_cmd::Command::new(bin("ch07-inspect"));
    command.args(args).timeout(TIMEOUT);
    command
}

/// Runs ch07-inspect, asserts that it succeeds, returns its stdout.
pub fn inspect_ok(args: &[&str]) -> String {
    let out = inspect(args).assert().success();
    stdout(out.get_output())
}

/// Asserts a one-line error with a hint, exit status 125.
pub fn assert_one_line_error(
    out: &std::process::Output,
    message: &str,
    hint: &str,
) {
    let err = nslab_testkit::stderr(out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("ch07-inspect: ") && lines[0].contains(message),
        "{err}"
    );
    assert!(
        lines[1].starts_with("hint: ") && lines[1].contains(hint),
        "{err}"
    );
}

/// A program left running in the background: it prints `ready`, then
/// waits for its stdin to close (a `read x` in the shell script).
pub struct Background {
    child: Child,
    stdin: Option<ChildStdin>,
    pub stdout: BufReader<ChildStdout>,
}

impl Background {
    pub fn start(program: &Path, args: &[&str]) -> Background {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program:?}: {e}"));
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).expect("cannot read stdout");
        assert_eq!(line.trim(), "ready", "{program:?} did not get ready");
        Background {
            child,
            stdin,
            stdout,
        }
    }

    /// The next line the program prints, without its newline.
    pub fn next_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("cannot read stdout");
        line.trim_end_matches('\n').to_string()
    }

    /// Writes a line to the program's stdin (a `read` in its script).
    pub fn say(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin is closed");
        writeln!(stdin, "{line}").expect("cannot write to stdin");
    }

    /// The PID of the program we started (a chapter: the tool).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The first child of the tool: a chapter's container process.
    pub fn container_pid(&self) -> i32 {
        let path = format!("/proc/{0}/task/{0}/children", self.pid());
        let text = std::fs::read_to_string(&path).expect("children");
        text.split_whitespace()
            .next()
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("{path} lists no child: {text:?}"))
    }

    /// Closes stdin (the script's `read` returns) and waits for the end.
    pub fn stop(mut self) -> Option<i32> {
        drop(self.stdin.take());
        let limit = Duration::from_secs(10);
        nslab_testkit::exit_within(&mut self.child, limit)
            .expect("the program did not exit")
            .code()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // A failed test must not leave the program running.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A mount namespace of the test's own (private), held by a waiting
/// process. Tools run in it through `nsenter -m`, which execs them (the
/// PID is the tool's, for signals), so that their mounts never show in
/// the host's mount table, where another crate's tests, run beside
/// ours, compare it with a snapshot.
pub struct ScratchMounts(Background);

impl ScratchMounts {
    pub fn new() -> ScratchMounts {
        ScratchMounts(Background::start(
            Path::new("unshare"),
            &[
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                "echo ready; read x || :",
            ],
        ))
    }

    /// `program args`, run in the scratch mount namespace.
    pub fn command(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new("nsenter");
        command
            .args(["-t", &self.0.pid().to_string(), "-m", "--"])
            .arg(program)
            .args(args);
        command
    }

    /// `ch07-inspect args` in the scratch mount namespace.
    pub fn inspect(&self, args: &[&str]) -> Command {
        self.command(&bin("ch07-inspect"), args)
    }

    /// Runs `ch07-inspect args` there, asserts success, returns stdout.
    pub fn inspect_ok(&self, args: &[&str]) -> String {
        let out = self.inspect(args).output().expect("cannot run nsenter");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            nslab_testkit::stderr(&out)
        );
        stdout(&out)
    }

    /// How many mounts the scratch namespace has at `path`.
    pub fn mounts_at(&self, path: &str) -> usize {
        std::fs::read_to_string(format!("/proc/{}/mountinfo", self.0.pid()))
            .expect("mountinfo")
            .lines()
            .filter(|l| l.split_whitespace().nth(4) == Some(path))
            .count()
    }
}

impl Default for ScratchMounts {
    fn default() -> Self {
        ScratchMounts::new()
    }
}

/// The inode of /proc/PID/ns/KIND (of this test process for "self").
pub fn ns_inode(pid: &str, kind: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/ns/{kind}"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/ns/{kind}: {e}"))
        .ino()
}

/// The words of the line of `text` whose first word is `first`.
pub fn line_starting<'a>(text: &'a str, first: &str) -> Vec<&'a str> {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.first() == Some(&first))
        .unwrap_or_else(|| {
            panic!("no line starting with {first:?} in:\n{text}")
        })
}

/// A scratch directory that is removed, with what is in it, at the end.
pub struct ScratchDir(pub std::path::PathBuf);

impl ScratchDir {
    pub fn new() -> ScratchDir {
        let path =
            std::env::temp_dir().join(nslab_testkit::unique("nslab-ch07"));
        std::fs::create_dir(&path).expect("cannot create a scratch dir");
        ScratchDir(path)
    }

    pub fn join(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Only files and empty directories: a failed test may have left
        // a mount, which we must not delete through (remove_dir refuses
        // a mount point, EBUSY, and a directory with anything in it).
        if let Ok(entries) = std::fs::read_dir(&self.0) {
            for entry in entries.flatten() {
                let path = entry.path();
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                let _ = if is_dir {
                    std::fs::remove_dir(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Every link in /proc/PID/ns.
pub const LINKS: [&str; 10] = [
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "time_for_children",
    "user",
    "uts",
];

/// What `lsns ARGS` prints. lsns gives up when a process that it is
/// reading exits under it, which happens on a busy machine: ask again,
/// up to five times.
pub fn lsns(args: &[&str]) -> String {
    (0..5)
        .map(|_| Command::new("lsns").args(args).output())
        .find_map(|out| out.ok().filter(|out| out.status.success()))
        .map(|out| stdout(&out))
        .unwrap_or_else(|| stdout(&nslab_testkit::host("lsns", args)))
}

/// Waits until process `pid` (not necessarily our child) has exited,
/// through a pidfd, which becomes readable when it does: no polling,
/// and a PID reused meanwhile is not mistaken for it. Call it while
/// the process is known to run.
pub struct Exit(std::os::fd::OwnedFd);

impl Exit {
    pub fn watch(pid: i32) -> Exit {
        use nslab_testkit::libc;
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open(2) takes a PID and flags and returns a new
        // fd or -1; it touches no memory of ours.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        assert!(
            fd >= 0,
            "pidfd_open {pid}: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: the kernel just gave us this fd; nothing else owns it.
        Exit(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) })
    }

    /// Blocks until the process has exited (10 s at most).
    pub fn wait(self) {
        use nslab_testkit::libc;
        use std::os::fd::AsRawFd;
        let mut poll = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            // SAFETY: one pollfd, which lives on our stack for the call.
            let n = unsafe { libc::poll(&mut poll, 1, 10_000) };
            if n > 0 {
                return;
            }
            let error = std::io::Error::last_os_error();
            assert!(
                n < 0 && error.kind() == std::io::ErrorKind::Interrupted,
                "the process did not exit: {error}"
            );
        }
    }
}
