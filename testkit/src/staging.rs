//! What `nobody`, and root inside a user namespace, must reach.
//!
//! Some tests run a chapter as `nobody`, or as root inside a user
//! namespace where the owner of the checkout has no mapping: both pass
//! a directory only where its mode lets *others* in. A checkout in a
//! home of mode `0700` (Debian's `adduser` default, or `/root`) is
//! closed to them, so `exec` and `--root` fail there with `EACCES`.
//! What they must reach is then staged in a directory that every user
//! can reach: the chapter binaries (see [`reachable`]) and the root
//! file systems of `--root` (see [`reachable_base`]).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

/// True when every user may reach `path`: each directory on the way
/// lets others search it (`o+x`).
pub fn open_to_everyone(path: &Path) -> bool {
    path.parent().is_some_and(searchable_by_everyone)
}

/// True when every user may enter `dir`: it and each directory above
/// it let others search them (`o+x`).
fn searchable_by_everyone(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    dir.ancestors().all(|dir| {
        std::fs::metadata(dir)
            .is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
    })
}

/// True when files on the file system of `dir` may be executed.
fn allows_exec(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(name) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statvfs(3) writes into the zeroed struct we own and reads
    // the NUL-terminated name, which outlives the call.
    unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        libc::statvfs(name.as_ptr(), &mut stat) == 0
            && stat.f_flag & libc::ST_NOEXEC == 0
    }
}

/// `preferred` when every user can reach it and may execute files
/// there; otherwise the first of the temporary directory, `/var/tmp`
/// and `/dev/shm` that is both.
pub fn reachable_base(preferred: &Path) -> PathBuf {
    let candidates = [
        preferred.to_path_buf(),
        std::env::temp_dir(),
        PathBuf::from("/var/tmp"),
        PathBuf::from("/dev/shm"),
    ];
    candidates
        .into_iter()
        .find(|dir| searchable_by_everyone(dir) && allows_exec(dir))
        .unwrap_or_else(|| {
            panic!(
                "no directory that every user can reach and execute files \
                 in: {} is closed to others (a home of mode 0700?), and the \
                 temporary directory too, or mounted noexec",
                preferred.display()
            )
        })
}

/// The staging directory of this test process, made on first use and
/// removed when the process exits.
fn staging_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = reachable_base(&std::env::temp_dir());
        let dir = base.join(crate::unique("nslab-staged"));
        create_dir_with_mode(&dir, 0o755);
        crate::at_exit::register(remove_staging_dir);
        dir
    })
}

fn remove_staging_dir() {
    let _ = std::fs::remove_dir_all(staging_dir());
}

/// `binary` itself when every user can reach it; otherwise its copy in
/// the staging directory, beside copies of every other program built
/// into the same directory, so that the directory can go on `PATH` as
/// `target/debug` would. Each directory of binaries gets a directory of
/// its own there: `cargo workshop check` tests an attendee's `ch01-uts`
/// while the workspace's `ch01-uts` is used beside it, and neither copy
/// may stand in for the other.
pub fn reachable(binary: PathBuf) -> PathBuf {
    if open_to_everyone(&binary) {
        return binary;
    }
    static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let dir = binary.parent().expect("a binary has a directory");
    let mut staged = STAGED.lock().unwrap_or_else(PoisonError::into_inner);
    let name = binary.file_name().expect("a binary has a name");
    let index = match staged.iter().position(|d| d == dir) {
        Some(index) => index,
        None => {
            let copies = staging_dir().join(staged.len().to_string());
            create_dir_with_mode(&copies, 0o755);
            for program in programs_in(dir) {
                stage(&program, &copies.join(program.file_name().unwrap()));
            }
            staged.push(dir.to_path_buf());
            staged.len() - 1
        }
    };
    let copy = staging_dir().join(index.to_string()).join(name);
    if !copy.exists() {
        stage(&binary, &copy);
    }
    copy
}

/// The executable files (the programs cargo built) directly in `dir`.
fn programs_in(dir: &Path) -> Vec<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry.metadata().is_ok_and(|meta| {
                meta.is_file() && meta.permissions().mode() & 0o111 != 0
            })
        })
        .map(|entry| entry.path())
        .collect()
}

/// A hard link of `from` at `to`, or else a copy made by cp(1): never a
/// file that this (multithreaded) process holds open for writing, which
/// a child forked meanwhile by another test would inherit until its
/// exec, so that executing the copy would fail with ETXTBSY.
pub fn stage(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if std::fs::hard_link(from, to).is_err() {
        let copied = std::process::Command::new("cp")
            .arg(from)
            .arg(to)
            .status()
            .expect("cannot run cp");
        assert!(copied.success(), "cannot copy {}", from.display());
    }
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755))
        .expect("cannot chmod the copy");
}

/// Creates the directory `path` with exactly `mode` (whatever the umask).
pub fn create_dir_with_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
}

/// Writes `contents` to `path` as an executable file (mode 0755) through
/// a child process, for the reason [`stage`] copies with cp(1): the file
/// is never open for writing in this multithreaded process, so executing
/// it cannot fail with ETXTBSY.
pub fn write_executable(path: &Path, contents: impl AsRef<[u8]>) {
    use std::io::Write;
    let mut writer = std::process::Command::new("sh")
        .args(["-c", "cat >\"$1\" && chmod 755 \"$1\"", "sh"])
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run sh");
    let mut stdin = writer.stdin.take().expect("a piped stdin");
    stdin
        .write_all(contents.as_ref())
        .expect("cannot write to sh");
    drop(stdin);
    let written = writer.wait().expect("cannot wait for sh");
    assert!(written.success(), "cannot write {}", path.display());
}
