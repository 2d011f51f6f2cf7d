//! The command-line contract: `chNN-name [OPTIONS] [--] [COMMAND...]`.

use std::error::Error;
use std::ffi::OsString;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::ExitCode;

use nix::mount::MsFlags;
use nix::sched::CloneFlags;

use crate::idmap::{HelperMaps, RangeSpec};
use crate::{EXIT_TOOL_FAILED, Failure, failure, output, rootfs};

/// What a chapter is: its name, its flags, and the words it shows.
pub struct Chapter {
    /// The binary's name, from `CARGO_PKG_NAME`.
    pub name: &'static str,
    /// The `CLONE_NEW*` flags the chapter passes to `clone(2)`.
    pub namespaces: CloneFlags,
    /// `--help`: what the chapter adds and what to try inside.
    pub help: &'static str,
    /// The line printed before an interactive shell starts, followed by
    /// the shell's host PID.
    pub welcome: &'static str,
}

/// What the command line asked for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The command and its arguments; empty means an interactive shell.
    pub command: Vec<OsString>,
    /// `--init` (with a PID namespace): a tiny init is PID 1, the
    /// command PID 2.
    pub init: bool,
    /// `--map-root` (with a user namespace): root inside is the invoking
    /// user outside.
    pub map_root: bool,
    /// `--root DIR` (with a mount namespace): `pivot_root` into DIR.
    pub root: Option<PathBuf>,
    /// `--veth` (with a network namespace): a veth pair to the host.
    pub veth: bool,
    /// `--propagation MODE` (with a mount namespace): what the child
    /// makes of its copy of the mount tree; private unless asked.
    pub propagation: Propagation,
    /// `--map-users`, `--map-groups`, `--map-auto` (with a user
    /// namespace): maps of several ranges, written by newuidmap and
    /// newgidmap from outside; `--map-root` with them is theirs too.
    pub id_maps: HelperMaps,
}

/// The propagation type the child gives every mount of its copy of the
/// tree, spelled as util-linux `unshare --propagation` spells it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Nothing propagates, in or out (the default).
    #[default]
    Private,
    /// Mounts and unmounts on the host arrive; ours do not go back.
    Slave,
    /// Mounts and unmounts go both ways (a peer of the host's copy).
    Shared,
    /// Leave the copy as the kernel made it.
    Unchanged,
}

impl Propagation {
    /// Every mode, by its command-line name.
    pub const ALL: [(&'static str, Propagation); 4] = [
        ("private", Propagation::Private),
        ("slave", Propagation::Slave),
        ("shared", Propagation::Shared),
        ("unchanged", Propagation::Unchanged),
    ];

    /// The mode's name, as `--propagation` takes it.
    pub fn name(self) -> &'static str {
        let found = Propagation::ALL.iter().find(|(_, mode)| *mode == self);
        found.map_or("private", |(name, _)| name)
    }

    /// The `mount(2)` flags that give the mode to a whole tree (with
    /// `MS_REC`); none for `unchanged`.
    pub fn flags(self) -> Option<MsFlags> {
        let mode = match self {
            Propagation::Private => MsFlags::MS_PRIVATE,
            Propagation::Slave => MsFlags::MS_SLAVE,
            Propagation::Shared => MsFlags::MS_SHARED,
            Propagation::Unchanged => return None,
        };
        Some(MsFlags::MS_REC | mode)
    }
}

impl std::fmt::Display for Propagation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The outcome of parsing: run, or print the help.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Help,
    Run(Options),
}

/// The options each namespace brings, and where it first appears.
const OPTIONS: [(&str, CloneFlags, &str); 8] = [
    (
        "--init",
        CloneFlags::CLONE_NEWPID,
        "a PID namespace (ch03-pid on)",
    ),
    (
        "--map-root",
        CloneFlags::CLONE_NEWUSER,
        "a user namespace (ch05-user on)",
    ),
    (
        "--map-users",
        CloneFlags::CLONE_NEWUSER,
        "a user namespace (ch05-user on)",
    ),
    (
        "--map-groups",
        CloneFlags::CLONE_NEWUSER,
        "a user namespace (ch05-user on)",
    ),
    (
        "--map-auto",
        CloneFlags::CLONE_NEWUSER,
        "a user namespace (ch05-user on)",
    ),
    (
        "--root",
        CloneFlags::CLONE_NEWNS,
        "a mount namespace (ch04-mount on)",
    ),
    (
        "--propagation",
        CloneFlags::CLONE_NEWNS,
        "a mount namespace (ch04-mount on)",
    ),
    (
        "--veth",
        CloneFlags::CLONE_NEWNET,
        "a network namespace (ch06-net on)",
    ),
];

