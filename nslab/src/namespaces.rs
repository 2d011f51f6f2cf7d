//! The 8 namespace types, once: the name of each in `/proc/PID/ns`, its
//! `CLONE_NEW*` flag, its `/proc/sys/user` limit, and the first kernel
//! that has it. The chapters' hints and every part of `ch07-inspect`
//! read this one table.

use nix::sched::CloneFlags;

use crate::failure::Failure;

/// One namespace type.
#[derive(Debug, PartialEq, Eq, Clone, Copy, PartialOrd, Ord, Hash)]
pub struct Kind {
    /// Its name in `/proc/PID/ns`.
    pub name: &'static str,
    /// Its `CLONE_NEW*` flag.
    pub flag: libc::c_int,
    /// The flag's name, for people.
    pub flag_name: &'static str,
    /// The first Linux release that has it.
    pub since: &'static str,
}

impl Kind {
    /// Its flag as the `CloneFlags` that `clone`, `unshare` and `setns`
    /// take. (`CLONE_NEWTIME` shares its bit with `CSIGNAL`'s range:
    /// nix has no constant for it.)
    pub fn clone_flags(self) -> CloneFlags {
        CloneFlags::from_bits_retain(self.flag)
    }

    /// `/proc/sys/user/max_<type>_namespaces`.
    pub fn limit_file(self) -> String {
        format!("/proc/sys/user/max_{}_namespaces", self.name)
    }
}

const fn kind(
    name: &'static str,
    flag: libc::c_int,
    flag_name: &'static str,
    since: &'static str,
) -> Kind {
    Kind {
        name,
        flag,
        flag_name,
        since,
    }
}

/// The 8 types, in the order `/proc/PID/ns` lists them.
pub const KINDS: [Kind; 8] = [
    kind("cgroup", libc::CLONE_NEWCGROUP, "CLONE_NEWCGROUP", "4.6"),
    kind("ipc", libc::CLONE_NEWIPC, "CLONE_NEWIPC", "2.6.19"),
    kind("mnt", libc::CLONE_NEWNS, "CLONE_NEWNS", "2.4.19"),
    kind("net", libc::CLONE_NEWNET, "CLONE_NEWNET", "2.6.29"),
    kind("pid", libc::CLONE_NEWPID, "CLONE_NEWPID", "2.6.24"),
    kind("time", libc::CLONE_NEWTIME, "CLONE_NEWTIME", "5.6"),
    kind("user", libc::CLONE_NEWUSER, "CLONE_NEWUSER", "3.8"),
    kind("uts", libc::CLONE_NEWUTS, "CLONE_NEWUTS", "2.6.19"),
];

/// The names, for hints.
pub const TYPE_NAMES: &str = "cgroup, ipc, mnt, net, pid, time, user, uts";

/// The types whose flags are in `flags`.
pub fn kinds_in(flags: CloneFlags) -> impl Iterator<Item = Kind> {
    KINDS
        .into_iter()
        .filter(move |kind| flags.contains(kind.clone_flags()))
}

/// Looks a type up by its name (also `mount` and `network`).
pub fn kind_named(name: &str) -> Result<Kind, Failure> {
    let name = match name {
        "mount" | "ns" => "mnt",
        "network" => "net",
        other => other,
    };
    KINDS.into_iter().find(|k| k.name == name).ok_or_else(|| {
        Failure::new(format!("unknown namespace type '{name}'"))
            .hint(format!("the types are: {TYPE_NAMES}"))
    })
}

/// The type a `CLONE_NEW*` flag stands for.
pub fn kind_of_flag(flag: libc::c_int) -> Option<Kind> {
    KINDS.into_iter().find(|k| k.flag == flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_has_its_own_flag_and_a_name_in_proc() {
        let flags = KINDS.iter().fold(0, |all, kind| {
            assert_eq!(all & kind.flag, 0, "{kind:?}");
            all | kind.flag
        });
        assert_eq!(flags.count_ones(), 8);
        for kind in KINDS {
            assert_eq!(kind_named(kind.name).unwrap(), kind);
            assert_eq!(kind_of_flag(kind.flag), Some(kind));
            assert!(TYPE_NAMES.contains(kind.name));
        }
        assert_eq!(kind_named("mount").unwrap().name, "mnt");
        assert!(kind_named("nope").is_err());
    }
}
