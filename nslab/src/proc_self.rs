//! Writing a file of `/proc/self`, such as the id maps of `--map-root`.

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
