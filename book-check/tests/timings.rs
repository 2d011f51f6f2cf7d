//! Every chapter page ends with its timings and collapsed speaker
//! notes; its minutes are what the rates of the instructors page give
//! for what the page holds now, counted here; and the instructors
//! page's table says the same minutes, adds them up right, and plans a
//! room at the factor it states.

use std::collections::BTreeSet;

use book_check::commands::{after_prompt, command_lines, transcript_lines};
use book_check::{
    CHAPTERS, book_src, code_blocks, files_ending_in, headings, includes, read,
};

/// The pages with timings: the six chapters and `ch07-inspect`.
fn pages() -> Vec<&'static str> {
    CHAPTERS.iter().copied().chain(["ch07-inspect"]).collect()
}

/// The minutes a chapter page gives: reading, Try it, exercises, and
/// their sum as the page states it.
#[derive(Debug, PartialEq)]
struct Minutes {
    reading: u32,
    try_it: u32,
    exercises: u32,
    total: u32,
}

/// The numbers in `text`, in order.
fn numbers(text: &str) -> Vec<u32> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|word| !word.is_empty())
        .map(|word| word.parse().unwrap())
        .collect()
}

/// The section `## Timings and speaker notes` of a page: its minutes,
/// and the body of its speaker notes.
fn timings_section(page: &str) -> (Minutes, String) {
    let text = read(&book_src().join(format!("{page}.md")));
    let heading = "## Timings and speaker notes {#timings-and-speaker-notes}";
    let (_, section) = text
        .split_once(heading)
        .unwrap_or_else(|| panic!("{page}: no section `{heading}`"));
    assert!(
        !section.contains("\n## "),
        "{page}: the timings and speaker notes are the page's last section"
    );
    let paragraph = section.trim_start().split("\n\n").next().unwrap();
    let paragraph = paragraph.replace('\n', " ");
    assert!(
        paragraph.starts_with("Reading ")
            && paragraph.contains(" min, Try it ")
            && paragraph.contains(" min, exercises "),
        "{page}: the section starts with `Reading R min, Try it T min, \
         exercises E min: S minutes`, not {paragraph:?}"
    );
    let n = numbers(&paragraph);
    let minutes = Minutes {
        reading: n[0],
        try_it: n[1],
        exercises: n[2],
        total: n[3],
    };
    assert_eq!(
        minutes.reading + minutes.try_it + minutes.exercises,
        minutes.total,
        "{page}: the minutes do not add up: {paragraph:?}"
    );
    let summary = "<details><summary>Speaker notes</summary>";
    let (_, notes) = section
        .split_once(summary)
        .unwrap_or_else(|| panic!("{page}: no collapsed `{summary}`"));
    let (notes, _) = notes
        .split_once("</details>")
        .unwrap_or_else(|| panic!("{page}: the speaker notes are not closed"));
    (minutes, notes.to_string())
}

#[test]
fn every_chapter_page_has_timings_and_speaker_notes() {
    for page in pages() {
        let (minutes, notes) = timings_section(page);
        assert!(minutes.total > 0, "{page}: no minutes");
        // Short prompts, as Comprehensive Rust writes them: what to
        // show, what to ask, what usually goes wrong.
        for prompt in ["- **Show**", "- **Ask**", "- **Goes wrong:**"] {
            assert!(
                notes.contains(prompt),
                "{page}: the speaker notes have no `{prompt}` prompt"
            );
        }
    }
}

/// The instructors page's row for a chapter: `| [name](name.md) | R |
/// T | E | S | ROOM |`.
fn instructors_row(text: &str, page: &str) -> Vec<u32> {
    let start = format!("| [{page}]({page}.md) |");
    let row = text
        .lines()
        .find(|line| line.starts_with(&start))
        .unwrap_or_else(|| panic!("instructors.md: no row for {page}"));
    numbers(&row[start.len()..])
}

