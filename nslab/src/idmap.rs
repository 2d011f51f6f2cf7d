//! Maps of several ranges, written for the child by the set-user-ID
//! helpers `newuidmap(1)` and `newgidmap(1)` (package `uidmap`), as
//! rootless runtimes write theirs: `--map-users`, `--map-groups` and
//! `--map-auto`, spelled as util-linux `unshare(1)` spells them.
//!
//! An unprivileged process may write only one line, for its own id
//! (`--map-root`). The helpers are privileged, and write what
//! `/etc/subuid` and `/etc/subgid` grant the user: the ranges of
//! subordinate ids that the administrator gave them. They write from
//! outside, into `/proc/PID` of the child, so they run in the parent
//! while the child waits for "go".

use std::path::Path;
use std::process::Command;

use nix::unistd::{Gid, Pid, Uid, User};

use crate::Failure;

/// One map line: `count` ids from `inner` inside stand for as many
/// from `outer` outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub inner: u32,
    pub outer: u32,
    pub count: u32,
}

/// A range as the command line gives it: explicit, or `auto` (the
/// user's first range in `/etc/subuid` or `/etc/subgid`, from inside
/// id 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    Range(IdRange),
    Auto,
}

impl RangeSpec {
    /// `INNER:OUTER[:COUNT]` (util-linux 2.39), the older
    /// `OUTER,INNER[,COUNT]` (util-linux 2.38), or `auto`. COUNT is 1
    /// when left out.
    pub fn parse(text: &str) -> Option<RangeSpec> {
        if text == "auto" {
            return Some(RangeSpec::Auto);
        }
        let (separator, older) = if text.contains(',') {
            (',', true)
        } else {
            (':', false)
        };
        let numbers: Vec<u32> = text
            .split(separator)
            .map(|n| n.parse().ok())
            .collect::<Option<_>>()?;
        let (first, second, count) = match numbers[..] {
            [first, second] => (first, second, 1),
            [first, second, count] => (first, second, count),
            _ => return None,
        };
        let (inner, outer) = if older {
            (second, first)
        } else {
            (first, second)
        };
        (count > 0).then_some(RangeSpec::Range(IdRange {
            inner,
            outer,
            count,
        }))
    }
}

/// What the helpers are to write: the ranges for users and groups, and
/// whether `--map-root` asked for inside 0 to be the invoking user.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HelperMaps {
    pub users: Vec<RangeSpec>,
    pub groups: Vec<RangeSpec>,
    pub root: bool,
}

impl HelperMaps {
    /// True when no option asked for the helpers.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }
}

/// The two kinds of map, and what differs between them.
struct Kind {
    /// "uid" or "gid".
    name: &'static str,
    helper: &'static str,
    subids: &'static str,
}

const USERS: Kind = Kind {
    name: "uid",
    helper: "newuidmap",
    subids: "/etc/subuid",
};
const GROUPS: Kind = Kind {
    name: "gid",
    helper: "newgidmap",
    subids: "/etc/subgid",
};

/// Writes the child's maps through the helpers. `outer` is the tool's
/// effective uid and gid, which `--map-root` maps to 0.
pub fn write_for_child(
    maps: &HelperMaps,
    child: Pid,
    outer: (Uid, Gid),
) -> Result<(), Failure> {
    own_proc()?;
    let name = User::from_uid(outer.0).ok().flatten().map(|user| user.name);
    let (uid, gid) = (outer.0.as_raw(), outer.1.as_raw());
    let lines = [(&USERS, &maps.users, uid), (&GROUPS, &maps.groups, gid)];
    for (kind, specs, own) in lines {
        let mut ranges = Vec::new();
        for spec in specs {
            ranges.push(match spec {
                RangeSpec::Range(range) => *range,
                RangeSpec::Auto => {
                    first_subordinate(kind, name.as_deref(), own)?
                }
            });
        }
        if maps.root {
            ranges = with_root(ranges, own);
        }
        if ranges.is_empty() {
            continue;
        }
        run_helper(kind, child, &ranges)?;
    }
    Ok(())
}

/// `--map-root` with ranges: inside 0 is the invoking user, and a range
/// that covers inside 0 starts at inside 1 instead, from the same first
/// outside id, one id shorter (as util-linux `unshare` makes it: its
/// last id goes unmapped).
fn with_root(ranges: Vec<IdRange>, own: u32) -> Vec<IdRange> {
    let mut out = vec![IdRange {
        inner: 0,
        outer: own,
        count: 1,
    }];
    for range in ranges {
        if range.inner == 0 {
            if range.count > 1 {
                out.push(IdRange {
                    inner: 1,
                    outer: range.outer,
                    count: range.count - 1,
                });
            }
        } else {
            out.push(range);
        }
    }
    out
}

