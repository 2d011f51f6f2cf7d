//! Tests that need root and did not run, counted where a reader looks.
//!
//! A test that needs root returns early without it (see
//! [`have_root`](crate::have_root)), and the harness then counts it as
//! passed: its own `SKIPPED` line is captured with the rest of a
//! passing test's output. So, when the test process exits, right after
//! the harness's `test result:` line, it says how many of its tests did
//! not run, and why, and how many did not in the whole `cargo test` run
//! so far (the test binaries of one run share a parent, cargo).

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Counts one test that did not run for want of root.
pub(crate) fn count() {
    if SKIPPED.fetch_add(1, Ordering::Relaxed) == 0 {
        crate::at_exit::register(report);
    }
}

/// The report, printed at exit after the harness's summary.
fn report() {
    let here = SKIPPED.load(Ordering::Relaxed);
    let total = add_to_run(here)
        .map(|total| format!("{total} in this run so far"))
        .unwrap_or_else(|| format!("{here} in this run so far, at least"));
    let text = format!(
        "\nnslab: NOT A FULL PASS: {here} of the tests counted as passed \
         above did not run: they need root (creating namespaces), and \
         this run is not root ({total}).\n\
         nslab: run every test as root: `cargo sudo-test --workspace` \
         (it builds as you), or `cargo test --workspace` in a root shell.\n"
    );
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// The start time of process `pid` (in clock ticks after boot), which
/// tells it from a later process with the same PID.
fn start_time(pid: u32) -> Option<u64> {
    Some(nslab::proc_self::Stat::of(pid)?.start_time)
}

/// The tally file of the run that `parent` started at `start`.
fn tally(uid: u32, parent: u32, start: u64) -> PathBuf {
    std::env::temp_dir().join(format!("nslab-skipped-{uid}-{parent}-{start}"))
}

/// Adds `here` to the tally of this run (the test binaries that our
/// parent process starts), and returns the total. Tallies of runs whose
/// parent is gone are removed.
fn add_to_run(here: usize) -> Option<usize> {
    // SAFETY: getuid(2) and getppid(2) cannot fail and touch no memory.
    let (uid, parent) = unsafe { (libc::getuid(), libc::getppid() as u32) };
    let file = tally(uid, parent, start_time(parent)?);
    remove_stale_tallies(uid);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .ok()?
        .write_all(format!("{here}\n").as_bytes())
        .ok()?;
    let text = std::fs::read_to_string(&file).ok()?;
    Some(text.lines().filter_map(|n| n.parse::<usize>().ok()).sum())
}

fn remove_stale_tallies(uid: u32) {
    let prefix = format!("nslab-skipped-{uid}-");
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix))
        else {
            continue;
        };
        let Some((pid, start)) = rest.split_once('-') else {
            continue;
        };
        let (Ok(pid), Ok(start)) = (pid.parse(), start.parse::<u64>()) else {
            continue;
        };
        if start_time(pid) != Some(start) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
