//! The commands that the book shows, and the chapters they run: every
//! line of a `sh` block, every line after a prompt in a `text` or
//! `console` block or a transcript, and every inline code span; in each,
//! every word that names a chapter (`ch03-pid`, `ch07-inspect`), with
//! the arguments that follow it, also inside `sh -c '…'` and `$(…)`.
//!
//! This is not a shell: it splits words and quotes the way `sh` does,
//! which is all it takes to find what a page asks the reader to type.

/// A command line shown on a page: its 1-based line, and its text.
#[derive(Debug, PartialEq, Eq)]
pub struct Shown {
    pub line: usize,
    pub text: String,
}

/// The command lines of a Markdown page.
pub fn command_lines(page: &str) -> Vec<Shown> {
    let mut found = Vec::new();
    let mut block: Option<String> = None;
    let mut paragraph: Option<Shown> = None;
    let mut continued: Option<Shown> = None;
    for (index, line) in page.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim_start();
        let fence = trimmed.starts_with("```") || trimmed.starts_with("~~~");
        match &block {
            None if fence => {
                found.extend(paragraph.take().into_iter().flat_map(spans));
                let info = trimmed.trim_start_matches(['`', '~']).trim();
                block = Some(info.split([',', ' ']).next().unwrap().into());
            }
            None if trimmed.is_empty() => {
                found.extend(paragraph.take().into_iter().flat_map(spans));
            }
            None => match &mut paragraph {
                Some(shown) => {
                    shown.text.push(' ');
                    shown.text.push_str(trimmed);
                }
                None => {
                    paragraph = Some(Shown {
                        line: number,
                        text: trimmed.into(),
                    })
                }
            },
            Some(_) if fence => block = None,
            Some(language) => {
                let command = match language.as_str() {
                    "sh" | "bash" | "shell" => Some(line),
                    "text" | "console" | "" => after_prompt(line),
                    _ => None,
                };
                let Some(command) = command else { continue };
                // A line that ends with `\` goes on on the next one.
                let shown = match continued.take() {
                    Some(mut start) => {
                        start.text.push_str(command);
                        start
                    }
                    None => Shown {
                        line: number,
                        text: command.into(),
                    },
                };
                match shown.text.strip_suffix('\\') {
                    Some(text) => {
                        continued = Some(Shown {
                            line: shown.line,
                            text: text.into(),
                        })
                    }
                    None => found.push(shown),
                }
            }
        }
    }
    found.extend(paragraph.into_iter().flat_map(spans));
    found
}

/// The inline code spans of a paragraph (`` `…` ``, ``` `` … `` ```).
fn spans(paragraph: Shown) -> Vec<Shown> {
    let mut found = Vec::new();
    let mut rest = paragraph.text.as_str();
    while let Some(start) = rest.find('`') {
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        let fence = "`".repeat(ticks);
        let Some(end) = find_run(after, &fence) else {
            break;
        };
        found.push(Shown {
            line: paragraph.line,
            text: after[..end].trim().into(),
        });
        rest = &after[end + ticks..];
    }
    found
}

/// Where a run of exactly `fence` backticks starts in `text`.
fn find_run(text: &str, fence: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find(fence) {
        let at = from + at;
        let run = text[at..].chars().take_while(|&c| c == '`').count();
        if run == fence.len() {
            return Some(at);
        }
        from = at + run;
    }
    None
}

/// The command lines of a transcript: what follows each prompt. A
/// command longer than the terminal is stored cut into rows exactly
/// [`crate::TRANSCRIPT_COLUMNS`] wide; its rows are joined again.
pub fn transcript_lines(text: &str) -> Vec<Shown> {
    let rows: Vec<&str> = text.lines().collect();
    let mut shown = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let Some(command) = after_prompt(row) else {
            continue;
        };
        let mut command = command.to_string();
        let mut last = *row;
        for next in &rows[index + 1..] {
            if last.chars().count() != crate::TRANSCRIPT_COLUMNS {
                break;
            }
            command.push_str(next);
            last = next;
        }
        shown.push(Shown {
            line: index + 1,
            text: command,
        });
    }
    shown
}

/// What follows a prompt at the start of `line`: `$ `, `# `, `host# `,
/// `user$ `, or a shell's `user@host:dir# ` (in a chapter, after the
/// chapter's name: `(ch03-pid) root@vm:~# `).
pub fn after_prompt(line: &str) -> Option<&str> {
    let rest = match line.strip_prefix('(') {
        Some(inner) => &inner[inner.find(") ")? + 2..],
        None => line,
    };
    for prompt in ["host# ", "user$ ", "$ ", "# "] {
        if let Some(command) = rest.strip_prefix(prompt) {
            return Some(command);
        }
    }
    let (prompt, command) = rest.split_once(' ')?;
    let (user, place) = prompt.split_once('@')?;
    let is_prompt = !user.is_empty()
        && user.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && place.contains(':')
        && (prompt.ends_with('#') || prompt.ends_with('$'));
    is_prompt.then_some(command)
}

