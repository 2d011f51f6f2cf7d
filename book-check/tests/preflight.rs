//! `preflight.sh`, the check an instructor sends to attendees before the
//! workshop: run with `sh` (dash on Debian), it passes on a machine
//! that runs every test (this one), and fails, naming the Debian package
//! or the version to get, when a tool is missing or Rust is too old.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use book_check::repo_root;
use nslab_testkit::staging::write_executable;
use nslab_testkit::{have_root, unique};

/// A directory removed when dropped; readable by every user, since the
/// preflight runs `unshare` as nobody through the `PATH` it is given.
/// In the temporary directory, not under `target/`: nobody cannot reach
/// a checkout in `/root`.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(unique("nslab-preflight"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `sh preflight.sh` with `path` as its `PATH` (and `home` as its
/// `HOME`, if given), as if sudo had not been used (the tests may run
/// under `cargo sudo-test`).
fn preflight(path: &str, home: Option<&Path>) -> (Option<i32>, String) {
    let mut command = Command::new("sh");
    command
        .env("PATH", path)
        .env_remove("SUDO_USER")
        .env_remove("SUDO_UID")
        .env_remove("SUDO_GID");
    if let Some(home) = home {
        command.env("HOME", home);
    }
    preflight_with(command)
}

/// Runs `sh preflight.sh` with `path` as its `PATH`, as the tests run:
/// as root, or through sudo (`cargo sudo-test`), where the Rust checked
/// is the invoking user's.
fn preflight_as_the_tests_run(path: &str) -> (Option<i32>, String) {
    let mut command = Command::new("sh");
    command.env("PATH", path);
    preflight_with(command)
}

/// Runs `SHELL preflight.sh`, as `command` sets it up.
fn preflight_with(mut command: Command) -> (Option<i32>, String) {
    command.arg(repo_root().join("preflight.sh"));
    output_of(command)
}

/// The exit status and the output (stdout, then stderr) of `command`.
fn output_of(mut command: Command) -> (Option<i32>, String) {
    let out: Output = command.output().expect("cannot run the preflight");
    let text = String::from_utf8_lossy(&out.stdout).into_owned()
        + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

/// A directory of symlinks to every command on this `PATH` but those
/// named in `without`: a machine where those are not installed.
fn path_without(scratch: &Scratch, without: &[&str]) -> String {
    let dir = scratch.0.join("bin");
    std::fs::create_dir(&dir).unwrap();
    let path = std::env::var("PATH").unwrap();
    for found in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&found) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let link = dir.join(&name);
            if without.iter().any(|w| name == **w) || link.exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(entry.path(), link);
        }
    }
    for tool in without {
        assert!(!dir.join(tool).exists(), "{tool} is still on the PATH");
    }
    dir.display().to_string()
}

fn lines_starting<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(marker)).collect()
}

