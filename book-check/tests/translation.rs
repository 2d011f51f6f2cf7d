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

/// The comments of the shell blocks of `page` (`# …` after a blank or at
/// the start of a line, up to the end of the line): (line, comment).
fn shell_comments(page: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (start, info, body) in book_check::code_blocks(page) {
        let language = info.split([',', ' ']).next().unwrap_or("");
        if !matches!(language, "sh" | "bash" | "shell") {
            continue;
        }
        for (index, line) in body.iter().enumerate() {
            // A `#` inside quotes is text, not a comment.
            let at = line.match_indices("# ").map(|(at, _)| at).find(|&at| {
                (at == 0 || line[..at].ends_with([' ', '\t']))
                    && line[..at].matches(['\'', '"']).count() % 2 == 0
            });
            if let Some(at) = at {
                found.push((start + 1 + index, line[at..].trim_end().into()));
            }
        }
    }
    found
}

/// mdbook-xgettext makes each comment of a code block a message of its
/// own, so that `check-translation.sh` can ask for it, but its shell
/// parser loses the comments that follow a line continued with `\` in
/// the same block: those would stay English in the Chinese edition with
/// no check to see it. Every comment must be a message of `zh-CN.po`.
#[test]
fn every_comment_in_a_shell_block_is_a_message() {
    let messages = zh_cn();
    let ids: std::collections::HashSet<&str> = messages
        .iter()
        .filter(|m| !m.obsolete)
        .map(|m| m.msgid.trim_end())
        .collect();
    let mut missing = Vec::new();
    let mut count = 0;
    for page in book_check::markdown_files(&book_check::book_src()) {
        if page.components().any(|c| c.as_os_str() == "generated") {
            continue;
        }
        for (line, comment) in shell_comments(&book_check::read(&page)) {
            count += 1;
            if !ids.contains(comment.as_str()) {
                missing.push(format!(
                    "{}:{line}: {comment}",
                    book_check::shown(&page)
                ));
            }
        }
    }
    assert!(
        count > 10,
        "only {count} comments in shell blocks: any pages?"
    );
    assert!(
        missing.is_empty(),
        "comments in shell blocks that zh-CN.po does not have, so that \
         they stay English in the Chinese edition (a line continued with \
         `\\` before them hides them from mdbook-xgettext: end the block \
         there and start another):\n{}",
        missing.join("\n")
    );
}

#[test]
fn shell_comments_are_found_outside_quotes() {
    let page = "x\n\n```sh\nls   # list\necho '# not' # yes\n#top\n# top\n\
                ```\n\n```text\n# root prompt\n```\n";
    assert_eq!(
        shell_comments(page),
        [
            (4, "# list".to_string()),
            (5, "# yes".to_string()),
            (7, "# top".to_string())
        ]
    );
}

/// The links of a Markdown text whose target is a page: (text, page).
fn page_links(text: &str) -> Vec<(String, String)> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find("](") else { break };
        let label = &rest[..close];
        let after = &rest[close + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split('#').next().unwrap_or("");
        if !label.contains('[') && target.ends_with(".md") {
            links.push((
                label.split_whitespace().collect::<Vec<_>>().join(" "),
                target.into(),
            ));
        }
        rest = &after[end..];
    }
    links
}

