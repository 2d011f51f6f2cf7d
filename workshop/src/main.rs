//! `cargo workshop`: the attendee's command for building each chapter
//! yourself. See `cargo workshop help`.

use std::process::ExitCode;

use workshop::check::{self, Verdict};
use workshop::steps::{STEPS, Step, find};
use workshop::{Progress, State, lesson, my_main, state, step_dir};

const USAGE: &str = "\
cargo workshop: build each chapter's namespace code yourself

usage (from the repository's root):
  cargo workshop                 the steps, their state, and what to do next
  cargo workshop start STEP      lay out your file for STEP (ch01 … ch06)
  cargo workshop check [STEP]    build your program and run the chapter's tests on it
                                 (--sudo: run the tests with sudo, for ch01-ch04)
  cargo workshop watch [STEP]    check again on every save (--manual: on Enter)
  cargo workshop hint STEP       the next hint, one at a time
  cargo workshop solution STEP   the reference's lesson next to yours, once STEP
                                 passes (--give-up: now, and say so)
  cargo workshop reset STEP      start STEP again; the old file is kept
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(why) =
        workshop::refusal(&args.iter().map(String::as_str).collect::<Vec<_>>())
    {
        eprintln!(
            "workshop: {why}\nhint: `cargo workshop help` shows the commands"
        );
        return ExitCode::FAILURE;
    }
    let result = match words.as_slice() {
        [] => list(),
        ["help"] => {
            print!("{USAGE}");
            Ok(true)
        }
        ["start", step] => with_step(step, start),
        ["check"] => {
            current().map_or_else(nothing_started, |s| check(s, flag("--sudo")))
        }
        ["check", step] => with_step(step, |s| check(s, flag("--sudo"))),
        ["watch"] => current().map_or_else(nothing_started, |s| {
            watch(s, flag("--manual"), flag("--sudo"))
        }),
        ["watch", step] => {
            with_step(step, |s| watch(s, flag("--manual"), flag("--sudo")))
        }
        ["hint", step] => with_step(step, hint),
        ["solution", step] => {
            with_step(step, |s| solution(s, flag("--give-up")))
        }
        ["reset", step] => with_step(step, reset),
        _ => Err(format!(
            "unknown command '{}'\nhint: `cargo workshop help` shows the commands",
            args.join(" ")
        )),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("workshop: {message}");
            ExitCode::FAILURE
        }
    }
}

type Outcome = Result<bool, String>;

fn with_step(
    name: &str,
    action: impl FnOnce(&'static Step) -> Outcome,
) -> Outcome {
    match find(name) {
        Some(step) => action(step),
        None => Err(format!(
            "no step '{name}'\nhint: the steps are ch01 … ch06 (`cargo workshop` lists them)"
        )),
    }
}

/// The step to work on: the first one started and not done.
fn current() -> Option<&'static Step> {
    let progress = Progress::load();
    STEPS
        .iter()
        .find(|s| state(s, &progress) == State::InProgress)
}

fn nothing_started() -> Outcome {
    Err("no step in progress\nhint: `cargo workshop start ch01`".into())
}

