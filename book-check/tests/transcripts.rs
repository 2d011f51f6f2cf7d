//! The transcripts in `book/src/generated/*.txt` against what the
//! chapters print now: the check runs the same sessions again (with
//! `book/scripts/gen-transcripts.sh --out` into a directory under
//! `target/`, all sessions at once) and compares both, with the values
//! that change from run to run (host PIDs, inode numbers, times, the
//! machine's hostname) normalised. The book's transcripts are cut at
//! the terminal's width; the fresh ones are not (`--no-wrap`), and the
//! check joins the book's cut lines again before comparing, so that a
//! PID longer in one run than in the other cuts no line differently. It
//! leaves nothing in the temporary directory, whether it passes or
//! fails. Creating namespaces needs root, so does this check.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use book_check::{
    CHAPTERS, TRANSCRIPT_COLUMNS, book_src, normalise, rejoin, repo_root,
};
use nslab_testkit::{have_root, host_lock};

/// The programs the sessions run: the six chapters and ch07-inspect.
const PROGRAMS: [&str; 7] = [
    "ch01-uts",
    "ch02-ipc",
    "ch03-pid",
    "ch04-mount",
    "ch05-user",
    "ch06-net",
    "ch07-inspect",
];

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; build the chapters first: `cargo build --workspace`",
                path.display()
            )
        })
}

/// The directory of the binaries that cargo built for this run, after
/// checking that none is older than a source file of its crate.
fn chapter_binaries() -> PathBuf {
    assert_eq!(&PROGRAMS[..CHAPTERS.len()], CHAPTERS);
    let first = nslab_testkit::bin(PROGRAMS[0]);
    let dir = first.parent().unwrap().to_path_buf();
    for program in PROGRAMS {
        let binary = modified(&dir.join(program));
        let src = repo_root().join(program).join("src");
        let sources = std::fs::read_dir(&src)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", src.display()));
        for source in sources {
            let source = source.unwrap().path();
            assert!(
                binary >= modified(&source),
                "{program} is older than {}: `cargo build --workspace` first",
                source.display()
            );
        }
    }
    dir
}

fn transcripts_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.ends_with(".txt").then_some(name)
        })
        .collect();
    names.sort();
    names
}

/// A directory that is removed when the check ends, whether it passes
/// or panics.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The lines of `old` and `new` (normalised) around their first
/// difference, as a small diff to print.
fn first_difference(old: &[String], new: &[String]) -> Option<String> {
    if old == new {
        return None;
    }
    let at = old
        .iter()
        .zip(new)
        .position(|(a, b)| a != b)
        .unwrap_or(old.len().min(new.len()));
    let from = at.saturating_sub(2);
    let mut text = format!("first difference at line {}:\n", at + 1);
    for line in old.iter().skip(from).take(at - from) {
        text.push_str(&format!("   {line}\n"));
    }
    for line in old.iter().skip(at).take(4) {
        text.push_str(&format!(" - {line}\n"));
    }
    for line in new.iter().skip(at).take(4) {
        text.push_str(&format!(" + {line}\n"));
    }
    Some(text)
}