/// The options that take a range, also as `--option=RANGE`.
const MAP_RANGES: [&str; 2] = ["--map-users", "--map-groups"];

/// Options come before the command; `--` ends them. An option exists
/// only where the chapter creates its namespace.
pub fn parse(
    namespaces: CloneFlags,
    args: impl IntoIterator<Item = OsString>,
) -> Result<Parsed, String> {
    let mut args = args.into_iter().peekable();
    let mut options = Options::default();
    let is_option =
        |arg: &OsString| arg.to_str().is_some_and(|a| a.starts_with('-'));
    while let Some(arg) = args.next_if(is_option) {
        let word = arg.to_str().unwrap_or_default();
        if word == "--" {
            break;
        }
        if word == "-h" || word == "--help" {
            return Ok(Parsed::Help);
        }
        // `--map-users=0:100000:65536`, as util-linux also takes it.
        let (word, inline) = match word.split_once('=') {
            Some((word, value)) if MAP_RANGES.contains(&word) => {
                (word, Some(OsString::from(value)))
            }
            _ => (word, None),
        };
        let Some((name, needs, needs_what)) =
            OPTIONS.iter().find(|(name, ..)| *name == word)
        else {
            return Err(format!("unknown option '{word}'"));
        };
        if !namespaces.contains(*needs) {
            return Err(format!("{name} needs {needs_what}"));
        }
        match *name {
            "--init" => options.init = true,
            "--map-root" => options.map_root = true,
            "--map-auto" => {
                options.id_maps.users.push(RangeSpec::Auto);
                options.id_maps.groups.push(RangeSpec::Auto);
            }
            "--map-users" | "--map-groups" => {
                let value = inline.or_else(|| args.next());
                let spec = value.as_ref().and_then(|v| v.to_str());
                let Some(spec) = spec.and_then(RangeSpec::parse) else {
                    return Err(format!(
                        "{name} needs INNER:OUTER[:COUNT] or auto, \
                         as in {name} 0:100000:65536"
                    ));
                };
                let list = if *name == "--map-users" {
                    &mut options.id_maps.users
                } else {
                    &mut options.id_maps.groups
                };
                list.push(spec);
            }
            "--root" => match args.next() {
                Some(dir) if !dir.is_empty() => options.root = Some(dir.into()),
                _ => return Err("--root needs a directory: --root DIR".into()),
            },
            "--propagation" => {
                let mode = args.next();
                let mode = mode.as_ref().and_then(|mode| mode.to_str());
                let Some((_, found)) = Propagation::ALL
                    .iter()
                    .find(|(name, _)| Some(*name) == mode)
                else {
                    return Err("--propagation needs a mode: \
                                private, slave, shared or unchanged"
                        .into());
                };
                options.propagation = *found;
            }
            _ => options.veth = true,
        }
    }
    // With ranges, newuidmap writes the whole map, --map-root's line too.
    if !options.id_maps.is_empty() {
        options.id_maps.root = std::mem::take(&mut options.map_root);
    }
    options.command = args.collect();
    Ok(Parsed::Run(options))
}

