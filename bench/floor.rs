//! floor.rs: bench/floor.c in Rust, a reference point for the benchmark.
//!
//!   floor-rs FLAGS COMMAND [ARG...]     (FLAGS: a number, e.g. 0x4000000)
//!
//! The same three calls as the C floor (clone(2), execvp, waitpid) and
//! nothing else, but in a Rust program with its standard library, built
//! and started as the chapters are: linked statically as a static-pie,
//! with the release profile's options (rustc -O, symbols stripped, one
//! LTO unit) and a C `main`, without the std runtime's set-up before it
//! (`#![no_main]`, as nslab::main! does). Set beside the C floor and a
//! chapter, it splits what a chapter costs above the floor into what a
//! Rust program pays to start (a larger binary to map and relocate) and
//! what the machinery around `clone` adds. Built with `--cfg std_main`,
//! it has an ordinary Rust `main` instead, after the runtime's set-up:
//! bench/startup.sh measures both. No dependencies, so that the script
//! builds it with one `rustc` command, outside the Cargo workspace.

#![cfg_attr(not(std_main), no_main)]

use std::ffi::{CString, c_char, c_int, c_void};

unsafe extern "C" {
    fn clone(
        child: extern "C" fn(*mut c_void) -> c_int,
        stack: *mut c_void,
        flags: c_int,
        arg: *mut c_void,
        ...
    ) -> c_int;
    fn execvp(file: *const c_char, argv: *const *const c_char) -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
}

const SIGCHLD: c_int = 17;
const STACK_SIZE: usize = 64 * 1024;

extern "C" fn child_main(argv: *mut c_void) -> c_int {
    let argv = argv as *const *const c_char;
    // SAFETY: argv is the null-terminated array built in main, alive in
    // this copy of the process until exec.
    unsafe { execvp(*argv, argv) };
    127
}

/// The program's entry without the runtime's set-up: the C library calls
/// it; argc and argv reach std::env::args through glibc all the same.
#[cfg(not(std_main))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    floor()
}

#[cfg(std_main)]
fn main() {
    floor();
}

fn floor() -> ! {
    let mut args = std::env::args().skip(1);
    let flags = args.next().and_then(|f| {
        let hex = f.strip_prefix("0x");
        c_int::from_str_radix(
            hex.unwrap_or(&f),
            if hex.is_some() { 16 } else { 10 },
        )
        .ok()
    });
    let command: Vec<CString> =
        args.map(|a| CString::new(a).unwrap()).collect();
    let (Some(flags), false) = (flags, command.is_empty()) else {
        eprintln!("usage: floor-rs FLAGS COMMAND [ARG...]");
        std::process::exit(125);
    };
    let mut argv: Vec<*const c_char> =
        command.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    // Not zeroed (as the C floor's static array, which the kernel maps as
    // zero pages on demand): zeroing would touch all 16 pages.
    let mut stack: Vec<u8> = Vec::with_capacity(STACK_SIZE);
    // SAFETY: single-threaded; the child runs child_main on its own copy
    // of `stack` and leaves by exec or by returning.
    let child = unsafe {
        let top = stack.as_mut_ptr().add(STACK_SIZE) as *mut c_void;
        clone(
            child_main,
            top,
            flags | SIGCHLD,
            argv.as_mut_ptr() as *mut c_void,
        )
    };
    if child < 0 {
        eprintln!("floor-rs: clone: {}", std::io::Error::last_os_error());
        std::process::exit(125);
    }
    let mut status = 0;
    // SAFETY: waitpid(2) writes the status into a valid c_int.
    while unsafe { waitpid(child, &mut status, 0) } < 0 {}
    let code = if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    };
    std::process::exit(code);
}
