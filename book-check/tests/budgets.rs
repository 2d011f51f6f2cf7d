//! The chapters stay lessons: each chapter's `src/` is short, the code
//! that changes from one chapter to the next is little more than its new
//! flag and setup, and no long stretch of code is copied between
//! chapters or into `ch07-inspect` (the machinery lives in `nslab`).

use std::path::Path;

use book_check::{CHAPTERS, repo_root};

/// The lines of every file in `dir`, in name order.
fn source_lines(dir: &Path) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(file)
                .unwrap()
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The code lines of a Rust file: no blank lines, no comments.
fn code_lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .map(String::from)
        .collect()
}

/// How many lines one side removes and the other adds, as a
/// line-by-line diff counts them (longest common subsequence).
fn changed_lines(old: &[String], new: &[String]) -> usize {
    let mut table = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            table[i][j] = if old[i] == new[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    old.len() + new.len() - 2 * table[0][0]
}

/// The longest run of consecutive lines that `a` and `b` share, as
/// `diff` would show them unchanged.
fn longest_shared_run(a: &[String], b: &[String]) -> usize {
    let mut best = 0;
    let mut previous = vec![0usize; b.len() + 1];
    for line in a {
        let mut current = vec![0usize; b.len() + 1];
        for (j, other) in b.iter().enumerate() {
            if line == other {
                current[j + 1] = previous[j] + 1;
                best = best.max(current[j + 1]);
            }
        }
        previous = current;
    }
    best
}

/// Every line of a file, as `diff` reads it.
fn all_lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn main_rs(chapter: &str) -> std::path::PathBuf {
    repo_root().join(chapter).join("src/main.rs")
}

#[test]
fn each_chapter_is_short() {
    let mut total = 0;
    for chapter in CHAPTERS {
        let lines = source_lines(&repo_root().join(chapter).join("src")).len();
        assert!(
            lines <= 150,
            "{chapter}/src has {lines} lines (at most 150)"
        );
        total += lines;
    }
    assert!(
        total <= 900,
        "the chapters have {total} lines (at most 900)"
    );
}

#[test]
fn consecutive_chapters_differ_by_little_code() {
    let budgets = [6, 30, 45, 70, 6];
    for (pair, budget) in CHAPTERS.windows(2).zip(budgets) {
        let old = code_lines(&main_rs(pair[0]));
        let new = code_lines(&main_rs(pair[1]));
        let changed = changed_lines(&old, &new);
        assert!(
            changed <= budget,
            "{} -> {}: {changed} code lines change (at most {budget})",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn no_long_run_of_code_is_copied() {
    let mut sources: Vec<(String, Vec<String>)> = CHAPTERS
        .iter()
        .map(|chapter| (chapter.to_string(), all_lines(&main_rs(chapter))))
        .collect();
    let inspect = repo_root().join("ch07-inspect/src");
    for entry in std::fs::read_dir(&inspect).unwrap() {
        let path = entry.unwrap().path();
        sources.push((path.display().to_string(), all_lines(&path)));
    }
    for (i, (name_a, a)) in sources.iter().enumerate() {
        for (name_b, b) in &sources[i + 1..] {
            if !name_a.starts_with("ch0")
                || name_b.contains("ch07-inspect/src")
                    && name_a.contains("ch07-inspect/src")
            {
                continue;
            }
            let run = longest_shared_run(a, b);
            assert!(run <= 30, "{name_a} and {name_b} share {run} lines");
        }
    }
}

#[test]
fn the_measures_measure() {
    let lines = |text: &str| -> Vec<String> {
        text.lines().map(String::from).collect()
    };
    assert_eq!(changed_lines(&lines("a\nb\nc"), &lines("a\nx\nc")), 2);
    assert_eq!(changed_lines(&lines("a\nb"), &lines("a\nb\nc")), 1);
    assert_eq!(
        longest_shared_run(&lines("x\na\nb\nc"), &lines("a\nb\nc\ny")),
        3
    );
}