/// The helpers find the child as /proc/PID: that must be the /proc of
/// our own PID namespace, or PID would name another process there (as
/// in chapter 3's shell, whose /proc is still the host's).
fn own_proc() -> Result<(), Failure> {
    let ours = std::fs::read_link("/proc/self").ok();
    let pid = std::process::id().to_string();
    if ours.as_deref() == Some(Path::new(&pid)) {
        return Ok(());
    }
    Err(Failure::new(
        "cannot write the maps with newuidmap: /proc is not this PID namespace's",
    )
    .hint(
        "newuidmap finds the child by its PID in /proc: mount a proc for this \
         PID namespace first (mount -t proc proc /proc)",
    ))
}

/// The first line of `/etc/subuid` (or subgid) for this user, by name
/// or by number, as the range from inside 0.
fn first_subordinate(
    kind: &Kind,
    name: Option<&str>,
    own: u32,
) -> Result<IdRange, Failure> {
    let text = std::fs::read_to_string(kind.subids).map_err(|error| {
        Failure::io(format!("cannot read {}", kind.subids), &error)
            .hint(no_range_hint(kind, own))
    })?;
    let own_text = own.to_string();
    let found = text.lines().find_map(|line| {
        let mut fields = line.trim().split(':');
        let who = fields.next()?;
        if who != own_text && Some(who) != name {
            return None;
        }
        let outer = fields.next()?.parse().ok()?;
        let count: u32 = fields.next()?.parse().ok()?;
        (count > 0).then_some(IdRange {
            inner: 0,
            outer,
            count,
        })
    });
    found.ok_or_else(|| {
        Failure::new(format!(
            "cannot map {}s: no range for {} in {}",
            kind.name,
            name.unwrap_or(&own_text),
            kind.subids
        ))
        .hint(no_range_hint(kind, own))
    })
}

fn no_range_hint(kind: &Kind, own: u32) -> String {
    format!(
        "auto maps the first range that {} gives the user: as root, add one \
         (usermod --add-sub{}s 100000-165535 USER), or give the ranges \
         yourself",
        kind.subids, kind.name,
    ) + if own == 0 {
        " (root needs one too)"
    } else {
        ""
    }
}

/// Runs `newuidmap PID INNER OUTER COUNT...` (or newgidmap).
fn run_helper(
    kind: &Kind,
    child: Pid,
    ranges: &[IdRange],
) -> Result<(), Failure> {
    let mut command = Command::new(kind.helper);
    command.arg(child.to_string());
    for range in ranges {
        command.args(
            [range.inner, range.outer, range.count].map(|n| n.to_string()),
        );
    }
    let what =
        format!("cannot write the {} map with {}", kind.name, kind.helper);
    let output = command.output().map_err(|error| {
        Failure::io(what.clone(), &error).hint(format!(
            "{} comes with the uidmap package (apt-get install uidmap; \
             dnf install shadow-utils)",
            kind.helper
        ))
    })?;
    if output.status.success() {
        return Ok(());
    }
    // The helper's own words say which range it refused.
    let said = String::from_utf8_lossy(&output.stderr);
    let said = said.lines().last().unwrap_or("").trim();
    let hint = if said.contains(" failed: ") {
        // The helper allowed the ranges; the kernel refused the map.
        "the kernel refused the map: ranges may not overlap, inside or \
         outside, and a map has at most 340 of them (see user_namespaces(7))"
            .to_string()
    } else {
        format!(
            "{} writes only the ranges that {} grants the user (and the \
             user's own id): `grep \"^$(id -un):\" {}` lists them",
            kind.helper, kind.subids, kind.subids
        )
    };
    Err(Failure::new(format!("{what}: {said}")).hint(hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_util_linux_spells_them() {
        let range = |inner, outer, count| {
            Some(RangeSpec::Range(IdRange {
                inner,
                outer,
                count,
            }))
        };
        assert_eq!(RangeSpec::parse("0:100000:65536"), range(0, 100000, 65536));
        assert_eq!(RangeSpec::parse("100000,0,65536"), range(0, 100000, 65536));
        assert_eq!(RangeSpec::parse("5:1000"), range(5, 1000, 1));
        assert_eq!(RangeSpec::parse("auto"), Some(RangeSpec::Auto));
        for bad in ["", "1", "a:b:c", "1:2:3:4", "1:2:0", "-1:2:3"] {
            assert_eq!(RangeSpec::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn map_root_takes_inside_0_from_a_range_that_covers_it() {
        let range = |inner, outer, count| IdRange {
            inner,
            outer,
            count,
        };
        assert_eq!(
            with_root(vec![range(0, 100000, 65536)], 1000),
            [range(0, 1000, 1), range(1, 100000, 65535)]
        );
        assert_eq!(
            with_root(vec![range(1, 100000, 10)], 1000),
            [range(0, 1000, 1), range(1, 100000, 10)]
        );
    }
}