// ANCHOR: main
/// A chapter's whole `main`: parse the command line, print the help,
/// call `run`, and turn its result into the exit status (125 and a
/// one-line report when the tool failed). `run` says the welcome line,
/// once it knows the shell's PID (`Launch::run`).
pub fn main<E>(
    chapter: &Chapter,
    run: impl FnOnce(Options) -> Result<u8, E>,
) -> ExitCode
where
    E: Deref<Target = dyn Error + Send + Sync + 'static>,
{
    let name = chapter.name;
    let options = match parse(chapter.namespaces, std::env::args_os().skip(1)) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            output::stdout(chapter.help);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            output::stderr(&format!(
                "{name}: {message}\nhint: `{name} --help` shows the usage\n"
            ));
            return ExitCode::from(EXIT_TOOL_FAILED);
        }
    };
    // A bad --root DIR is refused before anything is made or said.
    if let Some(dir) = &options.root
        && let Err(error) = rootfs::check(dir, options.command.is_empty())
    {
        failure::report(name, chapter.namespaces, &error);
        return ExitCode::from(EXIT_TOOL_FAILED);
    }
    if let Err(error) = check_propagation(&options) {
        failure::report(name, chapter.namespaces, &error);
        return ExitCode::from(EXIT_TOOL_FAILED);
    }
    match run(options) {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            failure::report(name, chapter.namespaces, &*error);
            ExitCode::from(EXIT_TOOL_FAILED)
        }
    }
}
// ANCHOR_END: main

/// `--root` with a tree that stays shared is refused before anything is
/// made: `pivot_root(2)` will not move a shared mount (EINVAL).
fn check_propagation(options: &Options) -> Result<(), Failure> {
    let shared = match options.propagation {
        _ if options.root.is_none() => false,
        Propagation::Shared => true,
        Propagation::Unchanged => root_is_shared(),
        Propagation::Private | Propagation::Slave => false,
    };
    if !shared {
        return Ok(());
    }
    let mode = options.propagation.name();
    Err(Failure::new(format!(
        "--root cannot be used with --propagation {mode}: \
         / would stay shared, and pivot_root(2) refuses a shared mount (EINVAL)"
    ))
    .hint("use --propagation private (the default) or slave with --root"))
}