#[test]
fn passes_on_a_machine_that_runs_the_tests() {
    if !have_root("passes_on_a_machine_that_runs_the_tests") {
        return;
    }
    let (code, text) =
        preflight_as_the_tests_run(&std::env::var("PATH").unwrap());
    assert_eq!(code, Some(0), "{text}");
    assert!(lines_starting(&text, "FAIL").is_empty(), "{text}");
    for line in [
        "OK   namespace mnt: created one",
        "OK   namespace time: created one",
        "OK   user namespaces for an ordinary user: allowed",
        "OK   root: running as root",
        "OK   tmux: tmux",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    // One line per namespace type.
    assert_eq!(lines_starting(&text, "OK   namespace ").len(), 8, "{text}");
    // A checkout that every user can reach has nothing to warn about.
    if nslab_testkit::staging::open_to_everyone(&repo_root().join("x")) {
        assert!(!text.contains("WARN checkout"), "{text}");
    }
}

/// busybox sh runs its own applets before the programs on PATH, and
/// busybox's `unshare` and `setpriv` lack options the checks use: the
/// preflight runs the real ones, and passes as under dash.
#[test]
fn passes_under_busybox_sh() {
    if !have_root("passes_under_busybox_sh") {
        return;
    }
    let mut command = Command::new("busybox");
    command.arg("sh");
    let (code, text) = preflight_with(command);
    assert_eq!(code, Some(0), "{text}");
    assert!(lines_starting(&text, "FAIL").is_empty(), "{text}");
    assert!(lines_starting(&text, "WARN namespace").is_empty(), "{text}");
    for line in [
        "OK   namespace cgroup: created one",
        "OK   namespace time: created one",
        "OK   user namespaces for an ordinary user: allowed",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
}

/// A TMPDIR that is not a directory costs one FAIL line that says so,
/// not the whole run: every other check still runs.
#[test]
fn an_unusable_tmpdir_is_one_failed_check() {
    if !have_root("an_unusable_tmpdir_is_one_failed_check") {
        return;
    }
    let mut command = Command::new("sh");
    command.env("TMPDIR", "/nonexistent/nslab");
    let (code, text) = preflight_with(command);
    assert_eq!(code, Some(1), "{text}");
    let failed = lines_starting(&text, "FAIL");
    assert_eq!(failed.len(), 1, "{text}");
    assert!(
        failed[0].starts_with(
            "FAIL TMPDIR=/nonexistent/nslab: not a writable directory"
        ),
        "{text}"
    );
    assert!(text.contains("OK   namespace mnt: created one"), "{text}");
    assert!(text.contains("OK   diffutils: diff"), "{text}");
}

#[test]
fn a_missing_tool_fails_and_names_its_debian_package() {
    if !have_root("a_missing_tool_fails_and_names_its_debian_package") {
        return;
    }
    let scratch = Scratch::new();
    let path = path_without(&scratch, &["ping", "tmux"]);
    let (code, text) = preflight_as_the_tests_run(&path);
    assert_eq!(code, Some(1), "{text}");
    let failed = lines_starting(&text, "FAIL");
    assert_eq!(
        failed,
        [
            "FAIL iputils-ping: no ping (chapter 6); apt-get install iputils-ping",
            "FAIL tmux: no tmux (the tests drive a terminal with it); apt-get install tmux",
        ],
        "{text}"
    );
    assert!(
        text.ends_with(
            "the missing packages, on Debian or Ubuntu: apt-get install \
             iputils-ping tmux\n"
        ),
        "{text}"
    );
}

#[test]
fn runs_before_rust_is_installed_and_says_how_to_get_it() {
    if !have_root("runs_before_rust_is_installed_and_says_how_to_get_it") {
        return;
    }
    let scratch = Scratch::new();
    let path = path_without(&scratch, &["rustc", "cargo", "mdbook"]);
    // HOME too: a rustup in ~/.cargo/bin would be named instead.
    let (code, text) = preflight(&path, Some(&scratch.0));
    assert_eq!(code, Some(1), "{text}");
    let failed = lines_starting(&text, "FAIL");
    assert_eq!(failed.len(), 1, "{text}");
    assert!(failed[0].starts_with("FAIL Rust: no rustc or cargo; "));
    assert!(failed[0].contains("https://rustup.rs"), "{text}");
    // Every other check still ran: the tools come after Rust.
    assert!(text.contains("OK   diffutils: diff"), "{text}");
    assert!(text.contains("WARN mdBook 0.5.4: not found"), "{text}");
}

#[test]
fn a_rust_older_than_the_workspace_needs_fails() {
    if !have_root("a_rust_older_than_the_workspace_needs_fails") {
        return;
    }
    let scratch = Scratch::new();
    let rustc = scratch.0.join("rustc");
    write_executable(
        &rustc,
        "#!/bin/sh\necho 'rustc 1.70.0 (90c541806 2023-05-31)'\n",
    );
    // A cargo too: under sudo, the real PATH has none.
    std::os::unix::fs::symlink(&rustc, scratch.0.join("cargo")).unwrap();
    // The fake first, then the real PATH (and the tools).
    let path =
        format!("{}:{}", scratch.0.display(), std::env::var("PATH").unwrap());
    let (code, text) = preflight(&path, None);
    assert_eq!(code, Some(1), "{text}");
    let failed = lines_starting(&text, "FAIL");
    let want = format!(
        "FAIL Rust 1.70.0: the workspace needs >= {}; `rustup update stable`",
        rust_version()
    );
    assert_eq!(failed.len(), 1, "{text}");
    assert!(failed[0].starts_with(&want), "{text}");
}

/// The workspace's `rust-version`, from Cargo.toml.
fn rust_version() -> String {
    let toml = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    toml.lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("Cargo.toml has a rust-version")
        .trim_matches('"')
        .to_string()
}

/// The versions the preflight names when it runs without the
/// repository (sent on its own) are the workspace's and CI's.
#[test]
fn its_own_copies_of_the_versions_match_the_workspace() {
    let script =
        std::fs::read_to_string(repo_root().join("preflight.sh")).unwrap();
    assert!(
        script.contains(&format!("\nRUST_VERSION={}\n", rust_version())),
        "preflight.sh: RUST_VERSION differs from Cargo.toml's rust-version"
    );
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).unwrap();
    let pinned = ci
        .lines()
        .find_map(|l| l.strip_prefix("MDBOOK_VERSION="))
        .expect(".ci/run pins mdBook");
    assert!(
        script.contains(&format!("\nMDBOOK_VERSION={pinned}\n")),
        "preflight.sh: MDBOOK_VERSION differs from .ci/run's"
    );
}

/// The tools the preflight checks, with their Debian packages, are the
/// ones `.ci/run` installs and the README's `apt install` line names.
#[test]
fn its_tools_are_the_readme_and_ci_lists() {
    let read = |path: &str| {
        std::fs::read_to_string(repo_root().join(path))
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let (script, ci, readme) =
        (read("preflight.sh"), read(".ci/run"), read("README.md"));
    // `apt install ...`, continued on the lines after a `\`.
    let mut apt: Vec<&str> = Vec::new();
    let lines = readme
        .lines()
        .skip_while(|l| !l.starts_with("apt install "));
    for line in lines {
        apt.extend(line.split_whitespace().filter(|w| *w != "\\"));
        if !line.ends_with('\\') {
            break;
        }
    }
    assert!(apt.len() > 2, "the README has no `apt install` line");
    let apt = &apt[2..];
    let mut checked = 0;
    for line in script.lines() {
        // tools PACKAGE "what needs them" COMMAND...
        let Some(rest) = line.strip_prefix("tools ") else {
            continue;
        };
        let (package, rest) = rest.split_once(' ').unwrap();
        let (_, commands) = rest.rsplit_once('"').unwrap();
        for command in commands.split_whitespace() {
            assert!(
                ci.contains(&format!("{command}:{package}")),
                ".ci/run does not install {package} for {command}"
            );
            checked += 1;
        }
        assert!(
            apt.contains(&package),
            "the README's apt line lacks {package}"
        );
    }
    assert!(checked >= 20, "only {checked} tools found in preflight.sh");
    for package in ["busybox-static", "gcc", "libc6-dev"] {
        assert!(script.contains(package), "preflight.sh lacks {package}");
        assert!(
            apt.contains(&package),
            "the README's apt line lacks {package}"
        );
    }
}

/// A user for `sudo sh preflight.sh` to be run by: a line added to a
/// copy of `/etc/passwd` that a private mount namespace shows in its
/// place (the host's stays as it is), with a home in the scratch dir.
struct SudoUser {
    name: String,
    uid: u32,
    home: PathBuf,
    passwd: PathBuf,
}

impl SudoUser {
    fn new(scratch: &Scratch) -> SudoUser {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
        let taken = |uid: u32| {
            passwd
                .lines()
                .any(|l| l.split(':').nth(2) == Some(&uid.to_string()))
        };
        let uid = (4242..).find(|uid| !taken(*uid)).unwrap();
        let name = format!("nslab-student-{uid}");
        let home = scratch.0.join("home");
        std::fs::create_dir(&home).unwrap();
        std::os::unix::fs::chown(&home, Some(uid), Some(uid)).unwrap();
        let line =
            format!("{name}:x:{uid}:{uid}::{}:/bin/sh\n", home.display());
        let copy = scratch.0.join("passwd");
        std::fs::write(&copy, passwd + &line).unwrap();
        SudoUser {
            name,
            uid,
            home,
            passwd: copy,
        }
    }

    /// A `rustc` and a `cargo` in the user's ~/.cargo/bin that print
    /// `version` only when run as the user (never as root).
    fn install_rust(&self, version: &str) {
        let bin = self.home.join(".cargo/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let script = format!(
            "#!/bin/sh\n[ \"$(id -u)\" = {} ] && [ \"$HOME\" = {} ] && \
             echo 'rustc {version} (59807616e 2026-04-14)'\n",
            self.uid,
            self.home.display()
        );
        for tool in ["rustc", "cargo"] {
            write_executable(&bin.join(tool), &script);
        }
    }

    /// `sudo sh preflight.sh` typed by this user, with root's `PATH`
    /// (sudo's secure_path) as `path`.
    fn sudo_preflight(&self, path: &str) -> (Option<i32>, String) {
        let mut command = Command::new("unshare");
        command
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(r#"mount --bind "$0" /etc/passwd && exec sh "$1""#)
            .arg(&self.passwd)
            .arg(repo_root().join("preflight.sh"))
            .env("PATH", path)
            .env("HOME", "/root")
            .env("SUDO_USER", &self.name)
            .env("SUDO_UID", self.uid.to_string())
            .env("SUDO_GID", self.uid.to_string());
        output_of(command)
    }
}

/// `sudo sh preflight.sh` on a machine where root has no Rust and the
/// user who typed it has theirs in ~/.cargo/bin (rustup's way): the
/// check is of the user's Rust, run as the user; the output says what
/// the check does as root.
#[test]
fn under_sudo_rust_is_the_invoking_users() {
    if !have_root("under_sudo_rust_is_the_invoking_users") {
        return;
    }
    let scratch = Scratch::new();
    let user = SudoUser::new(&scratch);
    user.install_rust("1.95.0");
    let path = path_without(&scratch, &["rustc", "cargo", "mdbook"]);
    let (code, text) = user.sudo_preflight(&path);
    assert_eq!(code, Some(0), "{text}");
    let want = format!(
        "OK   Rust 1.95.0 (>= {}), {name}'s, in ~{name}/.cargo/bin: build as \
         {name}\n",
        rust_version(),
        name = user.name
    );
    assert!(text.contains(&want), "no {want:?} in:\n{text}");
    let header = format!(
        "(through sudo, for {}: each namespace is created as root, as \
         chapters 1 to 4 and the tests do",
        user.name
    );
    assert!(text.contains(&header), "{text}");
    assert!(
        text.contains(&format!(
            "OK   root: running as root, through sudo for {}",
            user.name
        )),
        "{text}"
    );
}

/// `sudo sh preflight.sh` where neither root nor the user has Rust: the
/// user is told to install it as themselves, not root.
#[test]
fn under_sudo_without_rust_the_user_installs_it() {
    if !have_root("under_sudo_without_rust_the_user_installs_it") {
        return;
    }
    let scratch = Scratch::new();
    let user = SudoUser::new(&scratch);
    let path = path_without(&scratch, &["rustc", "cargo", "mdbook"]);
    let (code, text) = user.sudo_preflight(&path);
    assert_eq!(code, Some(1), "{text}");
    let failed = lines_starting(&text, "FAIL");
    assert_eq!(failed.len(), 1, "{text}");
    let want = format!(
        "FAIL Rust: {name} has no rustc and cargo in ~{name}/.cargo/bin; as \
         {name} (not with sudo), install Rust with rustup: `curl --proto \
         '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh`",
        name = user.name
    );
    assert!(failed[0].starts_with(&want), "{text}");
}

/// A checkout in a home of mode 0700: preflight.sh warns that nobody
/// cannot reach it, and points to the troubleshooting page.
#[test]
fn a_checkout_in_a_closed_home_is_warned_about() {
    let scratch = Scratch::new();
    let home = scratch.0.join("home");
    let checkout = home.join("nslab");
    std::fs::create_dir_all(&checkout).unwrap();
    for file in ["preflight.sh", "Cargo.toml"] {
        std::fs::copy(repo_root().join(file), checkout.join(file)).unwrap();
    }
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))
        .unwrap();
    let mut command = Command::new("sh");
    command.arg(checkout.join("preflight.sh"));
    let (_, text) = output_of(command);
    let want = format!(
        "WARN checkout: {} is closed to other users (a home of mode 0700?), \
         so nobody, and root inside a user namespace, cannot reach \
         target/debug",
        home.display()
    );
    assert!(text.contains(&want), "no {want:?} in:\n{text}");
    assert!(
        text.contains(
            "(book: Troubleshooting, \"A checkout in a private home\")"
        ),
        "{text}"
    );
}

/// The kernel versions the newer interfaces of ch07 need: on an older
/// kernel (a `uname` on PATH that says so), each is one WARN naming the
/// version, and the exit status does not change for them.
#[test]
fn older_kernels_warn_about_the_newer_interfaces() {
    let scratch = Scratch::new();
    let path = path_without(&scratch, &["uname"]);
    let uname = Path::new(&path).join("uname");
    let run = |release: &str| -> String {
        write_executable(
            &uname,
            format!(
                "#!/bin/sh\ncase \"$1\" in -r) echo {release} ;; \
                 *) echo Linux {release} x86_64 ;; esac\n"
            ),
        );
        let (_, text) = preflight(&path, None);
        lines_starting(&text, "WARN Linux").join("\n")
    };
    let warned = run("5.6.0-test");
    for needs in ["--veth` and setns(2) on a pidfd", "spawn", "idmap"] {
        assert!(warned.contains(needs), "no {needs:?} in:\n{warned}");
    }
    let warned = run("5.10.0-test");
    assert!(
        !warned.contains("spawn") && !warned.contains("veth"),
        "{warned}"
    );
    assert!(
        warned.contains(
            "`ch07-inspect idmap` (idmapped mounts) needs Linux >= 5.12"
        ),
        "{warned}"
    );
    assert_eq!(run("5.12.0-test"), "");
}
