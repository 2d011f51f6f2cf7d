//! Failures whose hint must name the real cause: an unmapped uid (not
//! "needs root"), a missing interpreter (not "command not found"); and
//! what must hold on older kernels (no `CLOSE_RANGE_CLOEXEC`).

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

use crate::{bin, stderr, stdout, unique};

/// Runs `command` and returns its output, failing the test after
/// [`crate::TIMEOUT`].
fn run(command: Command) -> Output {
    let mut command = assert_cmd::Command::from_std(command);
    command.timeout(crate::TIMEOUT);
    command.output().expect("cannot run the command")
}

/// The hint line of a failure: one error line, then `hint: `.
fn hint_of(output: &Output) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(125), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].contains("EPERM"), "{err}");
    lines[1].to_string()
}

/// The hint blames the unmapped uid, not a lack of root (ch01–ch04) or
/// a ban on user namespaces (ch05, ch06).
fn assert_blames_the_unmapped_uid(output: &Output) {
    let hint = hint_of(output);
    assert!(hint.contains("has no mapping"), "{hint}");
    assert!(!hint.contains("needs root"), "{hint}");
    assert!(!hint.contains("denied to this user"), "{hint}");
}

/// A script that makes a user namespace owned by nobody (uid and gid 0
/// inside are 65534 outside), then runs its arguments there with
/// `nsenter -U --preserve-credentials`: host root, unmapped in it.
const IN_A_NOBODY_NAMESPACE: &str = "\
    unshare -U sleep 1000 & p=$!\n\
    while [ \"$(readlink /proc/$p/ns/user)\" = \"$(readlink /proc/self/ns/user)\" ]\n\
    do sleep 0.01; done\n\
    echo '0 65534 1' > /proc/$p/uid_map && echo '0 65534 1' > /proc/$p/gid_map\n\
    nsenter -t $p -U --preserve-credentials \"$@\"; s=$?; kill $p; exit $s\n";

/// Run as root where our uid has no mapping (`unshare -U`, a namespace
/// owned by another user, ch05 without `--map-root`), a chapter names
/// that cause.
pub fn an_unmapped_uid_is_named_as_the_cause(tool: &str) {
    let mut fresh = Command::new("unshare");
    fresh.args(["-U"]).arg(bin(tool)).args(["--", "true"]);
    assert_blames_the_unmapped_uid(&run(fresh));

    let mut foreign = Command::new("sh");
    foreign
        .args(["-c", IN_A_NOBODY_NAMESPACE, "sh"])
        .arg(bin(tool))
        .args(["--", "true"]);
    assert_blames_the_unmapped_uid(&run(foreign));

    let mut inside = Command::new(bin("ch05-user"));
    inside.arg("--").arg(bin(tool)).args(["--", "true"]);
    assert_blames_the_unmapped_uid(&run(inside));
}

/// A copy of `/bin/true` whose ELF interpreter names a file that does
/// not exist (the same length as the real one, so nothing moves).
fn true_with_a_missing_loader(dir: &std::path::Path) -> std::path::PathBuf {
    let mut elf = std::fs::read("/bin/true").unwrap();
    let loader = b"/lib64/ld-linux-x86-64.so.2";
    let at = elf
        .windows(loader.len())
        .position(|w| w == loader)
        .or_else(|| {
            let other = b"/lib/ld-linux-aarch64.so.1";
            elf.windows(other.len()).position(|w| w == other)
        })
        .expect("/bin/true names no known ELF interpreter");
    elf[at + 1..at + 4].copy_from_slice(b"nsl");
    let path = dir.join("true-missing-loader");
    crate::staging::write_executable(&path, elf);
    path
}

/// A file that exists but whose interpreter does not is not "command
/// not found": status 127, and the message says what is missing. The
/// files are made under `base` (a test's `CARGO_TARGET_TMPDIR`: `/tmp`
/// may be `noexec`).
pub fn a_missing_interpreter_is_named(tool: &str, base: &str) {
    let dir = ScratchDir::new(base);
    let script = dir.path.join("script");
    crate::staging::write_executable(
        &script,
        "#!/nslab/no-such-shell -e\necho hi\n",
    );
    let elf = true_with_a_missing_loader(&dir.path);
    for (file, named) in [
        (script, "'/nslab/no-such-shell'".to_string()),
        (elf, "ELF interpreter '/nsl".to_string()),
    ] {
        let mut command = Command::new(bin(tool));
        command.arg("--").arg(&file);
        let output = run(command);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(127), "{err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 2, "{err}");
        assert!(
            lines[0].contains(
                "its interpreter (ELF loader or #! line) was not found"
            ),
            "{err}"
        );
        assert!(!err.contains("command not found"), "{err}");
        assert!(lines[1].starts_with("hint: "), "{err}");
        assert!(lines[1].contains(&named), "{err}");
    }
}

