//! The book's pages against the sources: every `{{#include}}` names a
//! file and anchor that exist, Rust code enters pages only through
//! includes, the generated diffs match the chapters, `SUMMARY.md`
//! links only pages that exist (and every page is linked), and every
//! heading has an explicit id.

use std::process::Command;

use book_check::{
    CHAPTERS, anchored_lines, anchors, book_src, code_blocks, heading_id,
    headings, includes, markdown_files, read, repo_root, shown,
};

#[test]
fn every_include_names_an_existing_file_and_anchor() {
    let mut problems = Vec::new();
    let mut count = 0;
    for page in markdown_files(&book_src()) {
        let dir = page.parent().unwrap();
        for include in includes(&read(&page)) {
            count += 1;
            let at = format!("{}:{}", shown(&page), include.line);
            let target = dir.join(&include.path);
            let Ok(source) = std::fs::read_to_string(&target) else {
                problems.push(format!(
                    "{at}: includes {}, which does not exist",
                    include.path
                ));
                continue;
            };
            if let Some(anchor) = include.anchor() {
                match anchored_lines(&source, anchor) {
                    None => problems.push(format!(
                        "{at}: {} has no `ANCHOR: {anchor}` … \
                         `ANCHOR_END: {anchor}`",
                        include.path
                    )),
                    Some(lines)
                        if lines.iter().all(|l| l.trim().is_empty()) =>
                    {
                        problems.push(format!(
                            "{at}: anchor {anchor} in {} is empty",
                            include.path
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    assert!(count > 0, "no {{{{#include}}}} found: is book/src there?");
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
}

#[test]
fn rust_code_enters_pages_only_through_includes() {
    let mut problems = Vec::new();
    for page in markdown_files(&book_src()) {
        for (line, info, body) in code_blocks(&read(&page)) {
            let language = info.split([',', ' ']).next().unwrap_or("");
            if language != "rust" {
                continue;
            }
            let pasted: Vec<&String> = body
                .iter()
                .filter(|l| !l.trim().is_empty())
                .filter(|l| !l.trim_start().starts_with("{{#include"))
                .collect();
            if !pasted.is_empty() {
                problems.push(format!(
                    "{}:{line}: a rust block with pasted code: {:?}",
                    shown(&page),
                    pasted[0]
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "pages must include code from the chapters' sources:\n{}",
        problems.join("\n")
    );
}

/// What `book/scripts/gen-diffs.sh` writes for `old` → `new`: the same
/// command, with the `//!` narration left out of both sides.
fn diff_now(old: &str, new: &str) -> String {
    let old = format!("{old}/src/main.rs");
    let new = format!("{new}/src/main.rs");
    let output = Command::new("bash")
        .args([
            "-c",
            r#"diff -u --label "$1" --label "$2" \
                <(grep -v '^//!' "$1") <(grep -v '^//!' "$2")"#,
            "diff_now",
            &old,
            &new,
        ])
        .current_dir(repo_root())
        .output()
        .expect("cannot run bash");
    assert_eq!(
        output.status.code(),
        Some(1),
        "diff {old} {new}: expected differences, got {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let diff = String::from_utf8(output.stdout).expect("the sources are UTF-8");
    assert!(
        !diff
            .lines()
            .any(|line| line.get(1..).is_some_and(|l| l.starts_with("//!"))),
        "diff {old} {new}: the narration must not be in the diff"
    );
    diff
}

#[test]
fn generated_diffs_match_the_sources() {
    let mut stale = Vec::new();
    for pair in CHAPTERS.windows(2) {
        let number = pair[1].split('-').next().unwrap();
        let file = book_src().join(format!("generated/{number}.diff"));
        let stored = std::fs::read_to_string(&file).unwrap_or_default();
        if stored != diff_now(pair[0], pair[1]) {
            stale.push(shown(&file));
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {}; regenerate with `bash book/scripts/gen-diffs.sh`",
        stale.join(", ")
    );
}

/// The targets of the Markdown links in SUMMARY.md, in order.
fn summary_links(summary: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = summary;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            links.push(rest[..end].trim().to_string());
            rest = &rest[end..];
        }
    }
    links
}

/// The section numbers mdBook gives the numbered chapters of
/// SUMMARY.md (the list items: `1.`, `1.1.`, `2.`, counted on across
/// part titles), as (number, link target); prefix and suffix chapters,
/// the links outside the list, have none.
fn summary_numbers(summary: &str) -> Vec<(String, String)> {
    let mut numbers = Vec::new();
    // The counters of the open levels, and the indentation of each.
    let mut levels: Vec<(usize, usize)> = Vec::new();
    for line in summary.lines() {
        let indent = line.len() - line.trim_start().len();
        let Some(item) = line.trim_start().strip_prefix("- [") else {
            continue;
        };
        while levels.last().is_some_and(|&(at, _)| at > indent) {
            levels.pop();
        }
        match levels.last_mut() {
            Some((at, count)) if *at == indent => *count += 1,
            _ => levels.push((indent, 1)),
        }
        let number: String = levels
            .iter()
            .map(|(_, count)| format!("{count}."))
            .collect();
        let target = summary_links(item).pop().unwrap_or_default();
        numbers.push((number, target));
    }
    numbers
}

/// The sidebar numbers the chapters, and the pages call chapter `chNN`
/// "chapter NN" (第 NN 章): a page between two chapters must not take a
/// chapter's number.
#[test]
fn chapters_have_their_own_numbers_in_the_sidebar() {
    let summary = read(&book_src().join("SUMMARY.md"));
    let numbers = summary_numbers(&summary);
    let mut problems = Vec::new();
    let mut chapters = 0;
    for (number, target) in &numbers {
        let Some(chapter) = target
            .strip_prefix("ch")
            .and_then(|rest| rest.get(..2))
            .and_then(|digits| digits.parse::<u32>().ok())
        else {
            continue;
        };
        chapters += 1;
        if *number != format!("{chapter}.") {
            problems.push(format!("{target} is numbered {number}"));
        }
    }
    assert_eq!(chapters, 7, "SUMMARY.md numbers {numbers:?}");
    assert!(
        problems.is_empty(),
        "SUMMARY.md: a chapter's number in the sidebar must be the one \
         its name and the text give it (make the pages between chapters \
         sub-chapters, or prefix or suffix chapters):\n{}",
        problems.join("\n")
    );
}

#[test]
fn summary_numbers_are_counted_as_mdbook_counts_them() {
    let summary = "# S\n\n[Intro](i.md)\n\n# One\n\n- [a](ch01-a.md)\n  \
                   - [m](m.md)\n- [b](ch02-b.md)\n\n# Two\n\n- [c](c.md)\n\
                   \n---\n\n[End](e.md)\n";
    let numbers = summary_numbers(summary);
    let numbers: Vec<(&str, &str)> = numbers
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    assert_eq!(
        numbers,
        [
            ("1.", "ch01-a.md"),
            ("1.1.", "m.md"),
            ("2.", "ch02-b.md"),
            ("3.", "c.md")
        ]
    );
}

#[test]
fn summary_links_only_existing_pages() {
    let summary = read(&book_src().join("SUMMARY.md"));
    let links = summary_links(&summary);
    assert!(!links.is_empty(), "SUMMARY.md links no page");
    let missing: Vec<&String> = links
        .iter()
        .filter(|link| !link.is_empty() && !link.contains("://"))
        .filter(|link| {
            let path = link.split('#').next().unwrap();
            !book_src().join(path).is_file()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "SUMMARY.md links pages that do not exist: {missing:?}"
    );
}

#[test]
fn every_page_is_in_the_summary() {
    let summary = read(&book_src().join("SUMMARY.md"));
    let links = summary_links(&summary);
    let src = book_src();
    let unlisted: Vec<String> = markdown_files(&src)
        .iter()
        .map(|page| {
            page.strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|page| page != "SUMMARY.md")
        .filter(|page| !page.starts_with("generated/"))
        .filter(|page| !links.iter().any(|link| link == page))
        .collect();
    assert!(
        unlisted.is_empty(),
        "pages that SUMMARY.md does not list (readers cannot reach them): \
         {unlisted:?}"
    );
}

/// The page of `chapter`: its includes of chapter sources, as
/// (path, anchor) pairs.
fn source_includes(page: &str) -> Vec<(String, Option<String>)> {
    includes(page)
        .into_iter()
        .filter(|include| include.path.starts_with("../../"))
        .map(|include| {
            let anchor = include.anchor().map(str::to_string);
            (include.path, anchor)
        })
        .collect()
}

#[test]
fn every_chapter_page_includes_its_own_sources() {
    let mut problems = Vec::new();
    for (index, chapter) in CHAPTERS.iter().enumerate() {
        let page = book_src().join(format!("{chapter}.md"));
        let text = read(&page);
        let at = shown(&page);
        let main_rs = format!("../../{chapter}/src/main.rs");
        let found = source_includes(&text);
        let has = |anchor: &str| {
            found.iter().any(|(path, a)| {
                *path == main_rs && a.as_deref() == Some(anchor)
            })
        };
        // The lesson: the flags, and what the child sets up.
        for anchor in ["flags", "setup"] {
            if !has(anchor) {
                problems.push(format!("{at} must include {main_rs}:{anchor}"));
            }
        }
        // Chapter sources enter a chapter page only from that chapter:
        // what an earlier chapter showed is carried forward unchanged.
        for (path, _) in &found {
            let other_chapter = path.starts_with("../../ch")
                && !path.starts_with("../../ch07")
                && !path.starts_with(&format!("../../{chapter}/"));
            if other_chapter {
                problems.push(format!(
                    "{at} includes {path}: a chapter page shows its own sources"
                ));
            }
        }
        if index == 0 {
            if !has("run") {
                problems.push(format!(
                    "{at} must include {main_rs}:run (the clone call)"
                ));
            }
        } else {
            let number = chapter.split('-').next().unwrap();
            if !text
                .contains(&format!("{{{{#include generated/{number}.diff}}}}"))
            {
                problems.push(format!(
                    "{at} must show the diff from the previous chapter"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The anchors that a chapter carries forward from the one that first
/// has it: where two chapters have one, its lines must be the same.
const CARRIED_FORWARD: [&str; 5] =
    ["clone", "run", "private", "map_root", "pivot_root"];

/// For each carried-forward anchor, the chapters whose source differs
/// from the first chapter that has it, as messages.
fn carried_forward_differences(sources: &[(&str, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for anchor in CARRIED_FORWARD {
        let mut first: Option<(&str, Vec<&str>)> = None;
        for (chapter, source) in sources {
            let Some(lines) = anchored_lines(source, anchor) else {
                continue;
            };
            match &first {
                None => first = Some((chapter, lines)),
                Some((origin, expected)) if *expected != lines => {
                    let line = expected
                        .iter()
                        .zip(&lines)
                        .position(|(a, b)| a != b)
                        .unwrap_or(expected.len().min(lines.len()));
                    problems.push(format!(
                        "anchor {anchor}: {chapter} differs from {origin} at \
                         line {} of the anchor:\n  {origin}: {:?}\n  \
                         {chapter}: {:?}",
                        line + 1,
                        expected.get(line),
                        lines.get(line)
                    ));
                }
                Some(_) => {}
            }
        }
    }
    problems
}

fn chapter_sources() -> Vec<(&'static str, String)> {
    CHAPTERS
        .iter()
        .map(|chapter| {
            let path = repo_root().join(chapter).join("src/main.rs");
            (*chapter, read(&path))
        })
        .collect()
}

#[test]
fn carried_forward_anchors_are_the_same_in_every_chapter() {
    let sources = chapter_sources();
    for anchor in CARRIED_FORWARD {
        let count = sources
            .iter()
            .filter(|(_, source)| anchored_lines(source, anchor).is_some())
            .count();
        assert!(
            count >= 2,
            "anchor {anchor} is in {count} chapter(s): nothing is carried \
             forward; update CARRIED_FORWARD"
        );
    }
    let problems = carried_forward_differences(&sources);
    assert!(
        problems.is_empty(),
        "carried-forward code differs between chapters (change every copy, \
         or give the new code an anchor of its own):\n{}",
        problems.join("\n")
    );
}

#[test]
fn an_edited_copy_of_a_carried_forward_anchor_is_caught() {
    let mut sources = chapter_sources();
    let (chapter, source) = sources.last_mut().unwrap();
    let edited = source.replacen(
        "\"setgroups\", \"deny\"",
        "\"setgroups\", \"allow\"",
        1,
    );
    assert_ne!(*source, edited, "{chapter}: the line to edit is gone");
    *source = edited;
    let problems = carried_forward_differences(&sources);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("anchor map_root: ch06-net"),
        "{problems:?}"
    );
    assert!(problems[0].contains("allow"), "{problems:?}");
}

#[test]
fn the_machinery_page_includes_the_nslab_sources() {
    let page = book_src().join("machinery.md");
    let text = read(&page);
    let found = source_includes(&text);
    let from_nslab: Vec<&(String, Option<String>)> = found
        .iter()
        .filter(|(path, _)| path.starts_with("../../nslab/src/"))
        .collect();
    assert!(
        from_nslab.len() >= 8,
        "{} must show the machinery from nslab/src (found {} includes)",
        shown(&page),
        from_nslab.len()
    );
    // Every anchor in nslab is there for a page: one that no page
    // includes is a piece of the machinery the book forgot.
    let mut included = Vec::new();
    for page in markdown_files(&book_src()) {
        included.extend(source_includes(&read(&page)));
    }
    let mut unused = Vec::new();
    let dir = repo_root().join("nslab/src");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let path = format!("../../nslab/src/{name}");
        for anchor in anchors(&read(&file)) {
            let used = included
                .iter()
                .any(|(p, a)| *p == path && a.as_deref() == Some(anchor));
            if !used {
                unused.push(format!("{path}:{anchor}"));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "anchors in nslab/src that no page includes: {unused:?}"
    );
}

#[test]
fn every_generated_file_is_shown_on_a_page() {
    let src = book_src();
    let mut included = Vec::new();
    for page in markdown_files(&src) {
        let dir = page.parent().unwrap().to_path_buf();
        for include in includes(&read(&page)) {
            included.push(dir.join(&include.path));
        }
    }
    let mut pending = vec![src.join("generated")];
    let mut unused = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if !included.contains(&path) {
                unused.push(shown(&path));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "generated files that no page includes (stale?): {unused:?}"
    );
}

/// A heading's id is made from its text: translated, the text changes,
/// and so would the id, breaking every `page.md#id` link in the Chinese
/// edition. Written out (`## Try it {#try-it}`), it stays.
#[test]
fn every_heading_has_an_explicit_id() {
    let mut problems = Vec::new();
    let mut count = 0;
    for page in markdown_files(&book_src()) {
        let name = page.file_name().unwrap();
        // SUMMARY.md's headings are part titles, not anchors.
        if name == "SUMMARY.md"
            || page.starts_with(book_src().join("generated"))
        {
            continue;
        }
        let mut seen = Vec::new();
        for heading in headings(&read(&page)) {
            count += 1;
            let at = format!("{}:{}", shown(&page), heading.line);
            match heading.id {
                None => problems.push(format!(
                    "{at}: `{}` has no explicit id: end the line with \
                     ` {{#{}}}`",
                    heading.text,
                    heading_id(&heading.text)
                )),
                Some(id) if seen.contains(&id) => problems
                    .push(format!("{at}: a second heading with id {id}")),
                Some(id) => seen.push(id),
            }
        }
    }
    assert!(count > 0, "no headings found: is book/src there?");
    assert!(
        problems.is_empty(),
        "headings without a fixed id (setext headings cannot have one: use \
         `#`s):\n{}",
        problems.join("\n")
    );
}

/// The appendix that maps the man pages and LWN's series to the course:
/// every link names a page of the book and a heading id on it, and
/// every reference it promises has its section.
#[test]
fn the_reference_map_leads_to_real_sections() {
    let page = book_src().join("appendix-references.md");
    let text = read(&page);
    for reference in [
        "namespaces(7)",
        "uts_namespaces(7)",
        "ipc_namespaces(7)",
        "pid_namespaces(7)",
        "mount_namespaces(7)",
        "user_namespaces(7)",
        "network_namespaces(7)",
        "cgroup_namespaces(7)",
        "time_namespaces(7)",
        "clone(2)",
        "unshare(2)",
        "setns(2)",
        "ioctl_ns(2)",
        "pivot_root(2)",
        "Namespaces in operation",
    ] {
        assert!(text.contains(reference), "no rows for {reference}");
    }
    let mut problems = Vec::new();
    let mut links = 0;
    for (target, _) in text
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')'))
    {
        links += 1;
        let Some((file, id)) = target.split_once('#') else {
            problems.push(format!("{target}: no #heading"));
            continue;
        };
        let Ok(linked) = std::fs::read_to_string(book_src().join(file)) else {
            problems.push(format!("{target}: no page {file}"));
            continue;
        };
        let ids: Vec<String> = headings(&linked)
            .into_iter()
            .map(|h| heading_id(&h.text))
            .collect();
        if !ids.iter().any(|found| found == id) {
            problems.push(format!("{target}: {file} has no heading #{id}"));
        }
    }
    assert!(links >= 40, "only {links} links");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
