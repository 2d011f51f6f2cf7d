//! A chapter's interactive shell, on a real terminal: `script(1)` gives
//! the tool a new terminal, and what the test writes is typed on it.

use std::path::Path;

use crate::{SharedDir, TIMEOUT, bin};

/// What the terminal showed (carriage returns and escape sequences
/// removed) when `line` ran on a new terminal, in a scratch mount
/// namespace of its own (`unshare --mount`), with `$TOOL` the path of
/// the chapter `tool`, `HOME` the directory `home`, and `typed` typed
/// into it.
pub fn typed_on_a_terminal(
    tool: &str,
    line: &str,
    home: &Path,
    typed: &str,
) -> String {
    typed_on_a_terminal_with(tool, line, home, typed, &[])
}

/// [`typed_on_a_terminal`], with `env` added to the environment.
pub fn typed_on_a_terminal_with(
    tool: &str,
    line: &str,
    home: &Path,
    typed: &str,
    env: &[(&str, &str)],
) -> String {
    let out = assert_cmd::Command::new("unshare")
        .args(["--mount", "script", "-qefc", line, "/dev/null"])
        .env("TOOL", bin(tool))
        .env("HOME", home)
        // As from the host: not from inside a chapter's shell.
        .env_remove("NSLAB_CHAPTERS")
        .envs(env.iter().copied())
        // No bracketed-paste or colour sequences around what is shown.
        .env("TERM", "dumb")
        .write_stdin(typed)
        .timeout(TIMEOUT)
        // Not .success(): dash, as PID 1, exits with 2 when it cannot
        // give the terminal back to a process group outside.
        .assert();
    plain(&String::from_utf8_lossy(&out.get_output().stdout))
}