/// Whether our `/` is a shared mount: its line of
/// `/proc/self/mountinfo` has a `shared:N` field.
fn root_is_shared() -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo");
    let Some(root) = mountinfo
        .iter()
        .flat_map(|m| m.lines())
        .rfind(|line| line.split(' ').nth(4) == Some("/"))
    else {
        return false;
    };
    let optional = root.split(' ').skip(6).take_while(|field| *field != "-");
    optional
        .into_iter()
        .any(|field| field.starts_with("shared:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    const ALL: CloneFlags = CloneFlags::CLONE_NEWPID
        .union(CloneFlags::CLONE_NEWUSER)
        .union(CloneFlags::CLONE_NEWUTS);

    #[test]
    fn options_come_before_the_command() {
        let parsed = parse(ALL, args(&["--init", "sh", "-c", "--map-root"]));
        assert_eq!(
            parsed,
            Ok(Parsed::Run(Options {
                command: args(&["sh", "-c", "--map-root"]),
                init: true,
                ..Options::default()
            }))
        );
    }

    #[test]
    fn double_dash_ends_the_options() {
        let parsed = parse(ALL, args(&["--map-root", "--", "--init"]));
        assert_eq!(
            parsed,
            Ok(Parsed::Run(Options {
                command: args(&["--init"]),
                map_root: true,
                ..Options::default()
            }))
        );
    }

    #[test]
    fn no_command_is_an_interactive_shell() {
        assert_eq!(parse(ALL, args(&[])), Ok(Parsed::Run(Options::default())));
    }

    #[test]
    fn help_wins() {
        assert_eq!(parse(ALL, args(&["--init", "-h"])), Ok(Parsed::Help));
        assert_eq!(parse(ALL, args(&["--help", "x"])), Ok(Parsed::Help));
    }

    #[test]
    fn an_option_exists_only_with_its_namespace() {
        let uts = CloneFlags::CLONE_NEWUTS;
        assert_eq!(
            parse(uts, args(&["--init"])),
            Err("--init needs a PID namespace (ch03-pid on)".into())
        );
        assert_eq!(
            parse(uts, args(&["--map-root"])),
            Err("--map-root needs a user namespace (ch05-user on)".into())
        );
    }

    #[test]
    fn root_takes_a_directory() {
        let all = ALL.union(CloneFlags::CLONE_NEWNS);
        assert_eq!(
            parse(all, args(&["--root", "-odd dir", "ls"])),
            Ok(Parsed::Run(Options {
                command: args(&["ls"]),
                root: Some("-odd dir".into()),
                ..Options::default()
            }))
        );
        let missing = Err("--root needs a directory: --root DIR".into());
        assert_eq!(parse(all, args(&["--root"])), missing);
        assert_eq!(parse(all, args(&["--root", ""])), missing);
        assert_eq!(
            parse(CloneFlags::CLONE_NEWPID, args(&["--root", "/srv/r"])),
            Err("--root needs a mount namespace (ch04-mount on)".into())
        );
    }

    #[test]
    fn veth_needs_a_network_namespace() {
        let net = ALL.union(CloneFlags::CLONE_NEWNET);
        assert_eq!(
            parse(net, args(&["--veth"])),
            Ok(Parsed::Run(Options {
                veth: true,
                ..Options::default()
            }))
        );
        assert_eq!(
            parse(ALL, args(&["--veth"])),
            Err("--veth needs a network namespace (ch06-net on)".into())
        );
    }

    #[test]
    fn propagation_takes_a_mode() {
        let mnt = ALL.union(CloneFlags::CLONE_NEWNS);
        for (name, mode) in Propagation::ALL {
            assert_eq!(
                parse(mnt, args(&["--propagation", name, "ls"])),
                Ok(Parsed::Run(Options {
                    command: args(&["ls"]),
                    propagation: mode,
                    ..Options::default()
                }))
            );
            assert_eq!(mode.name(), name);
        }
        assert_eq!(Options::default().propagation, Propagation::Private);
        let wrong = Err("--propagation needs a mode: \
                         private, slave, shared or unchanged"
            .into());
        assert_eq!(parse(mnt, args(&["--propagation"])), wrong);
        assert_eq!(parse(mnt, args(&["--propagation", "rprivate"])), wrong);
        assert_eq!(
            parse(ALL, args(&["--propagation", "slave"])),
            Err("--propagation needs a mount namespace (ch04-mount on)".into())
        );
    }

    #[test]
    fn map_users_takes_ranges_as_util_linux_spells_them() {
        use crate::idmap::IdRange;
        let range = |inner, outer, count| {
            RangeSpec::Range(IdRange {
                inner,
                outer,
                count,
            })
        };
        let parsed = parse(
            ALL,
            args(&[
                "--map-root",
                "--map-users=0:100000:65536",
                "--map-groups",
                "100000,0,65536",
                "--map-users",
                "70000:300000",
                "id",
            ]),
        );
        assert_eq!(
            parsed,
            Ok(Parsed::Run(Options {
                command: args(&["id"]),
                // --map-root's line is the helpers' to write now.
                map_root: false,
                id_maps: HelperMaps {
                    users: vec![
                        range(0, 100000, 65536),
                        range(70000, 300000, 1)
                    ],
                    groups: vec![range(0, 100000, 65536)],
                    root: true,
                },
                ..Options::default()
            }))
        );
        let auto = parse(ALL, args(&["--map-auto"]));
        assert_eq!(
            auto,
            Ok(Parsed::Run(Options {
                id_maps: HelperMaps {
                    users: vec![RangeSpec::Auto],
                    groups: vec![RangeSpec::Auto],
                    root: false,
                },
                ..Options::default()
            }))
        );
        let wrong = Err("--map-users needs INNER:OUTER[:COUNT] or auto, \
                         as in --map-users 0:100000:65536"
            .into());
        assert_eq!(parse(ALL, args(&["--map-users"])), wrong);
        assert_eq!(parse(ALL, args(&["--map-users", "0:1:0"])), wrong);
        assert_eq!(parse(ALL, args(&["--map-users=x"])), wrong);
        assert_eq!(
            parse(CloneFlags::CLONE_NEWUTS, args(&["--map-auto"])),
            Err("--map-auto needs a user namespace (ch05-user on)".into())
        );
        // Only the range options take `=VALUE`.
        assert_eq!(
            parse(ALL, args(&["--map-root=1"])),
            Err("unknown option '--map-root=1'".into())
        );
    }

    #[test]
    fn unknown_options_are_refused() {
        assert_eq!(
            parse(ALL, args(&["--bogus"])),
            Err("unknown option '--bogus'".into())
        );
    }
}