#[test]
fn transcripts_match_what_the_chapters_print_now() {
    if !have_root("transcripts_match_what_the_chapters_print_now") {
        return;
    }
    // The sessions make a message queue on the host, for a moment: other
    // tests that check the host is unchanged must not see it.
    let _host = host_lock();
    let bin_dir = chapter_binaries();
    // The fresh transcripts go under target/, not /tmp; they are kept
    // there only when they differ from the book's, for a look.
    let fresh_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("book-transcripts-{}", std::process::id()));
    let fresh = Scratch(fresh_dir.clone());
    let _ = std::fs::remove_dir_all(&fresh.0);
    std::fs::create_dir_all(&fresh.0).unwrap();
    // The script's own scratch (homes, tmux sockets) goes into a
    // directory of ours, so that we can check it left nothing behind.
    let tmp = Scratch(
        std::env::temp_dir()
            .join(format!("nslab-book-check-{}", std::process::id())),
    );
    let _ = std::fs::remove_dir_all(&tmp.0);
    std::fs::create_dir_all(&tmp.0).unwrap();

    let script = repo_root().join("book/scripts/gen-transcripts.sh");
    // live/ is not compared: no need to record it.
    let output = Command::new("bash")
        .arg(&script)
        .arg("--no-live")
        .arg("--no-wrap")
        .arg("--out")
        .arg(&fresh.0)
        .env("NSLAB_BIN_DIR", &bin_dir)
        .env("TMPDIR", &tmp.0)
        .output()
        .expect("cannot run bash");
    assert!(
        output.status.success(),
        "{} failed: {}\n{}{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let left: Vec<_> = std::fs::read_dir(&tmp.0)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert!(left.is_empty(), "the script left files behind: {left:?}");

    let stored_dir = book_src().join("generated");
    let stored = transcripts_in(&stored_dir);
    assert_eq!(
        stored,
        transcripts_in(&fresh.0),
        "the book's transcripts and the sessions the script runs differ"
    );

    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    // Where a program prints its own path (a hint), the script shows a
    // placeholder: a transcript must not depend on where the checkout is,
    // nor on where the script put the copies the sessions run.
    let places = [&bin_dir, &tmp.0].map(|dir| {
        let dir = std::fs::canonicalize(dir).unwrap();
        dir.to_str().unwrap().to_string()
    });
    let mut problems = Vec::new();
    for name in &stored {
        let read =
            |dir: &Path| std::fs::read_to_string(dir.join(name)).unwrap();
        let book = read(&stored_dir);
        // The book's transcript may come from another machine.
        let recorded_on = hostname_in(&book).unwrap_or(hostname.clone());
        let fresh_text = read(&fresh.0);
        for place in places.iter().filter(|p| fresh_text.contains(p.as_str())) {
            problems.push(format!("{name} shows the path {place}"));
        }
        let new = normalise(&fresh_text, &hostname);
        let old = rejoin(&book, &recorded_on, TRANSCRIPT_COLUMNS, &new);
        if let Some(difference) = first_difference(&old, &new) {
            problems.push(format!("{name}, {difference}"));
        }
    }
    if !problems.is_empty() {
        // Keep the fresh transcripts (under target/) for a closer look.
        std::mem::forget(fresh);
        panic!(
            "transcripts no longer match what the chapters print (normalised \
             lines; - book, + now; the fresh ones are in {}); regenerate \
             with `bash book/scripts/gen-transcripts.sh` (as root) and review \
             the change:\n{}",
            fresh_dir.display(),
            problems.join("\n")
        );
    }
}

/// The hostname a transcript was recorded on, read from the first
/// prompt of a shell inside a chapter (`root@HOST:~#`).
fn hostname_in(transcript: &str) -> Option<String> {
    transcript.lines().find_map(|line| {
        let (_, rest) = line.split_once('@')?;
        let (host, _) = rest.split_once(':')?;
        let plain = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        plain.then(|| host.to_string())
    })
}

/// Every line of every transcript fits the terminal that recorded it,
/// and so the book's code column: the script cuts longer ones.
#[test]
fn transcripts_fit_the_code_column() {
    let script = std::fs::read_to_string(
        repo_root().join("book/scripts/gen-transcripts.sh"),
    )
    .unwrap();
    assert!(
        script.contains(&format!("\ncolumns={TRANSCRIPT_COLUMNS}\n")),
        "gen-transcripts.sh: its columns= is not {TRANSCRIPT_COLUMNS}"
    );
    let generated = book_src().join("generated");
    let mut wide = Vec::new();
    for dir in [generated.clone(), generated.join("live")] {
        for name in transcripts_in(&dir) {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            for (number, line) in text.lines().enumerate() {
                if line.chars().count() > TRANSCRIPT_COLUMNS {
                    wide.push(format!("{name}:{}: {line}", number + 1));
                }
            }
        }
    }
    assert!(
        wide.is_empty(),
        "lines wider than {TRANSCRIPT_COLUMNS} columns; regenerate with \
         `bash book/scripts/gen-transcripts.sh` (as root):\n{}",
        wide.join("\n")
    );
}
