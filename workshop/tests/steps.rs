//! The workshop kept honest, for every step: (a) the blank step fails,
//! (b) the reference passes (the chapter's own tests, run by
//! `cargo test --workspace`, and here the claims of (d) through the
//! check itself), (c) the blank step with the reference's
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
        find: "set_root_propagation(launch.options().propagation)?;",
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
/// step's blank) and `mistake-chNN-…` packages (each step's mistake).
/// It is built into the workspace's own `target/`, with the workspace's
/// features of each dependency (a member that asks for them all) and
/// its profile, so that `nslab`, `nix` and the rest are already built by
/// `cargo test --workspace`: only the variants themselves compile.
/// Returns cargo's messages.
fn built() -> &'static str {
    static BUILT: OnceLock<String> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root();
        let dir = root.join("target/workshop-ci/variants");
        let mut members = Vec::new();
        let mut add = |name: String, step: &Step, main: &str| {
            let package = dir.join(&name);
            std::fs::create_dir_all(&package).unwrap();
            std::fs::write(
                package.join("Cargo.toml"),
                workshop::manifest_named(step, &name, false).unwrap(),
            )
            .unwrap();
            workshop::lay_out_sources(step, &package, Some(main)).unwrap();
            members.push(name);
        };
        for step in &STEPS {
            add(format!("blank-{}", step.chapter), step, &blank(step));
        }
        for mistake in &MISTAKES {
            let step = find(mistake.step).unwrap();
            add(format!("mistake-{}", step.chapter), step, &mistaken(mistake));
        }
        // The features the workspace's members turn on, per dependency.
        let workspace = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let mut features: std::collections::BTreeMap<String, Vec<String>> =
            Default::default();
        for entry in std::fs::read_dir(&root).unwrap() {
            let manifest = entry.unwrap().path().join("Cargo.toml");
            for line in std::fs::read_to_string(manifest).unwrap_or_default().lines() {
                let Some((name, rest)) = line.split_once(" = {") else { continue };
                if !rest.contains("workspace = true") || name.starts_with('[') {
                    continue;
                }
                let list = rest.split_once("features = [").map(|(_, l)| l);
                let list = list.and_then(|l| l.split_once(']')).map(|(l, _)| l);
                let wanted = features.entry(name.trim().to_string()).or_default();
                for feature in list.unwrap_or("").split(',') {
                    let feature = feature.trim().to_string();
                    if !feature.is_empty() && !wanted.contains(&feature) {
                        wanted.push(feature);
                    }
                }
            }
        }
        let same = dir.join("same-features");
        std::fs::create_dir_all(same.join("src")).unwrap();
        std::fs::write(same.join("src/lib.rs"), "").unwrap();
        let mut manifest = String::from(
            "[package]\nname = \"same-features\"\nversion = \"0.1.0\"\n\
             edition = \"2024\"\npublish = false\n\n[dependencies]\n",
        );
        for (name, wanted) in &features {
            if ["nix", "libc", "anyhow"].contains(&name.as_str()) {
                manifest.push_str(&format!(
                    "{name} = {{ workspace = true, features = [{}] }}\n",
                    wanted.join(", ")
                ));
            }
        }
        std::fs::write(same.join("Cargo.toml"), manifest).unwrap();
        members.push("same-features".into());
        // The workspace's dependencies and profile, as they are.
        let section = |title: &str| -> String {
            workspace
                .split_once(title)
                .map(|(_, rest)| rest.split("\n[").next().unwrap_or(""))
                .map(|body| format!("{title}{body}\n"))
                .unwrap_or_default()
        };
        // `nslab` is reached through a link beside the variants: cargo
        // names a path package by its place in the workspace, so at
        // `nslab` it is the workspace's own build of it, not another.
        let link = dir.join("nslab");
        if !link.exists() {
            std::os::unix::fs::symlink(root.join("nslab"), &link).unwrap();
        }
        for member in &members {
            let manifest = dir.join(member).join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest).unwrap();
            let text = text.replace(
                &format!("{:?}", root.join("nslab").display().to_string()),
                "\"../nslab\"",
            );
            std::fs::write(&manifest, text).unwrap();
        }
        let dependencies = section("[workspace.dependencies]");
        let list: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n{}{dependencies}\n{}{}{}",
                list.join(", "),
                section("[workspace.package]"),
                section("[workspace.lints.rust]"),
                section("[workspace.lints.clippy]"),
                section("[profile.dev]")
            ),
        )
        .unwrap();
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(&root)
            .args(["build", "--keep-going", "--message-format=short", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", root.join("target"))
            .output()
            .expect("cannot run cargo");
        // Out of target/debug, which a reader may have on PATH.
        for mistake in &MISTAKES {
            let step = find(mistake.step).unwrap();
            let name = format!("mistake-{}", step.chapter);
            let built = root.join("target/debug").join(&name);
            if built.exists() {
                std::fs::rename(&built, mistake_binary(step)).unwrap();
            }
        }
        String::from_utf8_lossy(&out.stderr).into_owned()
    })
}

fn mistake_binary(step: &Step) -> PathBuf {
    repo_root()
        .join("target/workshop-ci")
        .join(format!("mistake-{}", step.chapter))
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
fn b_d_the_reference_passes_and_a_typical_mistake_fails_naming_it() {
    let messages = built();
    // Built before the threads start: the runs share one build.
    check::chapter_tests(STEPS[0].chapter).expect("the chapters' tests build");
    // The steps side by side (their runs mostly wait), each step's two
    // runs one after the other (they share a stage).
    let problems: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = MISTAKES
            .iter()
            .map(|mistake| {
                scope.spawn(move || judge_mistake(mistake, messages))
            })
            .collect();
        runs.into_iter()
            .filter_map(|run| run.join().unwrap())
            .collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// (b) and (d) for one step: what is wrong, if anything.
fn judge_mistake(mistake: &Mistake, messages: &str) -> Option<String> {
    let step = find(mistake.step).unwrap();
    if step.needs_root && !nslab_testkit::have_root(step.chapter) {
        return None;
    }
    // (b) in the check's own setting: the same claims hold for the
    // reference, run as an attendee's program is.
    let reference = repo_root().join("target/debug").join(step.chapter);
    let verdict = check::judge_some(step, &reference, false, &[mistake.filter]);
    if !matches!(verdict, Verdict::Passed { claims, .. } if claims > 0) {
        return Some(format!(
            "{}: the reference must pass {} under the check: {verdict:?}",
            step.chapter, mistake.filter
        ));
    }
    let binary = mistake_binary(step);
    if !binary.exists() {
        return Some(format!(
            "{}'s mistake did not build:\n{messages}",
            step.chapter
        ));
    }
    let verdict = check::judge_some(step, &binary, false, &[mistake.filter]);
    let Verdict::Failed { failed, .. } = &verdict else {
        return Some(format!(
            "{}: the mistake must fail {}: {verdict:?}",
            step.chapter, mistake.filter
        ));
    };
    if !failed
        .iter()
        .any(|(_, message)| message.contains(mistake.names))
    {
        return Some(format!(
            "{}: the failure must say {:?}: {failed:?}",
            step.chapter, mistake.names
        ));
    }
    None
}