/// `text` without carriage returns and without ESC [ ... sequences.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
            '\u{1b}' => {
                if chars.next() == Some('[') {
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() || c == '~' {
                            break;
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The prompt of `tool`'s interactive shell names the tool, in front of
/// the prompt that the user's own rc files set; those are still read
/// (`~/.bashrc`, and `/etc/bash.bashrc` where bash reads it: replaced
/// here, in the scratch mount namespace only, by one of the test's);
/// and the commands typed in it inherit only fds 0, 1 and 2.
pub fn the_prompt_names_the_tool(tool: &str) {
    let home = SharedDir::new();
    std::fs::write(home.path.join(".bashrc"), "PS1='home> '\n").unwrap();
    std::fs::write(home.path.join("system.rc"), "SYSTEM_RC=read\n").unwrap();
    let system_rc = Path::new("/etc/bash.bashrc").exists();
    let line = if system_rc {
        "mount --bind \"$HOME/system.rc\" /etc/bash.bashrc && exec \"$TOOL\""
    } else {
        "exec \"$TOOL\""
    };
    let typed = "echo \"system rc: ${SYSTEM_RC-not read}\"\n\
                 ls /proc/self/fd | tr '\\n' ' '; echo\n\
                 exit\n";
    let shown = typed_on_a_terminal(tool, line, &home.path, typed);
    let prompt = format!("({tool}) home> ");
    assert!(shown.contains(&format!("{prompt}exit")), "{shown}");
    if system_rc {
        assert!(shown.contains("\nsystem rc: read\n"), "{shown}");
    }
    // ls has one more: the directory it lists.
    assert!(shown.contains("\n0 1 2 3 \n"), "{shown}");
}

/// A chapter started inside a chapter's shell (chapter 1's, which every
/// chapter may nest in) names both, outer first; leaving the inner one
/// gives back the outer one's prompt.
pub fn a_chapter_inside_a_chapter_names_both(tool: &str) {
    let home = SharedDir::new();
    std::fs::write(home.path.join(".bashrc"), "PS1='home> '\n").unwrap();
    let outer = bin("ch01-uts");
    let line = format!("exec '{}'", outer.display());
    let typed = "\"$TOOL\"\necho inner\nexit\necho outer\nexit\n";
    let shown = typed_on_a_terminal(tool, &line, &home.path, typed);
    let inner = format!("(ch01-uts > {tool}) home> echo inner\n");
    assert!(shown.contains(&inner), "{shown}");
    assert!(shown.contains("\n(ch01-uts) home> echo outer\n"), "{shown}");
}

/// Where there is no bash, `sh` names the tool in its prompt too,
/// through `$ENV`, which it then unsets; and its start-up file is not
/// left open for what it runs.
pub fn the_sh_prompt_names_the_tool(tool: &str) {
    let home = SharedDir::new();
    let bin = home.path.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink("/bin/sh", bin.join("sh")).unwrap();
    // Only sh on PATH: the tool's `bash` is not found.
    let line = "PATH=\"$HOME/bin\" exec \"$TOOL\"";
    let typed = "echo \"ENV=[${ENV-}]\"\n\
                 /bin/ls -l /proc/self/fd\n\
                 exit\n";
    let shown = typed_on_a_terminal(tool, line, &home.path, typed);
    assert!(shown.contains(&format!("({tool}) ")), "{shown}");
    assert!(shown.contains("ENV=[]\n"), "{shown}");
    assert!(shown.contains("/proc/self/fd"), "{shown}");
    assert!(!shown.contains("nslab-rc"), "{shown}");
}

/// `NSLAB_CHAPTERS` from the caller's environment is data, never code:
/// a command substitution in it is not run at the prompt, and 50 KB of
/// it does not bring the shell down; neither is shown as a chapter. In
/// bash, and in sh (dash here) where there is no bash.
pub fn the_prompt_never_runs_what_the_environment_says(tool: &str) {
    let home = SharedDir::new();
    std::fs::write(home.path.join(".bashrc"), "PS1='home> '\n").unwrap();
    let bin = home.path.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink("/bin/sh", bin.join("sh")).unwrap();
    let ran = home.path.join("ran");
    let substitution = format!("$(touch {})", ran.display());
    let long = "ch01-uts > ".repeat(5000) + "ch01-uts";
    for value in [substitution.as_str(), long.as_str()] {
        for (shell, line) in [
            ("bash", "exec \"$TOOL\""),
            ("sh", "PATH=\"$HOME/bin\" exec \"$TOOL\""),
        ] {
            let shown = typed_on_a_terminal_with(
                tool,
                line,
                &home.path,
                "echo typed-$((6 * 7))\nexit\n",
                &[("NSLAB_CHAPTERS", value)],
            );
            let what =
                format!("{shell}, NSLAB_CHAPTERS of {} bytes", value.len());
            assert!(shown.contains(&format!("({tool}) ")), "{what}: {shown}");
            assert!(shown.contains("typed-42"), "{what}: {shown}");
            assert!(!shown.contains("ch01-uts > "), "{what}: {shown}");
            assert!(!ran.exists(), "{what}: the prompt ran it: {shown}");
        }
    }
}

/// bash in POSIX mode (`POSIXLY_CORRECT`, or `posix` in `SHELLOPTS`)
/// reads no `--rcfile`: the prompt still names the tool, and the start-up
/// file's descriptor does not reach the commands typed in it.
pub fn posix_mode_bash_names_the_tool_and_leaks_nothing(tool: &str) {
    let home = SharedDir::new();
    let typed = "ls -l /proc/self/fd | grep -c nslab-rc\n\
                 ls /proc/self/fd | tr '\\n' ' '; echo\n\
                 exit\n";
    for env in [("POSIXLY_CORRECT", "1"), ("SHELLOPTS", "posix")] {
        let shown = typed_on_a_terminal_with(
            tool,
            "exec \"$TOOL\"",
            &home.path,
            typed,
            &[env],
        );
        assert!(shown.contains(&format!("({tool}) ")), "{env:?}: {shown}");
        assert!(shown.contains("\n0\n"), "{env:?}: {shown}");
        assert!(shown.contains("\n0 1 2 3 \n"), "{env:?}: {shown}");
    }
}

/// A caller that holds descriptors 3 to 9 (the ones sh can close) still
/// gets the named prompt, and the commands still inherit 0, 1 and 2
/// only.
pub fn a_caller_holding_fds_3_to_9_gets_the_named_prompt(tool: &str) {
    let home = SharedDir::new();
    std::fs::write(home.path.join(".bashrc"), "PS1='home> '\n").unwrap();
    let line = "exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null \
                7</dev/null 8</dev/null 9</dev/null; exec \"$TOOL\"";
    let typed = "ls /proc/self/fd | tr '\\n' ' '; echo\nexit\n";
    let shown = typed_on_a_terminal(tool, line, &home.path, typed);
    assert!(shown.contains(&format!("({tool}) home> ")), "{shown}");
    assert!(shown.contains("\n0 1 2 3 \n"), "{shown}");
}

/// Without a terminal the shell is not interactive: no prompt, no
/// start-up file, and still only fds 0, 1 and 2 for what it runs.
pub fn without_a_terminal_the_shell_reads_stdin(tool: &str) {
    let out = crate::chapter(tool, &[])
        .write_stdin("ls /proc/self/fd | tr '\\n' ' '; echo \"$PS1\"\n")
        .assert()
        .success();
    assert_eq!(crate::stdout(out.get_output()), "0 1 2 3 \n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_carriage_returns_are_removed() {
        assert_eq!(plain("\u{1b}[?2004h(x) # \r\n"), "(x) # \n");
        assert_eq!(plain("a\u{1b}[01;32mb\u{1b}[0m"), "ab");
    }
}