#[test]
fn the_instructors_page_adds_up_the_chapter_pages() {
    let text = read(&book_src().join("instructors.md"));
    let factor = "in a room (× 1.5)";
    assert!(
        text.contains(factor),
        "instructors.md: the table's room column states its factor: {factor}"
    );
    let mut sum = 0;
    for page in pages() {
        let (minutes, _) = timings_section(page);
        let row = instructors_row(&text, page);
        assert_eq!(
            row[..4],
            [
                minutes.reading,
                minutes.try_it,
                minutes.exercises,
                minutes.total
            ],
            "instructors.md: the row of {page} and its page disagree"
        );
        // One and a half times as long, rounded up to 5 minutes.
        let room = (minutes.total * 3).div_ceil(2).div_ceil(5) * 5;
        assert_eq!(row[4], room, "instructors.md: {page}'s room time");
        sum += minutes.total;
    }
    let stated = format!("The seven chapters take {sum} minutes");
    assert!(
        text.replace('\n', " ").contains(&stated),
        "instructors.md: the sum of the chapters' minutes is {sum}: \
         `{stated}`"
    );
}

/// What a page holds, counted as "How the timings were measured" on the
/// instructors page says.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    /// Words of prose outside the exercises: every run of non-blank
    /// characters of a line outside code blocks, once HTML tags are
    /// taken out, headings included.
    reading_words: u32,
    /// `{{#include}}` directives outside the exercises: code from the
    /// sources, diffs and transcripts.
    included: u32,
    /// Prompt lines of the transcripts included outside the exercises:
    /// the commands of the sessions the page gives to type.
    typed: u32,
    /// Numbered items of the exercise sections.
    exercises: u32,
    /// Words of the exercises' text and solutions, counted as prose.
    exercise_words: u32,
    /// Commands of the exercises and their solutions: each non-blank
    /// line of a `sh` block, each prompt line of another block, and each
    /// inline code span whose first word is a program that a transcript
    /// of the book runs.
    exercise_commands: u32,
}

/// Where a line of a page counts.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Reading,
    Exercises,
    /// The timings and speaker notes, and "Build it yourself" (the other
    /// way to run the workshop, which the timings are not for).
    Left,
}

/// Pages whose sessions outside Try it are runs the page shows and
/// explains, counted as reading only: chapter 7's.
const SHOWN_ONLY: [&str; 1] = ["ch07-inspect"];

