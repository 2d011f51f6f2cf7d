//! nslab's build-it-yourself track (`cargo workshop`).
//!
//! A step is a chapter's `main.rs` with its lesson blocks left to write
//! ([`lesson`]), laid out in `workshop/my/` (git-ignored) as a crate of
//! its own that uses the same `nslab` machinery. `check` builds it and
//! runs the chapter's own tests against it ([`check`]): testkit takes the
//! binary under test from `NSLAB_UNDER_TEST`.

use std::path::{Path, PathBuf};

pub mod check;
pub mod lesson;
pub mod steps;

use steps::{STEPS, Step};

/// The commands of `cargo workshop`, each with its options, and whether
/// it takes a step (`Some(true)`: it must; `Some(false)`: it may).
pub const COMMANDS: [(&str, &[&str], Option<bool>); 7] = [
    ("help", &[], None),
    ("start", &[], Some(true)),
    ("check", &["--sudo"], Some(false)),
    ("watch", &["--manual", "--sudo"], Some(false)),
    ("hint", &[], Some(true)),
    ("solution", &["--give-up"], Some(true)),
    ("reset", &[], Some(true)),
];

/// Why `cargo workshop ARGS` would be refused, if it would.
pub fn refusal(args: &[&str]) -> Option<String> {
    let words: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with("--"))
        .collect();
    let (command, rest) = words.split_first()?;
    let Some((_, options, takes)) =
        COMMANDS.iter().find(|(name, _, _)| name == command)
    else {
        return Some(format!("unknown command '{command}'"));
    };
    if let Some(option) = args
        .iter()
        .find(|a| a.starts_with("--") && !options.contains(a))
    {
        return Some(format!("{command}: unknown option '{option}'"));
    }
    match (takes, rest) {
        (None, []) | (Some(false), []) | (Some(true | false), [_]) => {}
        _ => return Some(format!("{command}: wrong number of arguments")),
    }
    rest.first()
        .filter(|step| steps::find(step).is_none())
        .map(|step| format!("no step '{step}'"))
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workshop/ is in the repository")
        .to_path_buf()
}

/// Where the attendee's steps live (git-ignored).
pub fn my_dir() -> PathBuf {
    repo_root().join("workshop/my")
}

/// The attendee's crate for `step`.
pub fn step_dir(step: &Step) -> PathBuf {
    my_dir().join(step.chapter)
}

/// The attendee's file for `step`.
pub fn my_main(step: &Step) -> PathBuf {
    step_dir(step).join("src/main.rs")
}

/// Where the attendee's programs are built: beside the workspace's
/// `target/debug`, never over its binaries.
pub fn target_dir() -> PathBuf {
    repo_root().join("target/workshop")
}

/// The attendee's built binary of `step`.
pub fn my_binary(step: &Step) -> PathBuf {
    target_dir().join("debug").join(step.chapter)
}

/// The chapter's own `main.rs`, read now.
pub fn reference(step: &Step) -> std::io::Result<String> {
    std::fs::read_to_string(repo_root().join(step.chapter).join("src/main.rs"))
}

/// The step before `step`, if any.
pub fn previous(step: &Step) -> Option<&'static Step> {
    let index = STEPS.iter().position(|s| s.chapter == step.chapter)?;
    index.checked_sub(1).map(|i| &STEPS[i])
}

/// The step after `step`, if any.
pub fn next(step: &Step) -> Option<&'static Step> {
    let index = STEPS.iter().position(|s| s.chapter == step.chapter)?;
    STEPS.get(index + 1)
}

/// What the attendee has done, kept in `workshop/my/progress`: one line
/// per fact, `done ch01-uts` or `hints ch01-uts 2`.
#[derive(Debug, Default)]
pub struct Progress {
    lines: Vec<String>,
}

impl Progress {
    fn path() -> PathBuf {
        my_dir().join("progress")
    }

    pub fn load() -> Progress {
        let text = std::fs::read_to_string(Self::path()).unwrap_or_default();
        Progress {
            lines: text.lines().map(String::from).collect(),
        }
    }

    fn save(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(my_dir())?;
        let text: String =
            self.lines.iter().map(|line| format!("{line}\n")).collect();
        std::fs::write(Self::path(), text)
    }

    pub fn done(&self, step: &Step) -> bool {
        self.lines.contains(&format!("done {}", step.chapter))
    }

    pub fn set_done(&mut self, step: &Step, done: bool) -> std::io::Result<()> {
        let line = format!("done {}", step.chapter);
        self.lines.retain(|l| *l != line);
        if done {
            self.lines.push(line);
        }
        self.save()
    }

    pub fn hints_seen(&self, step: &Step) -> usize {
        let prefix = format!("hints {} ", step.chapter);
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix(&prefix)?.parse().ok())
            .unwrap_or(0)
    }

    pub fn set_hints_seen(
        &mut self,
        step: &Step,
        n: usize,
    ) -> std::io::Result<()> {
        let prefix = format!("hints {} ", step.chapter);
        self.lines.retain(|l| !l.starts_with(&prefix));
        self.lines.push(format!("{prefix}{n}"));
        self.save()
    }

    pub fn gave_up(&self, step: &Step) -> bool {
        self.lines.contains(&format!("gave-up {}", step.chapter))
    }

    pub fn set_gave_up(&mut self, step: &Step) -> std::io::Result<()> {
        let line = format!("gave-up {}", step.chapter);
        if !self.lines.contains(&line) {
            self.lines.push(line);
        }
        self.save()
    }
}

