//! Every chapter page ends with its timings and collapsed speaker
//! notes, and the instructors page's table says the same minutes, adds
//! them up right, and plans a room at the factor it states.

use book_check::{CHAPTERS, book_src, read};

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
