//! Writes that never panic. `print!` and `eprintln!` panic when the
//! stream is closed or full (`--help >/dev/full`, `| true`); a tool must
//! lose the message instead, and keep its exit status.

use std::io::Write;

// ANCHOR: output
/// Writes `text` to stdout, and loses it when stdout cannot take it.
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
// ANCHOR_END: output

/// Writes `text` to stderr, and loses it when stderr cannot take it.
pub fn stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// One line on stderr: `tool: message`.
pub fn say(tool: &str, message: &str) {
    stderr(&format!("{tool}: {message}\n"));
}

/// Writes `bytes` to stderr with one write(2) and no allocation: safe in
/// a signal handler.
pub fn stderr_raw(bytes: &[u8]) {
    // SAFETY: write(2) reads `bytes.len()` bytes from a live slice; it is
    // async-signal-safe, and its failure is ignored on purpose.
    let _ = unsafe {
        libc::write(libc::STDERR_FILENO, bytes.as_ptr().cast(), bytes.len())
    };
}
