//! Every command the book shows runs as printed, once the chapters are
//! on `PATH` (the setup page's line): each `chNN-name` it types is a
//! program of the workspace, and is given only options that program
//! has. For ch01–ch06 that is the real parser, `nslab::cli::parse`,
//! with the namespaces of the chapter (read from its `flags` anchor);
//! for `ch07-inspect`, the subcommands and options its own help lists.
//! Pages, the README, and the transcripts' prompt lines are all read.

use std::collections::{BTreeMap, BTreeSet};

use book_check::commands::{
    Run, Shown, chapter_runs, command_lines, transcript_lines,
};
use book_check::{
    anchored_lines, book_src, files_ending_in, markdown_files, read, repo_root,
    shown,
};
use nix::sched::CloneFlags;

/// The programs of the workspace: members with a `src/main.rs`, by
/// package name.
fn programs() -> BTreeSet<String> {
    let manifest = read(&repo_root().join("Cargo.toml"));
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .expect("Cargo.toml lists its members")
        .0;
    members
        .split(',')
        .map(|member| member.trim().trim_matches('"'))
        .filter(|member| !member.is_empty())
        .filter(|member| repo_root().join(member).join("src/main.rs").exists())
        .map(|member| {
            let manifest = read(&repo_root().join(member).join("Cargo.toml"));
            manifest
                .lines()
                .find_map(|line| line.strip_prefix("name = "))
                .map(|name| name.trim_matches('"').to_string())
                .unwrap_or_else(|| panic!("{member}/Cargo.toml has no name"))
        })
        .collect()
}

/// The namespaces a chapter creates: the `CLONE_NEW*` flags of its
/// `flags` anchor, or None for a program without one (`ch07-inspect`).
fn namespaces(program: &str) -> Option<CloneFlags> {
    let source = read(&repo_root().join(program).join("src/main.rs"));
    let lines = anchored_lines(&source, "flags")?;
    let mut flags = CloneFlags::empty();
    for line in lines {
        for word in line.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        {
            if word.starts_with("CLONE_NEW") {
                flags |= CloneFlags::from_name(word)
                    .unwrap_or_else(|| panic!("{program}: no flag {word}"));
            }
        }
    }
    assert!(!flags.is_empty(), "{program}: no CLONE_NEW* in its flags");
    Some(flags)
}