/// One run of a chapter: the program's name and what follows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Run {
    pub program: String,
    /// The arguments, or None where the name is not run here but only
    /// named (`pgrep -x ch03-pid`, `cargo test -p ch05-user`).
    pub args: Option<Vec<String>>,
}

/// True for a word that names a chapter: `chNN-name`.
pub fn is_chapter_name(word: &str) -> bool {
    let Some(rest) = word.strip_prefix("ch") else {
        return false;
    };
    let bytes = rest.as_bytes();
    bytes.len() > 3
        && bytes[..2].iter().all(u8::is_ascii_digit)
        && bytes[2] == b'-'
        && rest[3..].split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Programs whose arguments name processes or commands, not run them.
const NAMERS: [&str; 8] = [
    "pgrep", "pkill", "pidof", "killall", "command", "which", "type", "man",
];

/// The runs of chapters in a command line, also those inside quoted
/// scripts (`sh -c '…'`) and command substitutions (`$(…)`).
pub fn chapter_runs(line: &str) -> Vec<Run> {
    let mut runs = Vec::new();
    for command in simple_commands(line) {
        for word in command.iter().filter(|w| w.quoted) {
            if word.text.contains([' ', ';', '$']) {
                runs.extend(chapter_runs(&word.text));
            }
        }
        let words: Vec<&str> =
            command.iter().map(|w| w.text.as_str()).collect();
        for (at, word) in words.iter().enumerate() {
            if !is_chapter_name(word) {
                continue;
            }
            let before = at.checked_sub(1).map(|i| words[i]);
            let args = if matches!(before, Some("-p" | "--package")) {
                // cargo run -p NAME [cargo's options] -- ARGS
                let runs_it = words[..at].contains(&"cargo")
                    && words[..at]
                        .iter()
                        .any(|w| matches!(*w, "run" | "sudo-run"));
                let after = &words[at + 1..];
                runs_it.then(|| match after.iter().position(|w| *w == "--") {
                    Some(dash) => after[dash + 1..]
                        .iter()
                        .map(|w| w.to_string())
                        .collect(),
                    None => Vec::new(),
                })
            } else if matches!(before, Some("-x" | "-C"))
                || NAMERS.contains(&words[0])
                || words.starts_with(&["cargo", "workshop"])
            {
                None
            } else {
                Some(words[at + 1..].iter().map(|w| w.to_string()).collect())
            };
            runs.push(Run {
                program: word.to_string(),
                args,
            });
        }
    }
    runs
}

/// The words of each simple command in `line`, as the shell splits them.
pub fn command_words(line: &str) -> Vec<Vec<String>> {
    simple_commands(line)
        .into_iter()
        .map(|words| words.into_iter().map(|w| w.text).collect())
        .collect()
}

/// A word as the shell sees it: quotes removed, and whether any part of
/// it was quoted.
#[derive(Debug, Default, PartialEq, Eq)]
struct Word {
    text: String,
    quoted: bool,
}

/// The words of each simple command in `line`: split at `;`, `&`, `|`,
/// parentheses, backquotes and `$(`; redirections and comments left out.
fn simple_commands(line: &str) -> Vec<Vec<Word>> {
    let mut split = Splitter::default();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => split.end_word(),
            '#' if !split.started => break,
            '\'' => {
                split.start(true);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    split.word.text.push(c);
                }
            }
            '"' => {
                split.start(true);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => {
                                split.word.text.push(n)
                            }
                            Some(n) => split.word.text.extend(['\\', n]),
                            None => {}
                        },
                        c => split.word.text.push(c),
                    }
                }
            }
            '\\' => {
                split.start(false);
                split.word.text.extend(chars.next());
            }
            '<' | '>' => {
                // `2>` and `3<`: the digits were a descriptor, not a word.
                let digits =
                    split.word.text.bytes().all(|b| b.is_ascii_digit());
                if split.started && digits {
                    split.word = Word::default();
                    split.started = false;
                } else {
                    split.end_word();
                }
                while chars.next_if(|c| matches!(c, '<' | '>' | '|')).is_some()
                {
                }
                if chars.next_if_eq(&'&').is_some() {
                    // `>&2`, `<&-`: the target is part of the operator.
                    while chars
                        .next_if(|c| c.is_ascii_digit() || *c == '-')
                        .is_some()
                    {}
                } else {
                    split.drop_next = true;
                }
            }
            '$' if chars.peek() == Some(&'(') => {
                chars.next();
                split.end_command();
            }
            ';' | '&' | '|' | '(' | ')' | '`' => split.end_command(),
            c => {
                split.start(false);
                split.word.text.push(c);
            }
        }
    }
    split.end_command();
    split.commands
}

