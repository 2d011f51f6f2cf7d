//! Walking a path as root without being redirected.
//!
//! `keep` and `release` run as root on paths that may pass through a
//! directory another user owns (`/home/alice/ns/x`). Two rules keep
//! root from being sent elsewhere:
//!
//! - **Resolve once.** The directory is opened once, one component at
//!   a time (`O_PATH | O_NOFOLLOW`), and every later step works from
//!   that descriptor (`openat`, `unlinkat`, mounting onto
//!   `/proc/self/fd/N`): a name swapped after the walk changes nothing.
//! - **Follow only trusted symbolic links**: those owned by root or by
//!   us. A link another user owns is theirs to point anywhere (at
//!   `/etc`), so it is refused instead of followed. (`/var/run -> /run`
//!   belongs to root and is followed.)

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{OFlag, openat, readlinkat};
use nix::sys::stat::{Mode, SFlag, fstat};
use nix::unistd::Uid;

use crate::Failure;
use crate::nsfs::file_type_words;

/// Symbolic links followed in one walk before we call it a loop, as the
/// kernel's own limit.
const MAX_LINKS: u32 = 40;

/// `O_PATH` opens nothing for real: no FIFO blocks, no device opens.
pub fn o_path() -> OFlag {
    OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

// ANCHOR: walk
/// Opens the directory `path` (`O_PATH`), one component at a time,
/// following only symbolic links owned by root or by us.
pub fn open_dir(path: &Path) -> Result<OwnedFd, Failure> {
    let start = if path.is_absolute() { "/" } else { "." };
    let mut dir = open_root(start)?;
    let mut walked = PathBuf::from(start);
    let mut todo: VecDeque<OsString> = components(path);
    let mut links = 0;
    while let Some(name) = todo.pop_front() {
        walked.push(&name);
        let next = openat(&dir, name.as_os_str(), o_path(), Mode::empty())
            .map_err(|errno| {
                Failure::errno(
                    format!("cannot open {}", walked.display()),
                    errno,
                )
            })?;
        let stat = fstat(&next).map_err(|errno| {
            Failure::errno(format!("cannot stat {}", walked.display()), errno)
        })?;
        match SFlag::from_bits_truncate(stat.st_mode & libc::S_IFMT) {
            SFlag::S_IFDIR => dir = next,
            SFlag::S_IFLNK => {
                trust_link(&walked, stat.st_uid)?;
                links += 1;
                if links > MAX_LINKS {
                    return Err(Failure::errno(
                        format!("cannot walk {}", path.display()),
                        nix::errno::Errno::ELOOP,
                    ));
                }
                let target = readlinkat(&next, "").map_err(|errno| {
                    let what = format!("cannot read link {}", walked.display());
                    Failure::errno(what, errno)
                })?;
                let target = Path::new(&target);
                if target.is_absolute() {
                    dir = open_root("/")?;
                }
                for (i, part) in components(target).into_iter().enumerate() {
                    todo.insert(i, part);
                }
            }
            _ => {
                return Err(Failure::new(format!(
                    "{} is not a directory ({})",
                    walked.display(),
                    file_type_words(stat.st_mode)
                )));
            }
        }
    }
    Ok(dir)
}

/// A symbolic link that another user owns could point anywhere.
fn trust_link(path: &Path, owner: u32) -> Result<(), Failure> {
    if owner == 0 || owner == Uid::effective().as_raw() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "{} is a symbolic link owned by uid {owner}: not followed",
        path.display()
    ))
    .hint(
        "its owner could point it anywhere (at /etc) between our steps; \
         give the real path, through directories that only root (or you) \
         can change",
    ))
}
// ANCHOR_END: walk

/// The names to walk: `..` stays (relative to the directory reached so
/// far, not to a name), `.` and `/` go.
fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some("..".into()),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {
                None
            }
        })
        .collect()
}

/// The start of a walk: `/` or the working directory.
fn open_root(start: &str) -> Result<OwnedFd, Failure> {
    nix::fcntl::open(start, o_path() | OFlag::O_DIRECTORY, Mode::empty())
        .map_err(|errno| Failure::errno(format!("cannot open {start}"), errno))
}

/// Splits PATH into the directory to walk and the last name, which must
/// be a plain name (not `.`, `..` or empty).
pub fn split(path: &str) -> Result<(PathBuf, OsString), Failure> {
    let as_path = Path::new(path);
    match (as_path.parent(), as_path.components().next_back()) {
        (Some(parent), Some(Component::Normal(name)))
            if !path.ends_with('/') =>
        {
            let parent = if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent.to_path_buf()
            };
            Ok((parent, name.to_os_string()))
        }
        _ => Err(Failure::new(format!("{path} does not end in a file name"))
            .hint("PATH names a file, such as /run/netns/NAME or /tmp/uts")),
    }
}