/// `ch07-inspect`'s subcommands, each with the options its help lists.
fn inspect_commands() -> BTreeMap<String, BTreeSet<String>> {
    let help = |args: &[&str]| {
        let out =
            std::process::Command::new(nslab_testkit::bin("ch07-inspect"))
                .args(args)
                .output()
                .expect(
                    "cannot run ch07-inspect: `cargo build --workspace` first",
                );
        assert!(out.status.success(), "ch07-inspect {args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("help is UTF-8")
    };
    let section = |text: &str, title: &str| -> Vec<String> {
        text.lines()
            .skip_while(|line| *line != title)
            .skip(1)
            .take_while(|line| line.starts_with(' '))
            .map(str::to_string)
            .collect()
    };
    let mut commands = BTreeMap::new();
    for line in section(&help(&["--help"]), "Commands:") {
        // A command's line is indented by two; its words go on further in.
        let Some(name) =
            line.strip_prefix("  ").filter(|l| !l.starts_with(' '))
        else {
            continue;
        };
        let name = name.split_whitespace().next().unwrap().to_string();
        let options = section(&help(&["help", &name]), "Options:")
            .iter()
            .flat_map(|line| line.split([' ', ',']).map(str::to_string))
            .filter(|word| word.starts_with('-') && word.len() > 1)
            .collect();
        commands.insert(name, options);
    }
    assert!(
        commands.len() >= 10,
        "ch07-inspect's commands: {commands:?}"
    );
    commands
}

/// What the book may type: the programs, the namespaces of each chapter,
/// and ch07-inspect's commands.
struct Programs {
    names: BTreeSet<String>,
    chapters: BTreeMap<String, CloneFlags>,
    inspect: BTreeMap<String, BTreeSet<String>>,
}

impl Programs {
    fn of_the_workspace() -> Programs {
        let names = programs();
        let chapters = names
            .iter()
            .filter_map(|name| Some((name.clone(), namespaces(name)?)))
            .collect();
        Programs {
            names,
            chapters,
            inspect: inspect_commands(),
        }
    }

    /// Why `run` would not work as printed, if it would not.
    fn problem(&self, run: &Run) -> Option<String> {
        let Some(args) = &run.args else {
            return (!self.names.contains(&run.program))
                .then(|| "no such program in the workspace".into());
        };
        if let Some(namespaces) = self.chapters.get(&run.program) {
            let args = args.iter().map(Into::into);
            return nslab::cli::parse(*namespaces, args).err();
        }
        if run.program == "ch07-inspect" {
            return self.inspect_problem(args);
        }
        Some("no such program in the workspace".into())
    }

    fn inspect_problem(&self, args: &[String]) -> Option<String> {
        // No command at all prints the help: nothing to check.
        let (name, rest) = args.split_first()?;
        let is_help = |word: &str| matches!(word, "-h" | "--help" | "help");
        if is_help(name) {
            return rest
                .first()
                .filter(|sub| !self.inspect.contains_key(*sub) && !is_help(sub))
                .map(|sub| format!("unknown command '{sub}'"));
        }
        let Some(options) = self.inspect.get(name) else {
            return Some(format!("unknown command '{name}'"));
        };
        for word in rest {
            if word == "--" {
                break;
            }
            let is_option = word.starts_with('-')
                && word.len() > 1
                && !word[1..].bytes().all(|b| b.is_ascii_digit());
            if !is_option {
                // What follows `enter`'s target is the command's own.
                if name == "enter" {
                    break;
                }
                continue;
            }
            let option = word.split('=').next().unwrap();
            if !is_help(option) && !options.contains(option) {
                return Some(format!("unknown option '{option}'"));
            }
        }
        None
    }

    /// Every problem in the command lines of one file. A transcript
    /// may show a command that fails on purpose: when the line after it
    /// is the program's refusal, exactly as predicted, the command does
    /// what the book says it does.
    fn problems_in(
        &self,
        file: &str,
        lines: &[Shown],
        transcript: Option<&str>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for shown in lines {
            for run in chapter_runs(&shown.text) {
                if let Some(problem) = self.problem(&run) {
                    let refusal = format!("{}: {problem}", run.program);
                    let output =
                        transcript.and_then(|t| t.lines().nth(shown.line));
                    if output == Some(refusal.as_str()) {
                        continue;
                    }
                    problems.push(format!(
                        "{file}:{}: `{}`: {}: {problem}",
                        shown.line, shown.text, run.program
                    ));
                }
            }
        }
        problems
    }
}

#[test]
fn every_chapter_command_in_the_book_names_a_program_and_its_options() {
    let programs = Programs::of_the_workspace();
    assert!(programs.chapters.len() >= 6, "{:?}", programs.chapters);
    let mut problems = Vec::new();
    let mut runs = 0;
    let mut files = markdown_files(&book_src());
    files.push(repo_root().join("README.md"));
    files.extend(files_ending_in(&book_src().join("generated"), "txt"));
    for file in &files {
        let text = read(file);
        let (lines, transcript) = if file.extension().is_some_and(|e| e == "md")
        {
            (command_lines(&text), None)
        } else {
            (transcript_lines(&text), Some(text.as_str()))
        };
        runs += lines
            .iter()
            .map(|l| chapter_runs(&l.text).len())
            .sum::<usize>();
        problems.extend(programs.problems_in(&shown(file), &lines, transcript));
    }
    assert!(
        runs >= 100,
        "only {runs} chapter commands found: is book/src there?"
    );
    assert!(
        problems.is_empty(),
        "commands that would not run as printed:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_made_up_program_or_option_is_caught() {
    let programs = Programs::of_the_workspace();
    let page = "Try `ch03-pid --frobnicate` and `ch01-uts --init`.\n\n\
                ```sh\n\
                ch08-nope\n\
                ch07-inspect enter --all PID\n\
                ch07-inspect frobnicate\n\
                unshare --user sh -c 'ch05-user --veth'\n\
                ch06-net --veth --map-root -- ip --bogus addr\n\
                ch07-inspect enter PID ls --bogus\n\
                ch07-inspect unshare --boottime=5 time -- ls --bogus\n\
                ```\n";
    let problems = programs.problems_in("page.md", &command_lines(page), None);
    let expected = [
        "page.md:1: `ch03-pid --frobnicate`: ch03-pid: unknown option '--frobnicate'",
        "page.md:1: `ch01-uts --init`: ch01-uts: --init needs a PID namespace (ch03-pid on)",
        "page.md:4: `ch08-nope`: ch08-nope: no such program in the workspace",
        "page.md:5: `ch07-inspect enter --all PID`: ch07-inspect: unknown option '--all'",
        "page.md:6: `ch07-inspect frobnicate`: ch07-inspect: unknown command 'frobnicate'",
        "page.md:7: `unshare --user sh -c 'ch05-user --veth'`: ch05-user: --veth needs a network namespace (ch06-net on)",
    ];
    assert_eq!(problems, expected);
    // A transcript that shows the refusal shows what the command does.
    let transcript = "host# ch03-pid --frobnicate\n\
                      ch03-pid: unknown option '--frobnicate'\n\
                      host# ch03-pid --veth\n\
                      ch03-pid: unknown option '--veth'\n";
    let lines = transcript_lines(transcript);
    let problems = programs.problems_in("t.txt", &lines, Some(transcript));
    assert_eq!(
        problems,
        [
            "t.txt:3: `ch03-pid --veth`: ch03-pid: --veth needs a network \
          namespace (ch06-net on)"
        ]
    );
}

/// The one line that puts the chapters on `PATH`.
const SETUP_LINE: &str =
    r#"cargo build --workspace && export PATH="$PWD/target/debug:$PATH""#;

#[test]
fn the_readme_and_the_setup_page_give_the_same_setup_line() {
    for file in [repo_root().join("README.md"), book_src().join("setup.md")] {
        let lines = command_lines(&read(&file));
        assert!(
            lines.iter().any(|shown| shown.text == SETUP_LINE),
            "{} must give the setup line: {SETUP_LINE}",
            shown(&file)
        );
    }
    // Its `export`, run at the root of the repository, puts the
    // directory that cargo builds the chapters into first on PATH
    // (unless CARGO_TARGET_DIR moves it: the setup page says what to do
    // then).
    if std::env::var_os("CARGO_TARGET_DIR").is_some() {
        return;
    }
    let dir = repo_root().join("target/debug");
    // Where cargo built it (not the staged copy that `bin` may give).
    let built = nslab_testkit::assert_cmd::cargo::cargo_bin("ch03-pid");
    assert_eq!(built, dir.join("ch03-pid"));
    let (_, export) = SETUP_LINE.split_once(" && ").unwrap();
    let out = std::process::Command::new("bash")
        .args(["-c", &format!("{export}; command -v ch03-pid ch07-inspect")])
        .current_dir(repo_root())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("cannot run bash");
    let expected = format!(
        "{}\n{}\n",
        dir.join("ch03-pid").display(),
        dir.join("ch07-inspect").display()
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{out:?}");
}

/// Every `cargo workshop …` the book and the README show is a command
/// the workshop has, with its options and a real step.
#[test]
fn every_workshop_command_shown_is_one_the_workshop_takes() {
    let mut files: Vec<std::path::PathBuf> = markdown_files(&book_src());
    files.push(repo_root().join("README.md"));
    let mut problems = Vec::new();
    let mut seen = 0;
    for file in &files {
        for shown in command_lines(&read(file)) {
            for command in book_check::commands::command_words(&shown.text) {
                let words: Vec<&str> =
                    command.iter().map(String::as_str).collect();
                if !words.starts_with(&["cargo", "workshop"]) {
                    continue;
                }
                seen += 1;
                if let Some(why) = workshop::refusal(&words[2..]) {
                    problems.push(format!(
                        "{}:{}: `{}`: {why}",
                        file.display(),
                        shown.line,
                        words.join(" ")
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(seen > 0, "no `cargo workshop` shown anywhere");
    // And a made-up one is caught.
    assert!(workshop::refusal(&["start", "ch09"]).is_some());
    assert!(workshop::refusal(&["check", "ch01", "--fast"]).is_some());
    assert!(workshop::refusal(&["solution", "ch03", "--give-up"]).is_none());
}
