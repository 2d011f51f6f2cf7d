//! Writing a file of `/proc/self`, such as the id maps of `--map-root`;
//! reading `/proc/PID/stat`.

use nix::errno::Errno;

use crate::failure::{self, Failure};

// ANCHOR: write_self
/// Writes `text` to `/proc/self/FILE`, with a hint when that fails.
///
/// `/proc/self` names the caller in the PID namespace that `/proc` was
/// mounted for. When that is not one of ours (a `/proc` from a sibling
/// namespace), it does not exist: the error says so, instead of writing
/// to some other process's files.
pub fn write_self(file: &str, text: &str) -> Result<(), Failure> {
    let path = format!("/proc/self/{file}");
    std::fs::write(&path, text).map_err(|error| {
        let failure = Failure::io(format!("cannot write {path}"), &error);
        match failure.os_error() {
            Some(Errno::ENOENT) => failure.hint(
                "/proc has no entry for this process: it belongs to another \
                 PID namespace, or is not mounted; mount one for this \
                 namespace (`mount -t proc proc /proc`) or run from the host",
            ),
            Some(Errno::EPERM | Errno::EACCES) => {
                match failure::apparmor_hint() {
                    Some(hint) => failure.hint(hint),
                    None if failure.os_error() == Some(Errno::EACCES)
                        && !dumpable() =>
                    {
                        failure.hint(
                            "the tool is not dumpable, as the kernel makes a \
                             process started with real and effective ids \
                             that differ (set-user-ID, `setpriv --euid`): \
                             its /proc/self files are root's, not ours; run \
                             it with one uid and one gid",
                        )
                    }
                    // Since Linux 5.12, uid 0 outside only for a creator
                    // that had CAP_SETFCAP.
                    None if file == "uid_map" && maps_outside_root(text) => {
                        failure.hint(
                            "mapping uid 0 outside needs CAP_SETFCAP (Linux \
                             5.12 on), and the tool ran without it (dropped \
                             by a container or `setpriv --bounding-set`)",
                        )
                    }
                    None => failure.hint(
                        "the kernel refused the map: a map may name only ids \
                     the tool has outside (see user_namespaces(7))",
                    ),
                }
            }
            _ => failure,
        }
    })
}
// ANCHOR_END: write_self

/// True when a map line's outside id range starts at 0.
fn maps_outside_root(map: &str) -> bool {
    map.lines()
        .any(|line| line.split_whitespace().nth(1) == Some("0"))
}

/// False when the kernel marked us not dumpable: started with real and
/// effective ids that differ, or after changing them.
fn dumpable() -> bool {
    // SAFETY: prctl(2) PR_GET_DUMPABLE reads a flag; it touches no memory.
    unsafe { libc::prctl(libc::PR_GET_DUMPABLE) != 0 }
}

/// What `/proc/PID/stat` says of a process: one parser for every reader.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Stat {
    /// The state letter: `R`, `S`, `D`, `Z` (a zombie), `T`, ...
    pub state: char,
    /// The parent's PID.
    pub parent: u32,
    /// When it started, in clock ticks after boot: with the PID, it
    /// tells a process from a later one that got the same number.
    pub start_time: u64,
}

impl Stat {
    /// Parses a `/proc/PID/stat` line. The command name, in parentheses,
    /// may itself hold spaces and parentheses: the fields are read after
    /// the last `)`.
    pub fn parse(text: &str) -> Option<Stat> {
        let (_, after_name) = text.rsplit_once(')')?;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        Some(Stat {
            state: fields.first()?.chars().next()?,
            parent: fields.get(1)?.parse().ok()?,
            start_time: fields.get(19)?.parse().ok()?,
        })
    }

    /// Reads `/proc/PID/stat`; `None` once the process is gone.
    pub fn of(pid: u32) -> Option<Stat> {
        Stat::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_is_read_after_the_command_name() {
        // starttime is the 20th field after the name.
        let tail = "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 777 1 2";
        let line = format!("42 (a) b) (c) Z 99 1 1 {tail}");
        let stat = Stat::parse(&line).unwrap();
        assert_eq!((stat.state, stat.parent, stat.start_time), ('Z', 99, 777));
        assert_eq!(Stat::parse("garbage"), None);
        assert_eq!(Stat::parse("1 (x) S 0"), None);
        let me = Stat::of(std::process::id()).unwrap();
        assert_eq!(me.parent, std::os::unix::process::parent_id());
    }
}
