//! `check`: build the attendee's program, then run the chapter's own
//! tests against it, bounded (time, processes) and, as root, inside a
//! scratch mount, UTS and IPC namespace whose `/` is shared as on a
//! systemd host; then say in plain words what failed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::steps::Step;
use crate::{my_binary, repo_root, step_dir, target_dir};

/// How long the tests of one chapter may run in all.
pub const TIME_LIMIT_SECS: u32 = 120;
/// How many processes the tests and the program may have at once.
pub const PROCESS_LIMIT: u32 = 2048;

/// True when this process is root.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// A cargo command run at the repository's root (so that its
/// `.cargo/config.toml` applies); under `sudo`, as the user who called
/// sudo, so that `target/` stays theirs.
fn cargo() -> Command {
    let mut command = Command::new(
        std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
    );
    command.current_dir(repo_root());
    if is_root()
        && let (Some(uid), Some(gid)) = (
            std::env::var("SUDO_UID").ok().and_then(|v| v.parse().ok()),
            std::env::var("SUDO_GID").ok().and_then(|v| v.parse().ok()),
        )
    {
        use std::os::unix::process::CommandExt;
        command.uid(uid).gid(gid);
    }
    command
}

/// Why a check did not pass.
#[derive(Debug)]
pub enum Verdict {
    /// Every claim holds; `skipped` ones needed root.
    Passed { claims: usize, skipped: Vec<String> },
    /// The program does not build: the compiler's errors, in short.
    DoesNotBuild(Vec<String>),
    /// Built; the claims need root, and we are not.
    NeedsRoot,
    /// Claims failed: (claim, what was seen).
    Failed {
        claims: usize,
        failed: Vec<(String, String)>,
    },
    /// The run as a whole went wrong (a hang, a fork bomb).
    Stopped(String),
    /// The checker itself could not work (cargo missing, ...).
    Trouble(String),
}

