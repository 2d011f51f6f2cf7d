//! The hand-drawn diagrams of the book: every box closes where it
//! opens. A box is a run of lines that start and end with `|` or `+` at
//! the same indentation; all of its lines must be equally wide, or its
//! right edge is crooked.

use book_check::{book_src, code_blocks, markdown_files};

/// The crooked boxes of `block`: (line in the block, its width, the
/// width of the line before it).
fn crooked(block: &[String]) -> Vec<(usize, usize, usize)> {
    let edge = |line: &str| {
        let text = line.trim_end();
        let body = text.trim_start();
        let framed = body.len() > 2
            && body.starts_with(['|', '+'])
            && body.ends_with(['|', '+']);
        framed.then(|| (text.len() - body.len(), text.chars().count()))
    };
    let mut found = Vec::new();
    for (index, pair) in block.windows(2).enumerate() {
        if let (Some((indent_a, a)), Some((indent_b, b))) =
            (edge(&pair[0]), edge(&pair[1]))
            && indent_a == indent_b
            && a != b
        {
            found.push((index + 2, b, a));
        }
    }
    found
}

#[test]
fn boxes_in_diagrams_are_aligned() {
    let mut problems = Vec::new();
    for page in markdown_files(&book_src()) {
        let text = std::fs::read_to_string(&page).unwrap();
        for (start, info, body) in code_blocks(&text) {
            if info != "text" {
                continue;
            }
            for (line, width, before) in crooked(&body) {
                problems.push(format!(
                    "{}:{}: {width} columns wide, the line above {before}",
                    page.display(),
                    start + line
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "crooked boxes:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_crooked_box_is_found() {
    let block: Vec<String> = ["  +----+", "  | ab  |", "  +----+"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(crooked(&block), [(2, 9, 8), (3, 8, 9)]);
}
