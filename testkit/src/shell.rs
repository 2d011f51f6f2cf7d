//! A chapter's shell, started with no COMMAND and driven by a test the
//! way a reader drives it from a terminal: lines go to its stdin (a
//! `bash` that reads a pipe runs each line as it comes), and the host
//! side is looked at between two lines, with the host PID that the
//! welcome line ends with.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use std::process::{ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::{TIMEOUT, bin};

/// A line no command prints: the end of one line's output.
const DONE: &str = "nslab-shell-line-done";

/// A chapter's interactive-mode shell, reading its lines from the test.
pub struct Shell {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: BufReader<ChildStderr>,
    watchdog: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
    /// The welcome line, without its newline.
    pub welcome: String,
    /// The host PID at the end of the welcome line: the shell's, or
    /// with `--init` its init's.
    pub pid: i32,
}

/// What a shell left when it ended: its status, and the rest of its
/// stdout and stderr.
pub struct Ended {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Shell {
    /// Starts chapter `name` with `args` (options only, no command).
    pub fn start(name: &str, args: &[&str]) -> Shell {
        let mut command = Command::new(bin(name));
        command.args(args);
        Shell::start_command(command)
    }

    /// Starts `command` (a chapter, maybe run by `setpriv`), reads its
    /// welcome line, and waits until its shell runs lines.
    pub fn start_command(mut command: Command) -> Shell {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let watchdog = watchdog(child.id() as i32);
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut welcome = String::new();
        stderr.read_line(&mut welcome).expect("cannot read stderr");
        let welcome = welcome.trim_end().to_string();
        let pid = welcome_pid(&welcome).unwrap_or_else(|| {
            panic!("no PID in the welcome line {welcome:?}")
        });
        let mut shell = Shell {
            child,
            stdin,
            stdout,
            stderr,
            watchdog: Some(watchdog),
            welcome,
            pid,
        };
        // Once a line has run, the shell has been exec'd.
        shell.run(":");
        shell
    }

    /// The tool's own PID.
    pub fn tool_pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Runs `line` in the shell and returns what it printed on stdout.
    pub fn run(&mut self, line: &str) -> String {
        self.send(&format!("{line}\necho {DONE}\n"));
        let mut text = String::new();
        loop {
            let mut out = String::new();
            let read = self.stdout.read_line(&mut out).unwrap_or(0);
            if read == 0 {
                let mut err = String::new();
                let _ = self.stderr.read_to_string(&mut err);
                panic!("the shell ended during {line:?}: {text}{err}");
            }
            if out == format!("{DONE}\n") {
                return text;
            }
            text.push_str(&out);
        }
    }

    /// Writes `text` to the shell's stdin, without waiting for it to
    /// run.
    pub fn send(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is closed");
        stdin
            .write_all(text.as_bytes())
            .expect("cannot write to the shell");
    }

    /// Closes the shell's stdin (it reads EOF and exits), and waits for
    /// the tool.
    pub fn finish(mut self) -> Ended {
        self.stdin = None;
        let mut stdout = String::new();
        let mut stderr = String::new();
        let _ = self.stdout.read_to_string(&mut stdout);
        let _ = self.stderr.read_to_string(&mut stderr);
        self.stop_watchdog();
        let status = self.child.wait().expect("cannot wait for the tool");
        Ended {
            status,
            stdout,
            stderr,
        }
    }

    fn stop_watchdog(&mut self) {
        if let Some((stop, thread)) = self.watchdog.take() {
            drop(stop);
            let _ = thread.join();
        }
    }
}

impl Drop for Shell {
    /// A test that fails half-way must not leave the tool running.
    fn drop(&mut self) {
        self.stop_watchdog();
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Kills `tool` with SIGKILL when the test has not stopped the watchdog
/// within [`TIMEOUT`]: a shell that hangs fails the test instead of
/// blocking it. The tool is not reaped before the watchdog has stopped,
/// so the PID is still the tool's.
fn watchdog(tool: i32) -> (mpsc::Sender<()>, JoinHandle<()>) {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) =
            stopped.recv_timeout(TIMEOUT)
        {
            eprintln!("the shell ran for more than {TIMEOUT:?}: killed");
            // SAFETY: kill(2) on our unreaped child; it touches no memory.
            unsafe { libc::kill(tool, libc::SIGKILL) };
        }
    });
    (stop, thread)
}

/// The PID that a welcome line ends with: `...; the shell is PID 123 on
/// the host`.
pub fn welcome_pid(welcome: &str) -> Option<i32> {
    let rest = welcome.strip_suffix(" on the host")?;
    let (_, pid) = rest.rsplit_once(" is PID ")?;
    pid.parse().ok()
}

/// The fields of the `name:` line of `/proc/PID/status`.
pub fn status_field(pid: i32, name: &str) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/status: {e}"));
    let line = status
        .lines()
        .find(|line| line.starts_with(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"));
    line.split_whitespace().skip(1).map(String::from).collect()
}

/// The children of `pid`, as `/proc/PID/task/PID/children` lists them.
pub fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|child| child.parse().unwrap())
        .collect()
}

/// The contract's claim about the welcome line: it ends with the host
/// PID of the shell (its parent is the tool, and from ch03 on it is
/// PID 1 of its PID namespace), or with `--init` of the shell's init.
pub fn welcome_line_names_the_shells_host_pid(tool: &str, pid_namespace: bool) {
    let mut shell = Shell::start(tool, &[]);
    assert!(
        shell.welcome.starts_with(&format!("{tool}: new ")),
        "{}",
        shell.welcome
    );
    let pid = shell.pid;
    assert!(
        shell
            .welcome
            .ends_with(&format!("; the shell is PID {pid} on the host")),
        "{}",
        shell.welcome
    );
    assert_eq!(status_field(pid, "PPid"), [shell.tool_pid().to_string()]);
    let inner = if pid_namespace { 1 } else { pid };
    assert_eq!(
        status_field(pid, "NSpid").last().unwrap(),
        &inner.to_string()
    );
    assert_eq!(shell.run("echo $$"), format!("{inner}\n"));
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm, "bash\n");
    assert!(shell.finish().status.success());
    if !pid_namespace {
        return;
    }
    let mut shell = Shell::start(tool, &["--init"]);
    let init = shell.pid;
    assert!(
        shell.welcome.ends_with(&format!(
            "; the shell's init is PID {init} on the host"
        )),
        "{}",
        shell.welcome
    );
    assert_eq!(status_field(init, "NSpid").last().unwrap(), "1");
    // The shell has run a line: it is the init's one child.
    let shells = children(init);
    assert_eq!(shells.len(), 1, "{shells:?}");
    assert_eq!(status_field(shells[0], "NSpid").last().unwrap(), "2");
    assert_eq!(shell.run("echo $$"), "2\n");
    assert!(shell.finish().status.success());
}