/// The state of a step, as the list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    NotStarted,
    InProgress,
    Done,
}

pub fn state(step: &Step, progress: &Progress) -> State {
    if !my_main(step).exists() {
        State::NotStarted
    } else if progress.done(step) {
        State::Done
    } else {
        State::InProgress
    }
}

/// The attendee's crate manifest for `step`: the chapter's own
/// dependencies, with the workspace's versions written out, and a
/// `[workspace]` of its own so that the repository's workspace (its
/// `cargo test --workspace`, its clippy) never includes it.
pub fn manifest(step: &Step) -> std::io::Result<String> {
    manifest_named(step, step.chapter, true)
}

/// The manifest of a crate of `step` named `name`, a workspace of its
/// own or not.
pub fn manifest_named(
    step: &Step,
    name: &str,
    own_workspace: bool,
) -> std::io::Result<String> {
    let root = repo_root();
    let workspace = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let chapter =
        std::fs::read_to_string(root.join(step.chapter).join("Cargo.toml"))?;
    let section = |text: &str, name: &str| -> Vec<String> {
        text.lines()
            .skip_while(|line| line.trim() != name)
            .skip(1)
            .take_while(|line| !line.starts_with('['))
            .filter(|line| {
                !line.trim().is_empty() && !line.trim().starts_with('#')
            })
            .map(String::from)
            .collect()
    };
    let shared: Vec<(String, String)> =
        section(&workspace, "[workspace.dependencies]")
            .iter()
            .filter_map(|line| {
                let (name, value) = line.split_once('=')?;
                Some((name.trim().to_string(), value.trim().to_string()))
            })
            .collect();
    let inner = |value: &str| -> String {
        value
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim()
            .to_string()
    };
    let mut out = format!(
        "# Made by `cargo workshop start {}`: your own crate, outside the\n\
         # repository's workspace. Edit src/main.rs; the rest is the chapter's.\n\
         [package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         publish = false\n\n[dependencies]\n",
        step.short(),
        name
    );
    for line in section(&chapter, "[dependencies]") {
        let (name, value) = line.split_once('=').unwrap_or((&line, ""));
        let name = name.trim().trim_end_matches(".workspace").to_string();
        let mut own: Vec<String> = if value.trim() == "true" {
            Vec::new()
        } else {
            inner(value)
                .split(", ")
                .filter(|part| part.trim() != "workspace = true")
                .map(String::from)
                .collect()
        };
        let base = shared
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone());
        let mut parts: Vec<String> = match base {
            Some(v) if v.starts_with('"') => vec![format!("version = {v}")],
            Some(v) => inner(&v)
                .split(", ")
                .map(|part| match part.split_once("path = ") {
                    Some((_, path)) => format!(
                        "path = {:?}",
                        root.join(path.trim_matches('"')).display().to_string()
                    ),
                    None => part.to_string(),
                })
                .collect(),
            None => Vec::new(),
        };
        parts.append(&mut own);
        out.push_str(&format!("{name} = {{ {} }}\n", parts.join(", ")));
    }
    if own_workspace {
        out.push_str("\n[workspace]\n");
    }
    Ok(out)
}

/// Lays out the attendee's crate for `step` (`main.rs` as given) and
/// copies the chapter's other source files (its help and welcome texts).
pub fn lay_out(step: &Step, main: Option<&str>) -> std::io::Result<()> {
    let dir = step_dir(step);
    std::fs::create_dir_all(dir.join("src"))?;
    write_if_changed(&dir.join("Cargo.toml"), manifest(step)?.as_bytes())?;
    lay_out_sources(step, &dir, main)
}

/// Writes `main` (if given) into `dir/src` with the chapter's other
/// source files, and `dir/Cargo.lock` from the workspace's.
pub fn lay_out_sources(
    step: &Step,
    dir: &Path,
    main: Option<&str>,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("src"))?;
    let lock = repo_root().join("Cargo.lock");
    if lock.exists() && !dir.join("Cargo.lock").exists() {
        std::fs::copy(lock, dir.join("Cargo.lock"))?;
    }
    for entry in std::fs::read_dir(repo_root().join(step.chapter).join("src"))?
    {
        let entry = entry?;
        if entry.file_name() != "main.rs" {
            write_if_changed(
                &dir.join("src").join(entry.file_name()),
                &std::fs::read(entry.path())?,
            )?;
        }
    }
    if let Some(main) = main {
        std::fs::write(dir.join("src/main.rs"), main)?;
    }
    Ok(())
}

/// Writes `path` only when its content differs: a check refreshes the
/// chapter's files, and `watch` must not see that as a save.
fn write_if_changed(path: &Path, content: &[u8]) -> std::io::Result<()> {
    if std::fs::read(path).ok().as_deref() == Some(content) {
        return Ok(());
    }
    std::fs::write(path, content)
}