/// A link that names a page by its title (`[Setting up](setup.md)`)
/// names it in the Chinese edition by the page's Chinese title, the one
/// its heading and the sidebar show: one page, one name.
#[test]
fn links_named_after_a_page_use_its_chinese_title() {
    let messages = zh_cn();
    let translation = |english: &str| {
        messages
            .iter()
            .find(|m| !m.obsolete && m.msgid == english)
            .map(|m| m.msgstr.clone())
    };
    let mut titles = std::collections::HashMap::new();
    for page in book_check::markdown_files(&book_check::book_src()) {
        let text = book_check::read(&page);
        let Some(title) = book_check::headings(&text).into_iter().next() else {
            continue;
        };
        if let Some(chinese) = translation(&title.text) {
            let name = page.file_name().unwrap().to_string_lossy().into_owned();
            titles.insert(name, (title.text, chinese));
        }
    }
    assert!(titles.len() > 10, "page titles found: {titles:?}");
    let mut problems = Vec::new();
    let mut count = 0;
    for message in messages.iter().filter(|m| !m.obsolete) {
        for (label, target) in page_links(&message.msgid) {
            let Some((english, chinese)) = titles.get(&target) else {
                continue;
            };
            if label != *english {
                continue;
            }
            count += 1;
            for (label, _) in page_links(&message.msgstr)
                .into_iter()
                .filter(|(_, t)| *t == target)
            {
                if label != *chinese {
                    problems.push(format!(
                        "book/po/zh-CN.po:{}: [{label}]({target}) names the \
                         page that is {chinese}",
                        message.line
                    ));
                }
            }
        }
    }
    assert!(count > 10, "only {count} links named after a page");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A Chinese character (CJK unified ideographs and their extensions A
/// and compatibility forms).
fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// `text` without its code spans (a code span stands as `x`).
fn without_code(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('`') {
        out.push_str(&rest[..at]);
        let run = rest[at..].len() - rest[at..].trim_start_matches('`').len();
        let body = &rest[at + run..];
        match body.find(&"`".repeat(run)) {
            Some(end) => {
                out.push('x');
                rest = &body[end + run..];
            }
            None => {
                out.push_str(&rest[at..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The emphasis problems of a Chinese text: Chinese has no spaces
/// between words, so a space around an emphasised Chinese word shows
/// as a gap; and mdbook-gettext writes every emphasis back as `_…_`,
/// which CommonMark does not read as emphasis between two letters, so
/// `能*创建*一个` shows its underscores. `<em>创建</em>` is what works.
fn emphasis_problems(text: &str) -> Vec<String> {
    let chars: Vec<char> = without_code(text).chars().collect();
    let han = |i: Option<usize>| {
        i.and_then(|i| chars.get(i)).is_some_and(|&c| is_han(c))
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !matches!(chars[i], '*' | '_') {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] == chars[start] {
            i += 1;
        }
        let (before, after) = (start.checked_sub(1), Some(i));
        let context: String = chars
            [start.saturating_sub(4)..(i + 4).min(chars.len())]
            .iter()
            .collect();
        let spaced_before = before.is_some_and(|b| chars[b] == ' ');
        let spaced_after = chars.get(i) == Some(&' ');
        if spaced_before
            && han(before.and_then(|b| b.checked_sub(1)))
            && han(after)
        {
            found.push(format!(
                "a space before an emphasised word: {context:?}"
            ));
        } else if spaced_after && han(before) && han(Some(i + 1)) {
            found
                .push(format!("a space after an emphasised word: {context:?}"));
        } else if i - start == 1 && han(before) && han(after) {
            found.push(format!(
                "`{}` between Chinese characters is not emphasis: use <em>…</em>: {context:?}",
                chars[start]
            ));
        }
    }
    found
}

#[test]
fn emphasised_chinese_words_have_no_spaces_around_them() {
    let mut problems = Vec::new();
    for message in zh_cn().iter().filter(|m| !m.obsolete) {
        for problem in emphasis_problems(&message.msgstr) {
            problems
                .push(format!("book/po/zh-CN.po:{}: {problem}", message.line));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn spaced_or_unreadable_emphasis_is_found() {
    assert_eq!(
        emphasis_problems(
            "只是内核<em>允许</em>。**共享**挂载，`max_*_x` 和 _subreaper_ 与 **veth 设备**，"
        ),
        Vec::<String>::new()
    );
    assert_eq!(emphasis_problems("调用能 _创建_ 一个").len(), 2);
    assert_eq!(emphasis_problems("调用能 *创建*一个").len(), 2);
    assert_eq!(emphasis_problems("调用能*创建*一个").len(), 2);
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
