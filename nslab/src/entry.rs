//! The program's entry: a C `main`, without the work Rust's runtime
//! does before a Rust `main`.
//!
//! A Rust `fn main` is not where a program starts. The C library calls a
//! C `main`, which Rust generates; it sets up the standard library's
//! runtime and only then calls `fn main`. For a tool that starts in a
//! millisecond, that set-up is a measurable part of the time: it reads
//! `/proc/self/maps` to find the main thread's stack guard, maps an
//! alternate signal stack and installs SIGSEGV and SIGBUS handlers to
//! report a stack overflow, polls fds 0–2, and sets SIGPIPE to ignored
//! (after which no one can tell how the caller had it). The book's
//! benchmark appendix has the figures.
//!
//! So each binary says `#![no_main]` (outside its unit-test build) and
//! lets [`main!`](crate::main!) define the C `main` itself. [`run`] then
//! does, of that set-up, only what these tools need, in one place:
//!
//! - **fds 0–2**: one `poll(2)`, as the runtime does; a closed one is
//!   opened on `/dev/null`, so that no file the tool opens later (the
//!   go pipe) lands on fd 0, 1 or 2 and reaches the command as its
//!   stdin or stdout.
//! - **SIGPIPE**: read as the caller left it, for the command
//!   ([`crate::signals::take_sigpipe`]), then ignored for the tool
//!   itself, so that a write to a closed pipe is an error, not a death.
//! - **the exit**: through `std::process::exit`, which flushes stdout.
//! - **a panic** (there should be none: errors are reports, never
//!   panics) ends the tool with status 101, as under the runtime.
//!
//! What is lost is the report of a stack overflow. Under the runtime, a
//! thread that overflows its stack prints "thread 'main' has overflowed
//! its stack" and aborts (SIGABRT); here it dies of SIGSEGV with no
//! message. It still dies: the kernel's guard gap below the main stack
//! and the stack probes the compiler emits for large frames catch the
//! overflow exactly as before, so no memory is overwritten. These tools
//! recurse nowhere, and an overflow would still end the tool with a
//! signal's status (139 instead of 134), so the message is not worth a
//! read of `/proc/self/maps` on every start. (A panic message, were there one, would name the
//! thread `<unnamed>` instead of `main`.)
//!
//! Everything else in `std` works after a C `main`: on Linux with glibc,
//! `std::env::args` takes argc and argv from the C library through a
//! function of its own in `.init_array`, which glibc calls before
//! `main`, with or without the runtime; threads, I/O and `std::process`
//! need no set-up.

use std::ffi::c_int;
use std::panic::{UnwindSafe, catch_unwind};

/// The exit status of a panic, as under Rust's runtime.
const EXIT_PANIC: c_int = 101;

/// Defines the program's C `main`; see the [module](crate::entry) for
/// why. The crate says `#![cfg_attr(not(test), no_main)]`: a unit-test
/// build keeps the test harness's `main`, and then this defines none.
///
/// - `nslab::main!(CHAPTER, run);` for a chapter: the command-line
///   contract of [`crate::cli::main`] around the chapter's `run`.
/// - `nslab::main!(body);` for another tool (`ch07-inspect`): `body` is a
///   `fn() -> u8` that returns the exit status.
#[macro_export]
macro_rules! main {
    ($chapter:expr, $run:expr) => {
        $crate::main!(|| $crate::cli::main(&$chapter, $run));
    };
    ($body:expr) => {
        #[cfg(not(test))]
        const _: () = {
            /// The C `main` that the C library calls (see `nslab::entry`).
            // SAFETY: the one symbol `main` of a `#![no_main]` binary,
            // with the signature the C library calls it with.
            #[unsafe(no_mangle)]
            extern "C" fn main(
                _argc: ::std::ffi::c_int,
                _argv: *const *const ::std::ffi::c_char,
            ) -> ::std::ffi::c_int {
                $crate::entry::run($body)
            }
        };
        // In a unit-test build the body is still compiled (and its items
        // count as used), but the test harness is the program.
        #[cfg(test)]
        const _: fn() -> u8 = $body;
    };
}

/// The body of the C `main` that [`main!`](crate::main!) defines: the
/// set-up the tools need (see the module), then `body`, then the exit
/// with the status it returns. Never returns.
pub fn run(body: impl FnOnce() -> u8 + UnwindSafe) -> ! {
    open_closed_standard_fds();
    crate::signals::take_sigpipe();
    let status = catch_unwind(body).map_or(EXIT_PANIC, c_int::from);
    std::process::exit(status)
}

/// Opens `/dev/null` on whichever of fds 0, 1 and 2 is closed.
fn open_closed_standard_fds() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: poll(2) reads and writes the three pollfd of the array.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for pollfd in fds {
        if pollfd.revents & libc::POLLNVAL != 0 {
            // SAFETY: open(2) of a constant C string; the lowest free fd
            // is the closed one, since those below it are open. The fd
            // stays open for the life of the process, as 0–2 do.
            unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        }
    }
}
