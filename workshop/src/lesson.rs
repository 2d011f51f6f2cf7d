//! A step's file, made from the chapter's own `main.rs` when it is
//! needed: its lesson blocks (the anchored flags, `clone` and setup) are
//! left as `todo!()` with a one-line task, and everything else is the
//! chapter's. Nothing here holds a copy of a chapter's code, so a step
//! never drifts from its chapter.

use crate::steps::Step;

/// The anchors that hold the lesson: what an attendee writes. (`run` is
/// not one: it holds `clone` and the machinery's two calls around it;
/// `veth` is ch06's call into the machinery.)
pub const LESSON: [&str; 6] = [
    "flags",
    "clone",
    "setup",
    "private",
    "pivot_root",
    "map_root",
];

/// An anchored block: the lines strictly between `// ANCHOR: name` and
/// `// ANCHOR_END: name`, as indices into the file's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    start: usize,
    end: usize,
}

fn anchor<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.trim()
        .strip_prefix("// ")?
        .strip_prefix(marker)
        .map(str::trim)
}

fn find_block(lines: &[&str], name: &str) -> Option<Block> {
    let open = lines
        .iter()
        .position(|line| anchor(line, "ANCHOR:") == Some(name))?;
    let close = lines[open + 1..]
        .iter()
        .position(|line| anchor(line, "ANCHOR_END:") == Some(name))?;
    Some(Block {
        start: open + 1,
        end: open + 1 + close,
    })
}

/// The text of block `name` in `source` (without its anchor lines).
pub fn block(source: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let block = find_block(&lines, name)?;
    Some(
        lines[block.start..block.end]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect(),
    )
}

/// The lesson blocks that `source` has, in order of appearance.
pub fn lesson_blocks(source: &str) -> Vec<&'static str> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found: Vec<(usize, &'static str)> = LESSON
        .iter()
        .filter_map(|name| Some((find_block(&lines, name)?.start, *name)))
        .collect();
    found.sort();
    found.into_iter().map(|(_, name)| name).collect()
}

/// `source` with the inside of block `name` replaced by `text`.
pub fn replace(source: &str, name: &str, text: &str) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let block = find_block(&lines, name)?;
    let mut out = String::new();
    for line in &lines[..block.start] {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(text);
    for line in &lines[block.end..] {
        out.push_str(line);
        out.push('\n');
    }
    Some(out)
}

/// The code of a block, comments and blank lines left out: two blocks
/// with the same code are the same lesson.
fn code(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .map(String::from)
        .collect()
}

/// The lesson blocks that chapter `source` adds or changes compared with
/// the chapter before (`previous`; none before ch01): what its step
/// leaves to write.
pub fn new_blocks(source: &str, previous: Option<&str>) -> Vec<&'static str> {
    lesson_blocks(source)
        .into_iter()
        .filter(|name| {
            let before = previous.and_then(|p| block(p, name));
            before.map(|b| code(&b)) != block(source, name).map(|b| code(&b))
        })
        .collect()
}

/// The blank form of a block: its doc comment and signature stay, and
/// the code becomes `todo!()` with the task.
pub fn blank_block(text: &str, task: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let first_code = lines
        .iter()
        .position(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with("//")
        })
        .unwrap_or(lines.len());
    let indent: String = lines
        .get(first_code)
        .map(|line| line.chars().take_while(|c| c.is_whitespace()).collect())
        .unwrap_or_default();
    let docs: String = lines[..first_code]
        .iter()
        .filter(|line| line.trim().starts_with("///"))
        .map(|line| format!("{line}\n"))
        .collect();
    let first = lines.get(first_code).map(|l| l.trim()).unwrap_or("");
    if first.starts_with("const ") {
        // A `const` is evaluated by the compiler: `todo!` may take no
        // message there, so the task goes into a comment in the call,
        // which the compiler's error shows.
        let head = first.split_once('=').map(|(head, _)| head.trim_end());
        let head = head.unwrap_or(first);
        format!("{docs}{indent}{head} = todo!(/* {task} */);\n")
    } else if first.starts_with("fn ") || first.starts_with("pub fn ") {
        let signature_end = lines[first_code..]
            .iter()
            .position(|line| line.trim_end().ends_with('{'))
            .map(|i| first_code + i)
            .unwrap_or(first_code);
        let signature: String = lines[first_code..=signature_end]
            .iter()
            .map(|line| format!("{line}\n"))
            .collect();
        format!("{docs}{signature}{indent}    todo!({task:?})\n{indent}}}\n")
    } else {
        // Statements: ch0N's `clone` block, which must leave `child`.
        format!("{indent}let child: nix::unistd::Pid = todo!({task:?});\n")
    }
}