/// A line with its HTML tags taken out (`<details><summary>Solution
/// </summary>` is one word), as words.
fn words(line: &str) -> u32 {
    let mut text = String::new();
    let mut rest = line;
    while let Some(at) = rest.find('<') {
        let after = &rest[at + 1..];
        match after.find('>') {
            Some(end) if end > 0 => {
                text.push_str(&rest[..at]);
                rest = &after[end + 1..];
            }
            _ => {
                text.push_str(&rest[..=at]);
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.split_whitespace().count() as u32
}

/// Counts a page: `text` is its Markdown, `transcript` reads a file it
/// includes (a path relative to `book/src`), `programs` are the first
/// words of the commands that the book's transcripts run, and
/// `shown_only` says that sessions outside Try it are only shown.
fn count(
    text: &str,
    transcript: impl Fn(&str) -> String,
    programs: &BTreeSet<String>,
    shown_only: bool,
) -> Counts {
    let lines: Vec<&str> = text.lines().collect();
    // Which block each line belongs to: its info string's first word.
    let mut block: Vec<Option<String>> = vec![None; lines.len()];
    let mut fence = vec![false; lines.len()];
    for (start, info, body) in code_blocks(text) {
        let language = info.split([',', ' ']).next().unwrap_or("").to_string();
        for line in block.iter_mut().skip(start).take(body.len()) {
            *line = Some(language.clone());
        }
        fence[start - 1] = true;
        if start + body.len() < lines.len() {
            fence[start + body.len()] = true;
        }
    }
    // The part of each line, from the headings: a section runs to the
    // next heading of its level or above.
    let mut part = vec![Part::Reading; lines.len()];
    let mut section = vec![String::new(); lines.len()];
    let mut heading_at = vec![false; lines.len()];
    let mut open: Vec<(usize, Part)> = Vec::new();
    let mut top = String::new();
    let found = headings(text);
    for (n, heading) in found.iter().enumerate() {
        let index = heading.line - 1;
        heading_at[index] = true;
        let level = lines[index]
            .trim_start()
            .chars()
            .take_while(|&c| c == '#')
            .count();
        open.retain(|&(at, _)| at < level);
        let title = heading.text.as_str();
        if title == "Exercises" || title.starts_with("Exercises: ") {
            open.push((level, Part::Exercises));
        } else if title == "Timings and speaker notes"
            || title == "Build it yourself"
        {
            open.push((level, Part::Left));
        }
        if level <= 2 {
            top = title.to_string();
        }
        let end = found.get(n + 1).map_or(lines.len(), |h| h.line - 1);
        let here = open.last().map_or(Part::Reading, |&(_, p)| p);
        for line in index..end {
            part[line] = here;
            section[line] = top.clone();
        }
    }
    let mut counts = Counts::default();
    for include in includes(text) {
        let index = include.line - 1;
        if part[index] != Part::Reading {
            continue;
        }
        counts.included += 1;
        let typed = !shown_only || section[index] == "Try it";
        if include.path.ends_with(".txt") && typed {
            counts.typed +=
                transcript_lines(&transcript(&include.path)).len() as u32;
        }
    }
    let mut exercise_prose = String::new();
    for (index, line) in lines.iter().enumerate() {
        let included = line.contains("{{#include");
        match (part[index], &block[index]) {
            (Part::Left, _) => {}
            (Part::Reading, None) if heading_at[index] => {
                let heading = found.iter().find(|h| h.line == index + 1);
                counts.reading_words += words(&heading.unwrap().text);
            }
            (Part::Reading, None) if !fence[index] && !included => {
                counts.reading_words += words(line);
            }
            (Part::Exercises, None) if !fence[index] && !heading_at[index] => {
                counts.exercise_words += words(line);
                let item = line.split_once(". ").is_some_and(|(n, _)| {
                    !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
                });
                counts.exercises += u32::from(item);
                exercise_prose.push_str(line);
                exercise_prose.push('\n');
            }
            (Part::Exercises, Some(language)) => {
                let command = match language.as_str() {
                    "sh" | "bash" | "shell" => !line.trim().is_empty(),
                    _ => after_prompt(line.trim()).is_some(),
                };
                counts.exercise_commands += u32::from(command);
            }
            _ => {}
        }
    }
    counts.exercise_commands += command_lines(&exercise_prose)
        .iter()
        .filter(|span| {
            span.text
                .split_whitespace()
                .next()
                .is_some_and(|first| programs.contains(first))
        })
        .count() as u32;
    counts
}

/// The first word of every command that a transcript of the book runs.
fn programs() -> BTreeSet<String> {
    files_ending_in(&book_src().join("generated"), "txt")
        .iter()
        .flat_map(|path| transcript_lines(&read(path)))
        .filter_map(|shown| {
            shown.text.split_whitespace().next().map(str::to_string)
        })
        .collect()
}

/// Minutes at the instructors page's rates, rounded to the nearest 5
/// (a half up), and at least 5. Time is counted in fifths of a second,
/// so that a word (0.4 s at 150 a minute) is a whole number.
fn rounded(fifths: u32) -> u32 {
    let five_minutes = 5 * 60 * 5;
    ((fifths + five_minutes / 2) / five_minutes * 5).max(5)
}

const WORD: u32 = 2;
const MINUTE: u32 = 300;
const COMMAND: u32 = 100;

impl Counts {
    fn minutes(&self) -> (u32, u32, u32) {
        (
            rounded(self.reading_words * WORD + self.included * MINUTE),
            rounded(self.typed * COMMAND),
            rounded(
                self.exercise_words * WORD
                    + self.exercise_commands * COMMAND
                    + self.exercises * 2 * MINUTE,
            ),
        )
    }
}

fn page_counts(page: &str, programs: &BTreeSet<String>) -> Counts {
    let text = read(&book_src().join(format!("{page}.md")));
    count(
        &text,
        |path| read(&book_src().join(path)),
        programs,
        SHOWN_ONLY.contains(&page),
    )
}

#[test]
fn every_chapter_pages_minutes_are_what_its_counts_give() {
    let programs = programs();
    let mut wrong = Vec::new();
    for page in pages() {
        let counts = page_counts(page, &programs);
        let (reading, try_it, exercises) = counts.minutes();
        let (stated, _) = timings_section(page);
        let minutes = |fifths: u32| fifths as f64 / MINUTE as f64;
        let figures = [
            (
                "reading",
                reading,
                stated.reading,
                format!(
                    "{} words and {} included blocks: {:.1} min",
                    counts.reading_words,
                    counts.included,
                    minutes(
                        counts.reading_words * WORD + counts.included * MINUTE
                    )
                ),
            ),
            (
                "Try it",
                try_it,
                stated.try_it,
                format!(
                    "{} commands typed: {:.1} min",
                    counts.typed,
                    minutes(counts.typed * COMMAND)
                ),
            ),
            (
                "exercises",
                exercises,
                stated.exercises,
                format!(
                    "{} exercises, {} words, {} commands: {:.1} min",
                    counts.exercises,
                    counts.exercise_words,
                    counts.exercise_commands,
                    minutes(
                        counts.exercise_words * WORD
                            + counts.exercise_commands * COMMAND
                            + counts.exercises * 2 * MINUTE
                    )
                ),
            ),
        ];
        for (figure, counted, says, how) in figures {
            if counted != says {
                wrong.push(format!(
                    "{page}: {figure} is {counted} min ({how}), the page says \
                     {says}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the timings of these pages are not what their counts give \
         (instructors.md, \"How the timings were measured\"); correct the \
         page, the instructors table and the schedules:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn counting_a_page() {
    let page = "# A page {#a}\n\nFour words of <em>prose</em>.\n\n\
        ```rust,ignore\n{{#include ../a.rs:x}}\n```\n\n## Try it\n\n\
        ```text\n{{#include generated/a.txt}}\n```\n\n\
        ## Shown\n\n```text\n{{#include generated/b.txt}}\n```\n\n\
        ## Exercises {#exercises}\n\n\
        1. Run `hostname box` and `cat`; not `made-up x`.\n\n   \
        <details><summary>Solution</summary>\n\n   ```sh\n   hostname\n\n   \
        ```\n\n   ```text\n   host# ls\n   out\n   ```\n\n   </details>\n\n\
        ## Build it yourself\n\nNot counted at all.\n\n\
        ## Timings and speaker notes\n\nNor this.\n";
    let transcript = |path: &str| match path {
        "generated/a.txt" => "host# one\nout\n(ch) root@vm:~# two\n".into(),
        "generated/b.txt" => "host# three\n".into(),
        _ => panic!("{path}"),
    };
    let programs: BTreeSet<String> =
        ["hostname", "cat"].map(String::from).into();
    let typed = count(page, transcript, &programs, false);
    assert_eq!(
        typed,
        Counts {
            // "A page", "Four words of prose.", "Try it", "Shown"
            reading_words: 2 + 4 + 2 + 1,
            included: 3,
            typed: 3,
            exercises: 1,
            // The item's 9 words, and "Solution".
            exercise_words: 10,
            // `hostname box`, `cat`, the sh line, the prompt line.
            exercise_commands: 4,
        }
    );
    let shown = count(page, transcript, &programs, true);
    assert_eq!(shown.typed, 2, "only Try it's session is typed");
    // 9 words and 3 blocks: 3.06 min, at least 5; 3 commands: 1 min;
    // 10 words, 4 commands, one exercise: 3.4 min.
    assert_eq!(typed.minutes(), (5, 5, 5));
    let long = Counts {
        reading_words: 1500,
        included: 2,
        ..Counts::default()
    };
    // 10 + 2 = 12 min is nearer 10; 12.5 is 15.
    assert_eq!(long.minutes().0, 10);
    let half = Counts {
        reading_words: 1500 + 75,
        included: 2,
        ..Counts::default()
    };
    assert_eq!(half.minutes().0, 15);
}

/// The machinery is reading only; its row on the instructors page gives
/// the minutes its counts give.
#[test]
fn the_machinerys_reading_is_what_its_counts_give() {
    let counts = page_counts("machinery", &programs());
    let text = read(&book_src().join("instructors.md"));
    let start = "| [The machinery](machinery.md) |";
    let row = text
        .lines()
        .find(|line| line.starts_with(start))
        .expect("instructors.md: no row for The machinery");
    let stated = numbers(&row[start.len()..]);
    let (reading, _, _) = counts.minutes();
    assert_eq!(
        stated[..2],
        [reading, reading],
        "instructors.md: The machinery's reading and total are {reading} \
         min ({} words and {} included blocks)",
        counts.reading_words,
        counts.included
    );
}

/// `HH:MM` as minutes after midnight.
fn clock(text: &str) -> Option<u32> {
    let (hours, minutes) = text.trim().split_once(':')?;
    Some(hours.parse::<u32>().ok()? * 60 + minutes.parse::<u32>().ok()?)
}

/// The schedules of the instructors page keep time: each row starts
/// when the one before, given its minutes, ends; the paragraph above a
/// table names its start and end; and a chapter taken whole in the room
/// takes the room's minutes of the table.
#[test]
fn the_schedules_add_up_the_rooms_minutes() {
    let text = read(&book_src().join("instructors.md"));
    let (_, section) = text
        .split_once("## A half day and a full day")
        .expect("instructors.md: no section `A half day and a full day`");
    let section = section.split("\n## ").next().unwrap();
    let room = |name: &str| {
        instructors_row(&text, name)
            .get(4)
            .copied()
            .unwrap_or_else(|| panic!("instructors.md: no room time of {name}"))
    };
    let mut tables = 0;
    let mut paragraph = String::new();
    let mut rows: Vec<(u32, String)> = Vec::new();
    let mut ended = false;
    for line in section.lines().chain([""]) {
        if let Some(row) = line.strip_prefix('|') {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            if let Some(at) = clock(cells[0]) {
                rows.push((at, cells[1].to_string()));
            }
            continue;
        }
        if rows.is_empty() {
            if line.is_empty() {
                ended = true;
            } else {
                if std::mem::take(&mut ended) {
                    paragraph.clear();
                }
                paragraph.push_str(line);
                paragraph.push(' ');
            }
            continue;
        }
        tables += 1;
        let when =
            |minutes: u32| format!("{}:{:02}", minutes / 60, minutes % 60);
        let span =
            format!("({} to {}", when(rows[0].0), when(rows.last().unwrap().0));
        assert!(
            paragraph.contains(&span),
            "instructors.md: the schedule's paragraph says {span}): \
             {paragraph:?}"
        );
        for pair in rows.windows(2) {
            let ((start, part), (next, _)) = (&pair[0], &pair[1]);
            let minutes: u32 = part
                .split('(')
                .skip(1)
                .filter_map(|rest| rest.split_once(')'))
                .filter_map(|(inside, _)| inside.parse::<u32>().ok())
                .sum();
            assert_eq!(
                start + minutes,
                *next,
                "instructors.md: {} {part:?} ends at {}, the next row \
                 starts at {}",
                when(*start),
                when(start + minutes),
                when(*next)
            );
            let whole = pages().into_iter().find_map(|page| {
                let rest = part.strip_prefix(page)?.strip_prefix(" (")?;
                Some((page, rest.split_once(')')?.0.parse::<u32>().ok()?))
            });
            if let Some((page, minutes)) = whole {
                assert_eq!(
                    minutes,
                    room(page),
                    "instructors.md: {page} takes {} minutes in a room, \
                     the schedule gives it {minutes}",
                    room(page)
                );
            }
        }
        rows.clear();
        paragraph.clear();
    }
    assert_eq!(tables, 2, "instructors.md: a half day and a full day");
}