fn relative(path: &std::path::Path) -> String {
    path.strip_prefix(workshop::repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn list() -> Outcome {
    let progress = Progress::load();
    println!(
        "Build it yourself: each step is a chapter's main.rs with its lesson left to write.\n"
    );
    let mut next = None;
    for step in &STEPS {
        let state = state(step, &progress);
        let (word, place) = match state {
            State::NotStarted => ("not started", String::new()),
            State::InProgress => ("in progress", relative(&my_main(step))),
            State::Done => ("done", relative(&my_main(step))),
        };
        println!("  {:<11} {:<12} {place}", step.chapter, word);
        if next.is_none() && state != State::Done {
            next = Some((step, state));
        }
    }
    println!();
    match next {
        Some((step, State::NotStarted)) => {
            println!("next: `cargo workshop start {}`", step.short())
        }
        Some((step, _)) => println!(
            "next: edit {}, then `cargo workshop check {}` (or `cargo workshop watch`)",
            relative(&my_main(step)),
            step.short()
        ),
        None => println!(
            "All six steps pass. ch07-inspect looks at what you built from outside."
        ),
    }
    Ok(true)
}

fn start(step: &'static Step) -> Outcome {
    if my_main(step).exists() {
        println!(
            "{} is started already: edit {} (`cargo workshop reset {}` starts it again)",
            step.chapter,
            relative(&my_main(step)),
            step.short()
        );
        return Ok(true);
    }
    let reference = workshop::reference(step)
        .map_err(|e| format!("cannot read {}: {e}", step.chapter))?;
    let previous = workshop::previous(step);
    let previous_reference = match previous {
        Some(p) => Some(
            workshop::reference(p)
                .map_err(|e| format!("cannot read {}: {e}", p.chapter))?,
        ),
        None => None,
    };
    let progress = Progress::load();
    let mine = previous.and_then(|p| {
        progress
            .done(p)
            .then(|| std::fs::read_to_string(my_main(p)).ok())
            .flatten()
    });
    if let (Some(p), None) = (previous, &mine) {
        println!(
            "{} is not done: this step starts from the reference {} instead of your own.",
            p.short(),
            p.chapter
        );
    }
    let made = lesson::make(
        step,
        &reference,
        previous_reference.as_deref(),
        mine.as_deref(),
    );
    workshop::lay_out(step, Some(&made.source)).map_err(|e| {
        format!("cannot write {}: {e}", step_dir(step).display())
    })?;
    println!(
        "Started {}: edit {}",
        step.chapter,
        relative(&my_main(step))
    );
    if !made.carried.is_empty() {
        println!(
            "  from your {}: {}",
            previous.map(|p| p.short()).unwrap_or(""),
            made.carried.join(", ")
        );
    }
    if let (Some(p), false) = (previous, made.missing.is_empty()) {
        println!(
            "  from the reference {} (your file has no `// ANCHOR:` for them): {}",
            p.chapter,
            made.missing.join(", ")
        );
    }
    println!(
        "  left to write (each a todo!() with its task): {}",
        made.blank.join(", ")
    );
    println!(
        "Keep the `// ANCHOR:` lines around them. Then `cargo workshop check {}`; \
         stuck? `cargo workshop hint {}` and the book's page {}.",
        step.short(),
        step.short(),
        step.chapter
    );
    Ok(true)
}

fn check(step: &'static Step, sudo: bool) -> Outcome {
    if !my_main(step).exists() {
        return Err(format!(
            "{} is not started\nhint: `cargo workshop start {}`",
            step.chapter,
            step.short()
        ));
    }
    println!("Checking {} ({})…", step.chapter, relative(&my_main(step)));
    let verdict = match check::build(step) {
        Ok(program) => check::judge(step, &program, sudo),
        Err(verdict) => verdict,
    };
    let mut progress = Progress::load();
    let passed = matches!(verdict, Verdict::Passed { .. });
    let _ = progress.set_done(step, passed);
    print!("{}", describe(step, &verdict, &progress));
    Ok(passed)
}

/// The verdict in plain words, with the hint where one helps.
fn describe(step: &Step, verdict: &Verdict, progress: &Progress) -> String {
    // The hint that shares the most words with what failed (a flag's
    // name, "private", "setgroups"); else the one the attendee is at.
    let said = match verdict {
        Verdict::Failed { failed, .. } => failed
            .iter()
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        Verdict::DoesNotBuild(errors) => errors.join(" "),
        _ => String::new(),
    };
    let hint = || {
        let words = |text: &str| -> Vec<String> {
            text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .filter(|w| w.len() >= 6)
                .map(str::to_lowercase)
                .collect()
        };
        let failed = words(&said);
        let seen = progress.hints_seen(step).max(1).min(step.hints.len()) - 1;
        let best = (0..step.hints.len())
            .map(|i| {
                let shared = words(step.hints[i])
                    .iter()
                    .filter(|w| failed.contains(w))
                    .count();
                (shared, std::cmp::Reverse(i))
            })
            .max()
            .filter(|(shared, _)| *shared > 0)
            .map(|(_, std::cmp::Reverse(i))| i)
            .unwrap_or(seen);
        format!(
            "\nhint: {}\n(more: `cargo workshop hint {}`; the page {} in the book)\n",
            step.hints[best],
            step.short(),
            step.chapter
        )
    };
    match verdict {
        Verdict::Passed { claims, skipped } => {
            let mut text = format!(
                "PASS {}: all {claims} claims of the chapter hold for your program.\n",
                step.chapter
            );
            if !skipped.is_empty() {
                text.push_str(&format!(
                    "({} of them need root and were not run: `cargo workshop check {} --sudo` runs them too.)\n",
                    skipped.len(),
                    step.short()
                ));
            }
            match workshop::next(step) {
                Some(next) => text.push_str(&format!(
                    "next: `cargo workshop start {}` (it starts from your program); \
                     `cargo workshop solution {}` shows the reference\n",
                    next.short(),
                    step.short()
                )),
                None => text.push_str("That was the last step: well done.\n"),
            }
            text
        }
        Verdict::DoesNotBuild(errors) => {
            let mut text = format!(
                "NOT YET {}: your program does not build:\n",
                step.chapter
            );
            for line in errors.iter().take(12) {
                text.push_str(&format!("  {line}\n"));
            }
            if errors.iter().any(|e| e.contains("not yet implemented")) {
                text.push_str("A todo!() is left: the comment or message inside it says what goes there.\n");
            }
            text + &hint()
        }
        Verdict::NeedsRoot => format!(
            "Your {} builds. Its claims need root (creating namespaces needs \
             CAP_SYS_ADMIN), so the tests run as root:\n  cargo workshop check {} --sudo\n\
             (it runs them with `sudo -E`), or run `cargo workshop check {}` in a root shell \
             (`sudo -i`, or `su -` where there is no sudo).\n",
            step.chapter,
            step.short(),
            step.short()
        ),
        Verdict::Failed { claims, failed } => {
            let mut text = format!(
                "NOT YET {}: {} of {claims} claims fail for your program:\n",
                step.chapter,
                failed.len()
            );
            if check::is_root() || step.needs_root {
                text.push_str(
                    "(Your program ran in scratch mount, UTS and IPC namespaces: \
                     \"the host\" below is their copy, and your machine is as it was.)\n",
                );
            }
            // The chapter's own claims first, then the contract's; one
            // entry per message, with the claims that share it.
            let mut groups: Vec<(String, Vec<String>)> = Vec::new();
            let mut sorted: Vec<&(String, String)> = failed.iter().collect();
            sorted.sort_by_key(|(name, _)| name.starts_with("contract::"));
            for (name, message) in sorted {
                let claim =
                    name.rsplit("::").next().unwrap_or(name).replace('_', " ");
                match groups.iter_mut().find(|(m, _)| m == message) {
                    Some((_, claims)) => claims.push(claim),
                    None => groups.push((message.clone(), vec![claim])),
                }
            }
            for (message, claims) in groups.iter().take(4) {
                let more = match claims.len() {
                    1 => String::new(),
                    n => format!(" (and {} more claims, the same way)", n - 1),
                };
                text.push_str(&format!(
                    "\n- {}{more}:\n  {}\n",
                    claims[0],
                    message.replace('\n', "\n  ")
                ));
            }
            if groups.len() > 4 {
                text.push_str(&format!("\n(and {} more)\n", groups.len() - 4));
            }
            text + &hint()
        }
        Verdict::Stopped(why) => {
            format!("NOT YET {}: {why}.\n{}", step.chapter, hint())
        }
        Verdict::Trouble(why) => format!("workshop: {why}\n"),
    }
}

fn hint(step: &'static Step) -> Outcome {
    let mut progress = Progress::load();
    let seen = progress.hints_seen(step);
    let n = (seen + 1).min(step.hints.len());
    println!(
        "hint {n} of {} for {}: {}",
        step.hints.len(),
        step.chapter,
        step.hints[n - 1]
    );
    if n == step.hints.len() {
        println!(
            "(that is the last one; the page {} in the book walks through the code)",
            step.chapter
        );
    }
    progress
        .set_hints_seen(step, n)
        .map_err(|e| format!("cannot save progress: {e}"))?;
    Ok(true)
}

fn solution(step: &'static Step, give_up: bool) -> Outcome {
    let mut progress = Progress::load();
    if !progress.done(step) && !give_up {
        return Err(format!(
            "{} does not pass yet: the solution is shown once it does\n\
             hint: `cargo workshop hint {}`; or `cargo workshop solution {} --give-up`",
            step.chapter,
            step.short(),
            step.short()
        ));
    }
    if give_up && !progress.done(step) {
        println!(
            "You gave up on {}: here is the reference's lesson. The step stays not done.",
            step.chapter
        );
        progress
            .set_gave_up(step)
            .map_err(|e| format!("cannot save progress: {e}"))?;
    }
    let reference = workshop::reference(step).map_err(|e| e.to_string())?;
    let mine = std::fs::read_to_string(my_main(step))
        .unwrap_or_else(|_| lesson::make(step, &reference, None, None).source);
    let theirs = lesson::fill(&mine, &reference);
    let dir = workshop::target_dir().join("solution");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (a, b) = (dir.join("yours.rs"), dir.join("reference.rs"));
    std::fs::write(&a, &mine).map_err(|e| e.to_string())?;
    std::fs::write(&b, &theirs).map_err(|e| e.to_string())?;
    let out = std::process::Command::new("diff")
        .args(["-u", "--label", "yours", "--label", "reference"])
        .arg(&a)
        .arg(&b)
        .output()
        .map_err(|e| format!("cannot run diff: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.is_empty() {
        println!("Your lesson blocks are the reference's, line for line.");
    } else {
        print!("{text}");
    }
    Ok(true)
}

fn reset(step: &'static Step) -> Outcome {
    let file = my_main(step);
    if file.exists() {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let keep = workshop::my_dir()
            .join("old")
            .join(format!("{}-{secs}.rs", step.chapter));
        std::fs::create_dir_all(keep.parent().unwrap_or(&file))
            .map_err(|e| e.to_string())?;
        std::fs::rename(&file, &keep)
            .map_err(|e| format!("cannot move {}: {e}", file.display()))?;
        println!("Your old file is kept as {}.", relative(&keep));
    }
    let mut progress = Progress::load();
    progress.set_done(step, false).map_err(|e| e.to_string())?;
    start(step)
}

fn watch(step: &'static Step, manual: bool, sudo: bool) -> Outcome {
    use std::sync::mpsc;
    use std::time::Duration;
    check(step, sudo)?;
    let (tx, rx) = mpsc::channel::<()>();
    let mut watcher = None;
    if !manual {
        use notify::Watcher;
        let sender = tx.clone();
        let made = notify::recommended_watcher(
            move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event
                    && (event.kind.is_modify() || event.kind.is_create())
                    && event.paths.iter().any(|p| p.ends_with("main.rs"))
                {
                    let _ = sender.send(());
                }
            },
        )
        .and_then(|mut w| {
            w.watch(
                &step_dir(step).join("src"),
                notify::RecursiveMode::Recursive,
            )?;
            Ok(w)
        });
        match made {
            Ok(w) => watcher = Some(w),
            Err(e) => println!(
                "workshop: cannot watch files ({e}): checking on Enter instead"
            ),
        }
    }
    if watcher.is_some() {
        println!(
            "\nWatching {}: every save checks again (Ctrl-C to stop).",
            relative(&my_main(step))
        );
    } else {
        println!("\nPress Enter to check again, q then Enter to stop.");
        std::thread::spawn(move || {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                if line.trim() == "q" || tx.send(()).is_err() {
                    break;
                }
                line.clear();
            }
        });
    }
    while rx.recv().is_ok() {
        // An editor's save is several events: wait for the last one.
        while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
        if check(step, sudo)?
            && let Some(next) = workshop::next(step)
        {
            println!(
                "(stop with Ctrl-C, then `cargo workshop start {}`)",
                next.short()
            );
        }
    }
    Ok(true)
}
