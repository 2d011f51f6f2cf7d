//! The hand-drawn diagrams of the book, in both editions: every box
//! closes where it opens. A box is a run of lines that start and end
//! with `|` or `+` at the same indentation; all of its lines must be
//! equally wide, or its right edge is crooked. A Chinese character takes
//! two columns, as in a terminal and in the monospace fonts that have
//! Chinese. And every diagram is translated: `zh-CN.po` has it as one
//! message, which mdbook-xgettext makes of a block marked
//! ```` ```text // diagram ````.

use book_check::{
    book_src, code_blocks, markdown_files, po_messages, read, repo_root, shown,
};

/// How many columns `c` takes in a monospace font: two for the wide
/// characters of Chinese (ideographs, their punctuation, full-width
/// forms), one for the others.
fn columns(c: char) -> usize {
    let wide = matches!(c,
        '\u{1100}'..='\u{115f}'
        | '\u{2e80}'..='\u{303e}'
        | '\u{3041}'..='\u{33ff}'
        | '\u{3400}'..='\u{4dbf}'
        | '\u{4e00}'..='\u{9fff}'
        | '\u{a000}'..='\u{a4cf}'
        | '\u{ac00}'..='\u{d7a3}'
        | '\u{f900}'..='\u{faff}'
        | '\u{fe30}'..='\u{fe4f}'
        | '\u{ff00}'..='\u{ff60}'
        | '\u{ffe0}'..='\u{ffe6}');
    if wide { 2 } else { 1 }
}

/// The width of `text` in columns.
fn width(text: &str) -> usize {
    text.chars().map(columns).sum()
}

/// The crooked boxes of `block`: (line in the block, its width, the
/// width of the line before it).
fn crooked(block: &[String]) -> Vec<(usize, usize, usize)> {
    let edge = |line: &str| {
        let text = line.trim_end();
        let body = text.trim_start();
        let framed = body.len() > 2
            && body.starts_with(['|', '+'])
            && body.ends_with(['|', '+']);
        framed.then(|| (text.len() - body.len(), width(text)))
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

/// A block of text that is a drawing: it has a rule (`------`) or a
/// branch of a tree (`+--`). (Transcripts and outputs have neither.)
fn is_diagram(info: &str, body: &[String]) -> bool {
    info.split([',', ' ']).next() == Some("text")
        && body
            .iter()
            .any(|line| line.contains("------") || line.contains("+--"))
}

#[test]
fn boxes_in_diagrams_are_aligned() {
    let mut problems = Vec::new();
    for page in markdown_files(&book_src()) {
        let text = std::fs::read_to_string(&page).unwrap();
        for (start, info, body) in code_blocks(&text) {
            if info.split([',', ' ']).next() != Some("text") {
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

/// The diagrams of the pages, each as mdbook-xgettext makes it a
/// message (its fences included), with where it is.
fn diagrams() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for page in markdown_files(&book_src()) {
        for (start, info, body) in code_blocks(&read(&page)) {
            if is_diagram(&info, &body) {
                let message = format!("```{info}\n{}\n```", body.join("\n"));
                found.push((format!("{}:{start}", shown(&page)), message));
            }
        }
    }
    found
}

/// Lines without their trailing blanks (gettext keeps them, the pages
/// may not).
fn trimmed(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_diagram_is_translated() {
    let messages = po_messages(&read(&repo_root().join("book/po/zh-CN.po")));
    let diagrams = diagrams();
    assert!(
        diagrams.len() >= 10,
        "only {} diagrams found",
        diagrams.len()
    );
    let mut problems = Vec::new();
    for (at, diagram) in &diagrams {
        let message = messages
            .iter()
            .find(|m| !m.obsolete && trimmed(&m.msgid) == trimmed(diagram));
        match message {
            None => problems.push(format!(
                "{at}: not a message of zh-CN.po, so it cannot be translated: \
                 mark it ```text // diagram (mdbook-xgettext makes a block a \
                 message only if it has a `\"` or a `//`), then run \
                 `bash book/scripts/check-translation.sh --update`"
            )),
            Some(m) if m.msgstr.is_empty() || m.fuzzy => {
                problems.push(format!(
                    "{at}: book/po/zh-CN.po:{} does not translate it yet",
                    m.line
                ))
            }
            Some(m) if trimmed(&m.msgstr) == trimmed(&m.msgid) => problems
                .push(format!(
                    "{at}: book/po/zh-CN.po:{} leaves it in English",
                    m.line
                )),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "diagrams:\n{}", problems.join("\n"));
}

#[test]
fn chinese_diagrams_are_aligned_and_no_wider() {
    let messages = po_messages(&read(&repo_root().join("book/po/zh-CN.po")));
    let mut problems = Vec::new();
    let mut count = 0;
    for message in &messages {
        if message.obsolete
            || message.msgstr.is_empty()
            || !message.msgid.starts_with("```")
        {
            continue;
        }
        count += 1;
        let lines: Vec<String> =
            message.msgstr.lines().map(String::from).collect();
        for (line, wide, before) in crooked(&lines) {
            problems.push(format!(
                "book/po/zh-CN.po:{}: line {line} of the translation is {wide} \
                 columns wide, the line above {before}",
                message.line
            ));
        }
        let widest = |text: &str| text.lines().map(width).max().unwrap_or(0);
        let (english, chinese) =
            (widest(&message.msgid), widest(&message.msgstr));
        if chinese > english {
            problems.push(format!(
                "book/po/zh-CN.po:{}: the translation is {chinese} columns \
                 wide, the diagram {english}: it must fit where the English \
                 one does",
                message.line
            ));
        }
    }
    assert!(count >= 10, "only {count} translated blocks in zh-CN.po");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_crooked_box_is_found() {
    let block: Vec<String> = ["  +----+", "  | ab  |", "  +----+"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(crooked(&block), [(2, 9, 8), (3, 8, 9)]);
    // Two Chinese characters are four columns.
    let block: Vec<String> = ["+------+", "| 主机 |", "| 主机   |", "+------+"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(crooked(&block), [(3, 10, 8), (4, 8, 10)]);
}