/// What `start` writes for a step, and what it says about it.
pub struct Made {
    pub source: String,
    /// The blocks left to write.
    pub blank: Vec<&'static str>,
    /// The blocks carried from the attendee's previous step.
    pub carried: Vec<&'static str>,
    /// The blocks that the attendee's previous file lacks (its anchors
    /// were removed), taken from the reference of the step before.
    pub missing: Vec<&'static str>,
}

/// Step `step`'s file: the chapter's `reference` with its new lesson
/// blocks blank, and the blocks it carries forward taken from `mine` (the
/// attendee's file of the step before) where it has them, else from
/// `previous` (the reference of the step before).
pub fn make(
    step: &Step,
    reference: &str,
    previous: Option<&str>,
    mine: Option<&str>,
) -> Made {
    let blank = new_blocks(reference, previous);
    let mut source = reference.to_string();
    let mut carried = Vec::new();
    let mut missing = Vec::new();
    for name in lesson_blocks(reference) {
        let text = if blank.contains(&name) {
            let old = block(&source, name).unwrap_or_default();
            blank_block(&old, &step.task(name))
        } else if let Some(own) = mine.and_then(|m| block(m, name)) {
            carried.push(name);
            own
        } else {
            if mine.is_some() {
                missing.push(name);
            }
            match previous.and_then(|p| block(p, name)) {
                Some(text) => text,
                None => continue,
            }
        };
        source = replace(&source, name, &text).unwrap_or(source);
    }
    Made {
        source,
        blank,
        carried,
        missing,
    }
}

/// `mine` with every lesson block the reference has replaced by the
/// reference's: the reference program, with the attendee's layout.
pub fn fill(mine: &str, reference: &str) -> String {
    let mut source = mine.to_string();
    for name in lesson_blocks(reference) {
        if let Some(text) = block(reference, name) {
            source = replace(&source, name, &text).unwrap_or(source);
        }
    }
    source
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "use x;\n\
        // ANCHOR: flags\n\
        /// The flags.\n\
        const NAMESPACES: CloneFlags =\n    CloneFlags::CLONE_NEWUTS;\n\
        // ANCHOR_END: flags\n\
        fn run() {\n\
        \x20   // ANCHOR: clone\n\
        \x20   let child = unsafe { clone() };\n\
        \x20   // ANCHOR_END: clone\n\
        }\n\
        // ANCHOR: setup\n\
        /// Runs in the child.\n\
        fn setup_child(_launch: &Launch) -> anyhow::Result<()> {\n\
        \x20   Ok(())\n\
        }\n\
        // ANCHOR_END: setup\n";

    #[test]
    fn a_blank_keeps_signatures_and_docs_and_asks_for_the_code() {
        let made = make(&crate::steps::STEPS[0], SOURCE, None, None);
        assert_eq!(made.blank, ["flags", "clone", "setup"]);
        let text = made.source;
        assert!(text.contains("/// The flags.\nconst NAMESPACES: CloneFlags = todo!(/* NAMESPACES: the flag"), "{text}");
        assert!(
            text.contains("    let child: nix::unistd::Pid = todo!(\"clone(2)"),
            "{text}"
        );
        assert!(text.contains("fn setup_child(_launch: &Launch) -> anyhow::Result<()> {\n    todo!(\"nothing"), "{text}");
        assert!(!text.contains("CLONE_NEWUTS;"), "{text}");
        assert_eq!(fill(&text, SOURCE), SOURCE);
    }

    #[test]
    fn only_changed_code_is_blank_and_the_rest_is_carried() {
        let next = SOURCE
            .replace(
                "CLONE_NEWUTS;",
                "CLONE_NEWUTS.union(CloneFlags::CLONE_NEWIPC);",
            )
            .replace("/// Runs in the child.", "/// Runs in the child, still.");
        let mine = SOURCE.replace("Ok(())", "Ok(()) // mine");
        let made =
            make(&crate::steps::STEPS[1], &next, Some(SOURCE), Some(&mine));
        assert_eq!(made.blank, ["flags"]);
        assert_eq!(made.carried, ["clone", "setup"]);
        assert!(made.source.contains("Ok(()) // mine"));
        // A block whose anchors the attendee removed: the reference's,
        // and said so.
        let unanchored = mine.replace("// ANCHOR: setup\n", "");
        let made = make(
            &crate::steps::STEPS[1],
            &next,
            Some(SOURCE),
            Some(&unanchored),
        );
        assert_eq!(made.carried, ["clone"]);
        assert_eq!(made.missing, ["setup"]);
        assert!(!made.source.contains("// mine"));
        // Without the attendee's file, the reference of the step before.
        let made = make(&crate::steps::STEPS[1], &next, Some(SOURCE), None);
        assert!(made.carried.is_empty());
        assert!(made.source.contains("/// Runs in the child.\n"));
    }
}
