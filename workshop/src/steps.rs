//! The six steps: which chapter each one is, what each blank block asks
//! for, and the hints. The code itself is never stored here: it is read
//! from the chapters' `main.rs` when a step is made (see `lesson`).

/// One step of the workshop: one chapter.
pub struct Step {
    /// The chapter's crate, such as `ch01-uts`.
    pub chapter: &'static str,
    /// Needs root to create its namespaces (ch01–ch04).
    pub needs_root: bool,
    /// The one-line task of each blank block, by anchor name.
    pub tasks: &'static [(&'static str, &'static str)],
    /// Hints, from a nudge to nearly the answer.
    pub hints: &'static [&'static str],
}

impl Step {
    /// `ch01`, the short name typed on the command line.
    pub fn short(&self) -> &'static str {
        &self.chapter[..4]
    }

    /// The task of block `name`, or a general one.
    pub fn task(&self, name: &str) -> String {
        self.tasks
            .iter()
            .find(|(block, _)| *block == name)
            .map(|(_, task)| (*task).to_string())
            .unwrap_or_else(|| {
                format!(
                    "write the `{name}` block, as the page {} shows",
                    self.chapter
                )
            })
    }
}

const CLONE_TASK: &str = "clone(2) with the flags in NAMESPACES, on a stack from \
     nslab::child_stack(); the child runs `launch.in_child(setup_child)`; \
     `child` is its PID";

pub const STEPS: [Step; 6] = [
    Step {
        chapter: "ch01-uts",
        needs_root: true,
        tasks: &[
            ("flags", "NAMESPACES: the flag of a new UTS namespace"),
            ("clone", CLONE_TASK),
            ("setup", "nothing to set up in the child yet: return Ok(())"),
        ],
        hints: &[
            "A UTS namespace holds the hostname. nix calls its flag \
             `CloneFlags::CLONE_NEWUTS`; NAMESPACES is that one flag.",
            "`nix::sched::clone(child_main, &mut stack, NAMESPACES, \
             Some(libc::SIGCHLD))` takes a boxed closure that returns the \
             child's exit status: `Box::new(|| launch.in_child(setup_child))`. \
             The stack comes from `nslab::child_stack()?`.",
            "clone is `unsafe`: put it in an `unsafe { }` block with a \
             `// SAFETY:` comment (we are single-threaded, so the child \
             cannot inherit a lock another thread holds), and turn its error \
             into anyhow with `.context(\"cannot create namespaces (clone)\")?`.",
        ],
    },
    Step {
        chapter: "ch02-ipc",
        needs_root: true,
        tasks: &[(
            "flags",
            "NAMESPACES: ch01's UTS flag and the flag of a new IPC namespace",
        )],
        hints: &[
            "The IPC namespace's flag is `CloneFlags::CLONE_NEWIPC`.",
            "`|` cannot be used in a `const`, but `union` can: \
             `CloneFlags::CLONE_NEWUTS.union(CloneFlags::CLONE_NEWIPC)`.",
        ],
    },
    Step {
        chapter: "ch03-pid",
        needs_root: true,
        tasks: &[(
            "flags",
            "NAMESPACES: UTS, IPC, and the flag of a new PID namespace",
        )],
        hints: &[
            "The first process of a new PID namespace is its PID 1: here, \
             the child that clone makes. The flag is `CloneFlags::CLONE_NEWPID`.",
            "Add it with one more `.union(CloneFlags::CLONE_NEWPID)`.",
        ],
    },
    Step {
        chapter: "ch04-mount",
        needs_root: true,
        tasks: &[
            (
                "flags",
                "NAMESPACES: UTS, IPC, PID, and the flag of a new mount namespace",
            ),
            (
                "setup",
                "first set the propagation of / (set_root_propagation with \
                 launch.options().propagation), then with --root \
                 (launch.options().root) pivot_into()",
            ),
            (
                "private",
                "mount --make-rprivate / (or what --propagation says): \
                 mount(2) on \"/\" with mode.flags(), no source, no type, no \
                 data; nothing when mode.flags() is None",
            ),
            (
                "pivot_root",
                "bind DIR (our working directory) onto itself with \
                 nslab::rootfs::bind_here(), pivot_root(\".\", \".\"), detach \
                 the old root (umount2 MNT_DETACH), chdir(\"/\")",
            ),
        ],
        hints: &[
            "The mount namespace's flag kept the name it had in 2002, when it \
             was the only one: `CloneFlags::CLONE_NEWNS`.",
            "Order matters. On a systemd host `/` is a shared mount, and the \
             child's copy of it is shared too: anything mounted before the \
             copy is made private shows up on the host. `setup_child` makes \
             `/` private first, then handles --root.",
            "`mount(None::<&str>, \"/\", None::<&str>, MsFlags::MS_REC | \
             MsFlags::MS_PRIVATE, None::<&str>)` is `mount --make-rprivate /`; \
             `mode.flags()` gives those flags for the default mode, and \
             None for `--propagation unchanged`.",
            "pivot_root(2) moves mounts, not directories: DIR must be a \
             mount, which `nslab::rootfs::bind_here()` makes of the working \
             directory. With `pivot_root(\".\", \".\")` the old root lands on \
             top of the new one, and `umount2(\".\", MntFlags::MNT_DETACH)` \
             takes it away.",
        ],
    },
    Step {
        chapter: "ch05-user",
        needs_root: false,
        tasks: &[
            (
                "flags",
                "NAMESPACES: UTS, IPC, PID, mount, and the flag of a new user namespace",
            ),
            (
                "setup",
                "with --map-root, map_root(launch.outer_ids()); then, as in \
                 ch04, make / private and handle --root",
            ),
            (
                "map_root",
                "deny setgroups, then write gid_map and uid_map of /proc/self: \
                 0 inside is our own id outside, one of each",
            ),
        ],
        hints: &[
            "The user namespace's flag is `CloneFlags::CLONE_NEWUSER`. The \
             kernel makes it first, and it owns the others: that is why this \
             step needs no root.",
            "The child writes its own maps, through `/proc/self` \
             (`nslab::write_self`): the parent's `/proc/self` is the parent, \
             which is not in the new user namespace.",
            "Without privilege, the kernel takes a gid_map only after `deny` \
             was written to `/proc/self/setgroups`.",
            "A map line is `inside outside count`: `format!(\"0 {uid} 1\\n\")` \
             for uid_map, and the same with the gid for gid_map.",
        ],
    },
    Step {
        chapter: "ch06-net",
        needs_root: false,
        tasks: &[(
            "flags",
            "NAMESPACES: UTS, IPC, PID, mount, user, and the flag of a new \
             network namespace",
        )],
        hints: &[
            "The network namespace's flag is `CloneFlags::CLONE_NEWNET`: a new \
             one has only `lo`, and it is down.",
            "`--veth` is given: the parent runs the cable to the host after \
             clone (see `run`); your part is the flag.",
        ],
    },
];

/// The step named `name`: `ch03`, `ch03-pid`, or `3`.
pub fn find(name: &str) -> Option<&'static Step> {
    let name = name.trim();
    STEPS.iter().find(|step| {
        step.chapter == name
            || step.short() == name
            || name.parse::<usize>().ok() == step.short()[2..].parse().ok()
    })
}
