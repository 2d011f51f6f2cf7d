//! The workshop kept honest, for every step: (a) the blank step fails,
//! (b) the reference passes (the chapter's own tests, run by
//! `cargo test --workspace`), (c) the blank step with the reference's
//! lesson blocks filled in is the reference, line for line, and (d) a
//! typical mistake fails the chapter's tests with the message that names
//! it. All variants are built by one cargo invocation, into one target
//! directory kept between runs.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use workshop::check::{self, Verdict};
use workshop::steps::{STEPS, Step, find};
use workshop::{lesson, previous, reference, repo_root};

fn source(step: &Step) -> String {
    reference(step)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", step.chapter))
}

/// The blank step, made as `cargo workshop start` makes it for an
/// attendee who skipped the step before.
fn blank(step: &Step) -> String {
    let previous = previous(step).map(source);
    lesson::make(step, &source(step), previous.as_deref(), None).source
}

/// A typical mistake per step: in the reference's block `block`, `find`
/// replaced by `replace`; the chapter tests `filter` must fail, and say
/// `names`.
struct Mistake {
    step: &'static str,
    block: &'static str,
    find: &'static str,
    replace: &'static str,
    filter: &'static str,
    names: &'static str,
}

const MISTAKES: [Mistake; 6] = [
    Mistake {
        step: "ch01",
        block: "flags",
        find: "CloneFlags::CLONE_NEWUTS;",
        replace: "CloneFlags::empty();",
        filter: "creates_exactly_its_namespaces",
        names: "is CLONE_NEWUTS in NAMESPACES?",
    },
    Mistake {
        step: "ch02",
        block: "flags",
        find: ".union(CloneFlags::CLONE_NEWIPC)",
        replace: "",
        filter: "host_queue_is_not_listed_inside",
        names: "is CLONE_NEWIPC in NAMESPACES?",
    },
    Mistake {
        step: "ch03",
        block: "flags",
        find: ".union(CloneFlags::CLONE_NEWPID)",
        replace: "",
        filter: "echo_dollar_dollar_prints_1",
        names: "is CLONE_NEWPID in NAMESPACES?",
    },
    Mistake {
        step: "ch04",
        block: "setup",
        find: "make_root_private()?;",
        replace: "",
        filter: "a_mount_inside_does_not_reach_a_shared_host",
        names: "/ was not made private",
    },
    Mistake {
        step: "ch05",
        block: "map_root",
        find: "nslab::write_self(\"setgroups\", \"deny\")?;",
        replace: "",
        filter: "map_root_is_root_inside",
        names: "does the child itself deny setgroups",
    },
    Mistake {
        step: "ch06",
        block: "flags",
        find: ".union(CloneFlags::CLONE_NEWNET)",
        replace: "",
        filter: "only_lo_also_without_root",
        names: "is CLONE_NEWNET in NAMESPACES?",
    },
];

fn mistaken(mistake: &Mistake) -> String {
    let step = find(mistake.step).unwrap();
    let reference = source(step);
    let block = lesson::block(&reference, mistake.block).unwrap_or_else(|| {
        panic!("{}: no `{}` block", step.chapter, mistake.block)
    });
    assert_eq!(
        block.matches(mistake.find).count(),
        1,
        "{}: the mistake no longer applies: `{}` is not once in its `{}` block",
        step.chapter,
        mistake.find,
        mistake.block
    );
    let wrong = block.replace(mistake.find, mistake.replace);
    lesson::replace(&reference, mistake.block, &wrong).unwrap()
}