/// Builds the attendee's crate for `step`.
pub fn build(step: &Step) -> Result<PathBuf, Verdict> {
    crate::lay_out(step, None).map_err(|e| {
        Verdict::Trouble(format!(
            "cannot refresh {}: {e}",
            step_dir(step).display()
        ))
    })?;
    let out = cargo()
        .args([
            "build",
            "--quiet",
            "--message-format=short",
            "--manifest-path",
        ])
        .arg(step_dir(step).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .map_err(|e| Verdict::Trouble(format!("cannot run cargo: {e}")))?;
    if out.status.success() {
        return Ok(my_binary(step));
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let main =
        std::fs::read_to_string(crate::my_main(step)).unwrap_or_default();
    let mut errors = Vec::new();
    for line in text.lines().filter(|l| l.contains("error")) {
        if line.starts_with("error: could not compile") {
            continue;
        }
        let line = line.replace(&format!("{}/", step_dir(step).display()), "");
        errors.push(line.clone());
        // `src/main.rs:41:32: error…`: show the line it means.
        if let Some(rest) = line.strip_prefix("src/main.rs:")
            && let Some(n) =
                rest.split(':').next().and_then(|n| n.parse::<usize>().ok())
            && let Some(source) = main.lines().nth(n - 1)
        {
            errors.push(format!("    {}", source.trim()));
        }
    }
    if errors.is_empty() {
        errors.push(text.trim().to_string());
    }
    Err(Verdict::DoesNotBuild(errors))
}

/// The chapter's test executables, built by cargo in the workspace's own
/// `target/` (`--workspace`, so that nothing already built for
/// `cargo test --workspace` is built again). The six chapters' tests are
/// built together, once per run of the workshop.
pub fn chapter_tests(chapter: &str) -> Result<Vec<PathBuf>, Verdict> {
    use std::sync::Mutex;
    static BUILT: Mutex<Option<String>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if built.is_none() {
        *built = Some(build_chapter_tests()?);
    }
    let messages = built.as_deref().unwrap_or_default();
    let manifest = format!("/{chapter}/Cargo.toml\"");
    let executables: Vec<PathBuf> = messages
        .lines()
        .filter(|line| {
            line.contains(&manifest) && line.contains("\"kind\":[\"test\"]")
        })
        .filter_map(|line| {
            let (_, rest) = line.split_once("\"executable\":\"")?;
            Some(PathBuf::from(rest.split('"').next()?))
        })
        .collect();
    if executables.is_empty() {
        return Err(Verdict::Trouble(format!("no tests found for {chapter}")));
    }
    Ok(executables)
}

/// Builds the tests of ch01–ch06; cargo's JSON messages.
fn build_chapter_tests() -> Result<String, Verdict> {
    let mut command = cargo();
    command.args([
        "test",
        "--workspace",
        "--no-run",
        "--quiet",
        "--message-format=json",
    ]);
    for step in &crate::steps::STEPS {
        let tests = repo_root().join(step.chapter).join("tests");
        let entries = std::fs::read_dir(&tests).map_err(|e| {
            Verdict::Trouble(format!("cannot list {}: {e}", tests.display()))
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(name) = name.strip_suffix(".rs") {
                command.args(["--test", name]);
            }
        }
    }
    let out = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Verdict::Trouble(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(Verdict::Trouble(
            "cannot build the chapters' tests (`cargo test --workspace --no-run`)"
                .into(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A directory with the program under test under its chapter's name, and
/// the workspace's other chapters beside it (some tests run one chapter
/// inside another, found in the same directory).
pub fn stage(chapter: &str, program: &Path) -> Result<PathBuf, Verdict> {
    let trouble = |e: std::io::Error| {
        Verdict::Trouble(format!("cannot stage the program: {e}"))
    };
    let dir = target_dir()
        .join("under-test")
        .join(format!("{chapter}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(trouble)?;
    let staged = dir.join(chapter);
    if std::fs::hard_link(program, &staged).is_err() {
        std::fs::copy(program, &staged).map_err(trouble)?;
    }
    for other in crate::steps::STEPS
        .iter()
        .map(|s| s.chapter)
        .chain(["ch07-inspect"])
    {
        let built = repo_root().join("target/debug").join(other);
        if other != chapter && built.exists() {
            std::os::unix::fs::symlink(&built, dir.join(other))
                .map_err(trouble)?;
        }
    }
    Ok(staged)
}

/// The shell that runs a test executable, bounded. As root: a pids
/// cgroup (v2 or v1) and a scratch mount, UTS and IPC namespace whose
/// `/` is made shared, as on a systemd host. Otherwise RLIMIT_NPROC.
const BOUNDED: &str = r#"
limit=$1 secs=$2; shift 2
if [ "$(id -u)" = 0 ]; then
    cg= base=
    for base in /sys/fs/cgroup/pids /sys/fs/cgroup; do
        [ -d "$base" ] || continue
        # Tidy the cgroups of earlier checks that were killed midway.
        for old in "$base"/nslab-workshop-*; do
            [ -d "$old" ] && ! kill -0 "${old##*-}" 2>/dev/null && rmdir "$old" 2>/dev/null
        done
        d=$base/nslab-workshop-$$
        mkdir "$d" 2>/dev/null || continue
        if [ -e "$d/pids.max" ] && echo "$limit" > "$d/pids.max" &&
           echo $$ > "$d/cgroup.procs"; then
            cg=$d; break
        fi
        rmdir "$d"
    done
    timeout -s KILL "$secs" unshare --mount --uts --ipc -- \
        sh -c 'mount --make-rshared / && exec "$@"' sh "$@"
    status=$?
    if [ -n "$cg" ]; then
        grep -q '^max [1-9]' "$cg/pids.events" 2>/dev/null && echo "nslab-workshop: process limit reached"
        echo $$ > "$base/cgroup.procs"
        [ -e "$cg/cgroup.kill" ] && echo 1 > "$cg/cgroup.kill"
        for pid in $(cat "$cg/cgroup.procs"); do kill -KILL "$pid" 2>/dev/null; done
        for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
    fi
else
    mine=$(ps -U "$(id -u)" -o pid= | wc -l)
    prlimit --nproc=$((mine + limit)) --pid $$ 2>/dev/null
    timeout -s KILL "$secs" "$@"
    status=$?
fi
[ "$status" = 137 ] && echo "nslab-workshop: time limit reached"
exit "$status"
"#;

/// One test executable's run.
struct Run {
    output: String,
}

fn run_bounded(
    executable: &Path,
    under_test: &Path,
    sudo: bool,
    filters: &[&str],
) -> Result<Run, Verdict> {
    let log = under_test.parent().unwrap_or(under_test).join(format!(
        "{}.log",
        executable.file_name().unwrap_or_default().to_string_lossy()
    ));
    let file = std::fs::File::create(&log).map_err(|e| {
        Verdict::Trouble(format!("cannot write {}: {e}", log.display()))
    })?;
    let err = file
        .try_clone()
        .map_err(|e| Verdict::Trouble(e.to_string()))?;
    let mut command = if sudo {
        // sudo may reset the environment: the variables go on env's
        // command line.
        let mut c = Command::new("sudo");
        c.arg("env")
            .arg(format!("{}={}", nslab_env(), under_test.display()))
            .args(["RUST_BACKTRACE=0", "sh"]);
        c
    } else {
        Command::new("sh")
    };
    command
        .args(["-c", BOUNDED, "sh"])
        .arg(PROCESS_LIMIT.to_string())
        .arg(TIME_LIMIT_SECS.to_string())
        .arg(executable)
        .args(["--color", "never", "--show-output"])
        .args(filters)
        .env(nslab_env(), under_test)
        .env("RUST_BACKTRACE", "0")
        .current_dir(repo_root())
        .stdin(if sudo {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(file)
        .stderr(err);
    command
        .status()
        .map_err(|e| Verdict::Trouble(format!("cannot run the tests: {e}")))?;
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    Ok(Run { output })
}

/// testkit's variable for the binary under test.
fn nslab_env() -> &'static str {
    "NSLAB_UNDER_TEST"
}

/// Runs the chapter's tests against `program` and judges them.
pub fn judge(step: &Step, program: &Path, sudo: bool) -> Verdict {
    judge_some(step, program, sudo, &[])
}

/// Like [`judge`], with only the tests whose names contain one of
/// `filters` (all of them when it is empty).
pub fn judge_some(
    step: &Step,
    program: &Path,
    sudo: bool,
    filters: &[&str],
) -> Verdict {
    if step.needs_root && !is_root() && !sudo {
        return Verdict::NeedsRoot;
    }
    // Built first: building the tests also builds the chapters that the
    // stage links to.
    let executables = match chapter_tests(step.chapter) {
        Ok(e) => e,
        Err(verdict) => return verdict,
    };
    let staged = match stage(step.chapter, program) {
        Ok(s) => s,
        Err(verdict) => return verdict,
    };
    let verdict = judge_staged(step, &executables, &staged, sudo, filters);
    if let Some(dir) = staged.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    verdict
}

fn judge_staged(
    step: &Step,
    executables: &[PathBuf],
    staged: &Path,
    sudo: bool,
    filters: &[&str],
) -> Verdict {
    let mut claims = 0;
    let mut failed = Vec::new();
    let mut skipped = Vec::new();
    for executable in executables {
        let run = match run_bounded(executable, staged, sudo, filters) {
            Ok(run) => run,
            Err(verdict) => return verdict,
        };
        if run.output.contains("nslab-workshop: process limit reached") {
            return Verdict::Stopped(format!(
                "your program started more than {PROCESS_LIMIT} processes at once \
                 (a fork without end?); the check stopped them all"
            ));
        }
        if run.output.contains("nslab-workshop: time limit reached") {
            return Verdict::Stopped(format!(
                "the tests of {} were still running after {TIME_LIMIT_SECS} s \
                 (does your program hang?); the check stopped them",
                step.chapter
            ));
        }
        let report = parse(&run.output);
        claims += report.results.len();
        for (name, message) in report.failures {
            failed.push((name, plain(&message)));
        }
        skipped.extend(report.skipped);
        if report.results.is_empty() && filters.is_empty() {
            return Verdict::Trouble(format!(
                "the tests did not run:\n{}",
                run.output.lines().take(20).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    if failed.is_empty() {
        Verdict::Passed { claims, skipped }
    } else {
        Verdict::Failed { claims, failed }
    }
}

/// What libtest printed, taken apart.
#[derive(Debug, Default)]
pub struct Report {
    /// (test, passed).
    pub results: Vec<(String, bool)>,
    /// (test, its panic message).
    pub failures: Vec<(String, String)>,
    /// Tests that said they were SKIPPED.
    pub skipped: Vec<String>,
}

/// Takes libtest's output apart: results, failure messages, skips.
pub fn parse(output: &str) -> Report {
    let mut report = Report::default();
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("test ")
            && let Some((name, outcome)) = rest.rsplit_once(" ... ")
        {
            match outcome.trim() {
                "ok" => report.results.push((name.to_string(), true)),
                "FAILED" => report.results.push((name.to_string(), false)),
                _ => {}
            }
        }
        if let Some((name, _)) = line.split_once(": SKIPPED") {
            report.skipped.push(name.trim().to_string());
        }
    }
    // The failures section: `---- name stdout ----` then its output.
    let failures = output
        .rsplit_once("\nfailures:\n\n")
        .map(|(_, f)| f)
        .unwrap_or("");
    let mut current: Option<(String, String)> = None;
    for line in failures.lines() {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            report.failures.extend(current.take());
            current = Some((name.to_string(), String::new()));
        } else if line == "failures:" {
            break;
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    report.failures.extend(current);
    report.failures.retain(|(name, _)| {
        report.results.iter().any(|(n, ok)| n == name && !ok)
    });
    report
}

/// A test's failure output, in plain words: the test's own assertion
/// message, what the program said, never the whole dump.
pub fn plain(failure: &str) -> String {
    // The program's own panic (a `todo!()` reached, most often).
    for line in failure.lines() {
        if line.contains("panicked at") && line.contains("src/main.rs") {
            let message = failure
                .split(line)
                .nth(1)
                .and_then(|rest| rest.lines().find(|l| !l.trim().is_empty()))
                .unwrap_or("")
                .trim()
                .trim_matches('`');
            let place = line
                .split("panicked at ")
                .nth(1)
                .unwrap_or("")
                .trim_end_matches(':');
            return format!("your program panicked at {place}: {message}");
        }
    }
    let Some((_, after)) = failure.split_once("panicked at ") else {
        return failure.trim().to_string();
    };
    let message: Vec<&str> = after
        .lines()
        .skip(1)
        .take_while(|l| {
            !l.starts_with("note: run with")
                && !l.starts_with("stack backtrace")
        })
        .collect();
    let message = message.join("\n");
    if message.contains("code=<interrupted>") || message.contains("timeout") {
        return "your program did not finish within 30 s and was stopped (does it hang?)".to_string();
    }
    // assert_cmd's dump: the exit code and what the program said.
    if message.starts_with("Unexpected ") {
        let code = message
            .lines()
            .find_map(|l| l.strip_prefix("code="))
            .unwrap_or("?");
        let said = message
            .split("stderr=```")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .unwrap_or("")
            .trim();
        let said = if said.is_empty() {
            "nothing".to_string()
        } else {
            said.to_string()
        };
        return format!(
            "the program exited with status {code}; it said: {said}"
        );
    }
    for prefix in [
        "assertion `left == right` failed",
        "assertion `left != right` failed",
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (text, dump) =
                rest.split_once("\n  left:").unwrap_or((rest, ""));
            let text = text.trim_start_matches(':').trim();
            let seen = dump.lines().next().unwrap_or("").trim();
            let wanted = dump
                .lines()
                .find_map(|l| l.trim().strip_prefix("right:"))
                .unwrap_or("")
                .trim();
            return if text.is_empty() {
                format!("expected {wanted}, saw {seen}")
            } else {
                text.to_string()
            };
        }
    }
    message.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\nrunning 3 tests\n\
        test a ... ok\ntest b ... FAILED\ntest c ... ok\n\n\
        successes:\n\n---- c stdout ----\nc: SKIPPED: needs root\n\n\
        failures:\n\n---- b stdout ----\n\
        thread 'b' panicked at ch03-pid/tests/pid.rs:24:5:\n\
        assertion `left == right` failed: `echo $$` printed 4711\n  left: \"4711\"\n right: \"1\"\n\
        note: run with `RUST_BACKTRACE=1`\n\n\
        failures:\n    b\n\ntest result: FAILED. 2 passed; 1 failed\n";

    #[test]
    fn a_failure_reads_as_the_tests_own_message() {
        let report = parse(OUTPUT);
        assert_eq!(report.results.len(), 3);
        assert_eq!(report.skipped, ["c"]);
        assert_eq!(report.failures.len(), 1);
        assert_eq!(plain(&report.failures[0].1), "`echo $$` printed 4711");
    }

    #[test]
    fn a_panic_of_the_program_names_its_place() {
        let failure = "thread 'x' panicked at ch01-uts/tests/uts.rs:3:4:\n\
            Unexpected failure.\ncode=101\nstderr=```\n\
            thread 'main' panicked at src/main.rs:52:40:\nnot yet implemented: clone(2)\n```\n";
        assert_eq!(
            plain(failure),
            "your program panicked at src/main.rs:52:40: not yet implemented: clone(2)"
        );
    }
}