/// The state of [`simple_commands`]: the commands so far, the word being
/// read, and whether the next word is a redirection's target.
#[derive(Default)]
struct Splitter {
    commands: Vec<Vec<Word>>,
    current: Vec<Word>,
    word: Word,
    started: bool,
    drop_next: bool,
}

impl Splitter {
    fn start(&mut self, quoted: bool) {
        self.started = true;
        self.word.quoted |= quoted;
    }

    fn end_word(&mut self) {
        if !self.started {
            return;
        }
        self.started = false;
        let word = std::mem::take(&mut self.word);
        if std::mem::take(&mut self.drop_next) {
            return;
        }
        self.current.push(word);
    }

    fn end_command(&mut self) {
        self.end_word();
        if !self.current.is_empty() {
            self.commands.push(std::mem::take(&mut self.current));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(program: &str, args: &[&str]) -> Run {
        Run {
            program: program.into(),
            args: Some(args.iter().map(|a| a.to_string()).collect()),
        }
    }

    #[test]
    fn a_chapter_and_its_arguments_up_to_the_next_command() {
        assert_eq!(
            chapter_runs("ch03-pid --init -- sh -c 'exit 3'; echo $? # note"),
            [run("ch03-pid", &["--init", "--", "sh", "-c", "exit 3"])]
        );
        assert_eq!(
            chapter_runs("ch01-uts --help >/dev/full 2>&1 | cat"),
            [run("ch01-uts", &["--help"])]
        );
        assert_eq!(
            chapter_runs("exec 7</etc/hostname; sudo ch05-user --map-root"),
            [run("ch05-user", &["--map-root"])]
        );
    }

    #[test]
    fn chapters_inside_scripts_and_substitutions_are_found() {
        let line = "unshare --user sh -c 'echo 0 >/proc/x; ch03-pid true'";
        assert_eq!(chapter_runs(line), [run("ch03-pid", &["true"])]);
        let line = "ch07-inspect ns \"$(pgrep -n -x ch03-pid)\"";
        let runs = chapter_runs(line);
        assert_eq!(runs.len(), 2, "{runs:?}");
        assert!(runs.contains(&run(
            "ch07-inspect",
            &["ns", "$(pgrep -n -x ch03-pid)"]
        )));
        let named = Run {
            program: "ch03-pid".into(),
            args: None,
        };
        assert!(runs.contains(&named), "pgrep -x only names it: {runs:?}");
    }

    #[test]
    fn cargo_runs_take_the_arguments_after_the_double_dash() {
        assert_eq!(
            chapter_runs("cargo run -p ch05-user -- --map-root"),
            [run("ch05-user", &["--map-root"])]
        );
        let runs = chapter_runs("cargo test -p ch05-user -- --nocapture");
        assert_eq!(runs[0].args, None);
    }

    #[test]
    fn paths_and_messages_are_not_chapters() {
        for text in [
            "ch01-uts/src/main.rs",
            "ch01-uts: cannot",
            "chNN-name",
            "ch1-x",
        ] {
            assert!(chapter_runs(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn prompts_are_told_from_output() {
        assert_eq!(after_prompt("host# ch01-uts"), Some("ch01-uts"));
        assert_eq!(
            after_prompt("(ch03-pid) root@vm:~# echo $$"),
            Some("echo $$")
        );
        assert_eq!(after_prompt("nobody@vm:/tmp$ id"), Some("id"));
        assert_eq!(after_prompt("uid=0(root) gid=0(root)"), None);
        assert_eq!(after_prompt("ch01-uts: new UTS namespace"), None);
    }

    #[test]
    fn pages_give_blocks_prompt_lines_and_inline_code() {
        let page = "Run `ch01-uts --help`, or\n`ch03-pid\n--init`.\n\n\
                    ```sh\nch02-ipc \\\n  -- true\n```\n\
                    ```text\n$ ch04-mount\noutput ch05-user --bad\n```\n\
                    ```rust,ignore\nch06-net --bad\n```\n";
        let texts: Vec<(usize, String)> = command_lines(page)
            .into_iter()
            .map(|s| (s.line, s.text))
            .collect();
        assert_eq!(
            texts,
            [
                (1, "ch01-uts --help".into()),
                (1, "ch03-pid --init".into()),
                (6, "ch02-ipc   -- true".into()),
                (10, "ch04-mount".into()),
            ]
        );
    }

    #[test]
    fn a_command_cut_at_the_terminal_width_is_joined_again() {
        let command = format!("ch03-pid -- echo {}", "x".repeat(70));
        let (first, rest) = command.split_at(crate::TRANSCRIPT_COLUMNS - 6);
        let text = format!("host# {first}\n{rest}\nhost# ch01-uts\nx\n");
        let texts: Vec<String> = transcript_lines(&text)
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(texts, [command, "ch01-uts".into()]);
    }
}