/// The variants' workspace, built once: `blank-chNN-…` packages (each
/// step's blank) and `chNN-…` packages (each step's mistake). Returns
/// cargo's messages.
fn built() -> &'static str {
    static BUILT: OnceLock<String> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = repo_root().join("target/workshop-ci/variants");
        let mut members = Vec::new();
        for step in &STEPS {
            let name = format!("blank-{}", step.chapter);
            let package = dir.join(&name);
            std::fs::create_dir_all(&package).unwrap();
            std::fs::write(
                package.join("Cargo.toml"),
                workshop::manifest_named(step, &name, false).unwrap(),
            )
            .unwrap();
            workshop::lay_out_sources(step, &package, Some(&blank(step)))
                .unwrap();
            members.push(name);
        }
        for mistake in &MISTAKES {
            let step = find(mistake.step).unwrap();
            let package = dir.join(step.chapter);
            std::fs::create_dir_all(&package).unwrap();
            std::fs::write(
                package.join("Cargo.toml"),
                workshop::manifest_named(step, step.chapter, false).unwrap(),
            )
            .unwrap();
            workshop::lay_out_sources(step, &package, Some(&mistaken(mistake)))
                .unwrap();
            members.push(step.chapter.to_string());
        }
        let list: Vec<String> =
            members.iter().map(|m| format!("{m:?}")).collect();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
                list.join(", ")
            ),
        )
        .unwrap();
        let lock = repo_root().join("Cargo.lock");
        if !dir.join("Cargo.lock").exists() {
            std::fs::copy(lock, dir.join("Cargo.lock")).unwrap();
        }
        let out = Command::new(
            std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        )
        .current_dir(repo_root())
        .args([
            "build",
            "--keep-going",
            "--message-format=short",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", repo_root().join("target/workshop-ci"))
        .output()
        .expect("cannot run cargo");
        String::from_utf8_lossy(&out.stderr).into_owned()
    })
}

fn mistake_binary(step: &Step) -> PathBuf {
    repo_root()
        .join("target/workshop-ci/debug")
        .join(step.chapter)
}

#[test]
fn a_every_blank_step_fails_at_its_first_todo() {
    let messages = built();
    for step in &STEPS {
        let text = blank(step);
        assert!(
            text.contains("todo!("),
            "{}: nothing is blank",
            step.chapter
        );
        let errors: Vec<&str> = messages
            .lines()
            .filter(|l| {
                l.starts_with(&format!("blank-{}/src/main.rs", step.chapter))
            })
            .collect();
        assert!(
            errors.iter().any(|l| l.contains("not yet implemented")),
            "the blank {} must not build: it stops at its todo!() ({errors:?})\n{messages}",
            step.chapter
        );
    }
}

#[test]
fn c_the_blank_step_filled_with_the_references_blocks_is_the_reference() {
    for step in &STEPS {
        let reference = source(step);
        let made = blank(step);
        assert_ne!(
            made, reference,
            "{}: the blank step is complete",
            step.chapter
        );
        assert!(!made.is_empty());
        assert_eq!(
            lesson::fill(&made, &reference),
            reference,
            "{}: the blank step filled in is not the chapter",
            step.chapter
        );
        // Started from the attendee's own step before (here: its
        // reference, filled in), it is the same.
        if let Some(before) = previous(step) {
            let mine = source(before);
            let carried =
                lesson::make(step, &reference, Some(&mine), Some(&mine)).source;
            assert_eq!(lesson::fill(&carried, &reference), reference);
        }
    }
}

#[test]
fn c_each_step_leaves_exactly_its_chapters_new_blocks() {
    let blanks: Vec<Vec<&str>> = STEPS
        .iter()
        .map(|step| {
            let previous = previous(step).map(source);
            lesson::new_blocks(&source(step), previous.as_deref())
        })
        .collect();
    assert_eq!(blanks[0], ["flags", "clone", "setup"]);
    for (step, blank) in STEPS.iter().zip(&blanks) {
        assert!(
            blank.contains(&"flags"),
            "{}: its flag is left to write",
            step.chapter
        );
        for name in blank {
            assert!(
                step.tasks.iter().any(|(block, _)| block == name),
                "{}: block `{name}` has no task",
                step.chapter
            );
        }
    }
    assert!(blanks[3].contains(&"private") && blanks[3].contains(&"setup"));
    assert!(blanks[4].contains(&"map_root"));
}

#[test]
fn d_a_typical_mistake_fails_with_the_message_that_names_it() {
    let messages = built();
    for mistake in &MISTAKES {
        let step = find(mistake.step).unwrap();
        if step.needs_root && !nslab_testkit::have_root(step.chapter) {
            continue;
        }
        let binary = mistake_binary(step);
        assert!(
            binary.exists(),
            "{}'s mistake did not build:\n{messages}",
            step.chapter
        );
        let verdict =
            check::judge_some(step, &binary, false, &[mistake.filter]);
        let Verdict::Failed { failed, .. } = &verdict else {
            panic!(
                "{}: the mistake must fail {}: {verdict:?}",
                step.chapter, mistake.filter
            );
        };
        assert!(
            failed
                .iter()
                .any(|(_, message)| message.contains(mistake.names)),
            "{}: the failure must say {:?}: {failed:?}",
            step.chapter,
            mistake.names
        );
    }
}