/// Installs a seccomp filter that fails close_range(2) with ENOSYS, as
/// a kernel older than 5.9 does (and 5.9, 5.10 fail its CLOEXEC flag).
fn without_close_range(command: &mut Command) {
    // BPF: load the syscall number; if close_range, fail with ENOSYS;
    // else allow.
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
    let filter = [
        libc::sock_filter {
            code: 0x20,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: 0x15,
            jt: 0,
            jf: 1,
            k: libc::SYS_close_range as u32,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        },
    ];
    // SAFETY: the closure runs in the forked child before exec, and only
    // makes two prctl(2) calls (async-signal-safe) on data it owns.
    unsafe {
        command.pre_exec(move || {
            let program = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr().cast_mut(),
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &program as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
}

/// Without `close_range(CLOSE_RANGE_CLOEXEC)` (Linux < 5.11), the
/// command still inherits only fds 0, 1 and 2.
pub fn only_stdio_is_inherited_without_close_range(tool: &str) {
    // fd 7 is open (without close-on-exec) in the tool itself.
    let line = format!(
        "exec 7</etc/hostname; exec '{}' -- ls /proc/self/fd",
        bin(tool).display()
    );
    let mut command = Command::new("bash");
    command.args(["-c", &line]);
    without_close_range(&mut command);
    let output = run(command);
    assert!(output.status.success(), "{}", stderr(&output));
    let fds: Vec<String> = stdout(&output)
        .split_whitespace()
        .map(String::from)
        .collect();
    // ls itself holds one more: the directory it is listing.
    assert_eq!(fds.len(), 4, "{fds:?}");
    assert_eq!(&fds[..3], ["0", "1", "2"], "{fds:?}");
    assert_ne!(fds[3], "7", "{fds:?}");
}

/// `--map-root` maps the ids the kernel checks: the effective ones. Run
/// as root with a real uid of 1000, root inside is root outside.
pub fn map_root_maps_the_effective_ids(tool: &str) {
    let mut command = Command::new("setpriv");
    command
        .args(["--ruid", "1000", "--rgid", "1000", "--keep-groups"])
        .arg(bin(tool))
        .args(["--map-root", "--", "cat", "/proc/self/uid_map"]);
    command.arg("/proc/self/gid_map");
    let output = run(command);
    assert!(output.status.success(), "{}", stderr(&output));
    let maps: Vec<Vec<String>> = stdout(&output)
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert_eq!(maps, [["0", "0", "1"], ["0", "0", "1"]], "{maps:?}");
}

/// A new directory under `base`, removed when dropped.
struct ScratchDir {
    path: std::path::PathBuf,
}

impl ScratchDir {
    fn new(base: &str) -> ScratchDir {
        // Where a chapter with a user namespace can reach it (a checkout
        // in a home of mode 0700 is closed to it).
        let base = crate::staging::reachable_base(std::path::Path::new(base));
        let path = base.join(unique("nslab-interp"));
        std::fs::create_dir_all(&path).expect("cannot create a scratch dir");
        ScratchDir { path }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Started with a real uid (1000) other than its effective one (nobody),
/// the tool is not dumpable and its `/proc/self` files are root's: the
/// id maps cannot be written, and the hint says why (not "a map may name
/// only ids the tool has").
pub fn an_undumpable_tool_says_why_it_cannot_write_its_maps(
    tool: &str,
    args: &[&str],
) {
    let copy = crate::BinaryCopy::new(tool);
    let mut command = Command::new("setpriv");
    command
        .args(["--ruid", "1000", "--euid", "65534"])
        .args(["--rgid", "1000", "--egid", "65534", "--clear-groups"])
        .arg(&copy.path)
        .args(args);
    let output = run(command);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(125), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains("cannot write /proc/self/setgroups: EACCES"),
        "{err}"
    );
    assert!(lines[1].starts_with("hint: "), "{err}");
    assert!(lines[1].contains("not dumpable"), "{err}");
}
