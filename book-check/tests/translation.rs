//! The Chinese edition against the English one: each translated message
//! in `book/po/zh-CN.po` keeps what must not change in translation. Its
//! `{{#include}}`s (so that the Chinese pages show the same code and
//! transcripts), its link targets (same pages, same anchors), its code
//! spans (code, commands and output stay as they are) and, for a block
//! of text such as a diagram, its fences. That every message is
//! translated, and none is stale, is `book/scripts/check-translation.sh`'s
//! job (it needs the pages' messages from `mdbook-xgettext`); it runs in
//! `book/build.sh`.

use book_check::{Message, po_messages, repo_root};

/// The code spans of `text` (between equal runs of backticks), with
/// their blanks made single spaces: a message's line breaks may fall
/// elsewhere in its translation.
fn code_spans(text: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let run =
            rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let body = &rest[start + run..];
        // The closing run: exactly as many backticks.
        let mut search = 0;
        let mut end = None;
        while let Some(at) = body[search..].find('`') {
            let at = search + at;
            let len =
                body[at..].len() - body[at..].trim_start_matches('`').len();
            if len == run {
                end = Some(at);
                break;
            }
            search = at + len;
        }
        match end {
            Some(end) => {
                let span: Vec<&str> = body[..end].split_whitespace().collect();
                spans.push(format!("code `{}`", span.join(" ")));
                rest = &body[end + run..];
            }
            None => rest = body,
        }
    }
    spans
}

/// What a translation of `text` must keep, sorted.
fn kept(text: &str) -> Vec<String> {
    let text = text.trim();
    let mut kept = Vec::new();
    if text.starts_with("```") || text.starts_with("~~~") {
        // A block (a diagram): its labels may be translated, its fences
        // and their info string not.
        let lines: Vec<&str> = text.lines().collect();
        kept.push(format!("fence {}", lines[0]));
        kept.push(format!("fence {}", lines[lines.len() - 1]));
        return kept;
    }
    let mut rest = text;
    while let Some(at) = rest.find("{{#") {
        let end = rest[at..].find("}}").map_or(rest.len(), |e| at + e + 2);
        kept.push(format!("directive {}", &rest[at..end]));
        rest = &rest[end..];
    }
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let end = rest.find([')', ' ']).unwrap_or(rest.len());
        kept.push(format!("link ({})", &rest[..end]));
    }
    kept.extend(code_spans(text));
    kept.sort();
    kept
}

/// The problems of the translated messages: what each one lost or
/// gained of what it must keep.
fn problems(messages: &[Message]) -> Vec<String> {
    let mut problems = Vec::new();
    for message in messages {
        if message.msgid.is_empty()
            || message.msgstr.is_empty()
            || message.obsolete
        {
            continue;
        }
        let (english, chinese) = (kept(&message.msgid), kept(&message.msgstr));
        if english == chinese {
            continue;
        }
        // What is in one and not the other, counting repeats.
        let mut gained = chinese;
        let mut lost = Vec::new();
        for item in english {
            match gained.iter().position(|g| *g == item) {
                Some(at) => {
                    gained.remove(at);
                }
                None => lost.push(item),
            }
        }
        let at = message.references.first().map_or("?", String::as_str);
        problems.push(format!(
            "book/po/zh-CN.po:{} ({at}): the translation lost {lost:?}, \
             gained {gained:?}",
            message.line
        ));
    }
    problems
}

fn zh_cn() -> Vec<Message> {
    let path = repo_root().join("book/po/zh-CN.po");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    po_messages(&text)
}

#[test]
fn translations_keep_includes_links_and_code() {
    let messages = zh_cn();
    assert!(
        messages.len() > 100,
        "book/po/zh-CN.po has {} messages: is it there?",
        messages.len()
    );
    let problems = problems(&messages);
    assert!(
        problems.is_empty(),
        "translations must keep includes, link targets, code spans and \
         fences as they are:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_translation_that_loses_what_it_must_keep_is_caught() {
    let message = |msgid: &str, msgstr: &str| Message {
        line: 7,
        references: vec!["src/ch01-uts.md:3".to_string()],
        msgid: msgid.to_string(),
        msgstr: msgstr.to_string(),
        ..Message::default()
    };
    let good = [
        message(
            "See [the machinery](machinery.md#signals): `kill -TERM\n1`.",
            "见[机制](machinery.md#signals):`kill -TERM 1`。",
        ),
        message(
            "```text\n host | child\n```",
            "```text\n 宿主机 | 子进程\n```",
        ),
        message("Untranslated.", ""),
    ];
    assert_eq!(problems(&good), Vec::<String>::new());
    let bad = [
        message("[Try it](#try-it)", "[动手试试](#动手试试)"),
        message("Run `ps`, then `ps`.", "运行 `ps`。"),
        message(
            "{{#include generated/ch01-uts.txt}}",
            "{{#include generated/ch01.txt}}",
        ),
        message("```text\nx\n```", "```\nx\n```"),
    ];
    let found = problems(&bad);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].starts_with("book/po/zh-CN.po:7 (src/ch01-uts.md:3)"));
    assert!(found[0].contains("link (#try-it)"), "{}", found[0]);
    assert!(found[1].contains("code `ps`"), "{}", found[1]);
    assert!(found[2].contains("ch01.txt"), "{}", found[2]);
    assert!(found[3].contains("fence ```text"), "{}", found[3]);
}

/// `zh-CN.sh` on a machine without mdBook says how to install it, in
/// one line, instead of bash's `mdbook: not found`.
#[test]
fn zh_cn_without_mdbook_says_how_to_install_it() {
    let dir = std::env::temp_dir().join(nslab_testkit::unique("nslab-zh-cn"));
    std::fs::create_dir(&dir).unwrap();
    // A PATH with what the script needs before mdBook, and no mdBook.
    let dirname = ["/usr/bin/dirname", "/bin/dirname"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("no dirname");
    std::os::unix::fs::symlink(dirname, dir.join("dirname")).unwrap();
    let bash = ["/bin/bash", "/usr/bin/bash"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("no bash");
    let out = std::process::Command::new(bash)
        .arg(repo_root().join("book/scripts/zh-CN.sh"))
        .arg("build")
        .env("PATH", &dir)
        .env_remove("MDBOOK")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "zh-CN.sh: no mdbook; install it with \
         `cargo install --locked mdbook --version 0.5.4`\n"
    );
}
