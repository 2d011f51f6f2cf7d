//! The time namespace's rules (`time_namespaces(7)`), through
//! `ch07-inspect unshare time`: the offsets in
//! `/proc/PID/timens_offsets` can be written only until the first
//! process is in the namespace (`EACCES` after), only with
//! `CAP_SYS_TIME` (`EPERM`), only within range (`ERANGE`), only for
//! `monotonic` and `boottime` with nanoseconds below a second
//! (`EINVAL`), and `CLOCK_REALTIME` is not shifted at all.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{assert_one_line_error, inspect, inspect_ok};
use nslab_testkit::{TIMEOUT, bin, have_root};

/// The child is the namespace's first process: once it runs, neither it
/// (its own `time_for_children` is the same namespace) nor anyone else
/// (the tool's file names the same namespace) may change the offsets.
#[test]
fn offsets_are_fixed_once_a_process_is_in_the_namespace() {
    if !have_root("offsets_are_fixed_once_a_process_is_in_the_namespace") {
        return;
    }
    let script = "for pid in self $PPID; do \
                  if printf 'boottime 60 0\\n' 2>/dev/null \
                  >/proc/$pid/timens_offsets; \
                  then echo written; else echo refused; fi; done; \
                  cat /proc/self/timens_offsets";
    let text = inspect_ok(&[
        "unshare",
        "--boottime",
        "3600",
        "time",
        "--",
        "bash",
        "-c",
        script,
    ]);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["refused"], "{text}");
    assert_eq!(lines[1], ["refused"], "{text}");
    // The offsets are those written before the fork, unchanged.
    assert!(lines.contains(&vec!["boottime", "3600", "0"]), "{text}");
}

/// The same refusal, with its errno: bash names EACCES's text.
#[test]
fn the_refusal_is_eacces() {
    if !have_root("the_refusal_is_eacces") {
        return;
    }
    let out = inspect(&[
        "unshare",
        "time",
        "--",
        "bash",
        "-c",
        "echo 'boottime 60 0' >/proc/self/timens_offsets",
    ])
    .output()
    .unwrap();
    let err = nslab_testkit::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("write error: Permission denied"), "{err}");
}

/// An offset that would make CLOCK_MONOTONIC negative is ERANGE, and
/// the tool says what the kernel refused.
#[test]
fn an_offset_out_of_range_is_erange() {
    if !have_root("an_offset_out_of_range_is_erange") {
        return;
    }
    let out = inspect(&["unshare", "--monotonic=-1000000000", "time"])
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        "cannot write /proc/self/timens_offsets: Numerical result out of \
         range (os error 34)",
        "may not make a clock negative",
    );
}

/// Root without CAP_SYS_TIME (dropped from the bounding set) may still
/// make the namespace (CAP_SYS_ADMIN), but not set its offsets: EPERM,
/// with a hint that names the capability.
#[test]
fn writing_offsets_needs_cap_sys_time() {
    if !have_root("writing_offsets_needs_cap_sys_time") {
        return;
    }
    let out = nslab_testkit::assert_cmd::Command::new("setpriv")
        .args(["--bounding-set", "-sys_time"])
        .arg(bin("ch07-inspect"))
        .args(["unshare", "--monotonic", "60", "time", "--", "true"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        "cannot write /proc/self/timens_offsets: Operation not permitted \
         (os error 1)",
        "needs CAP_SYS_TIME",
    );
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Ten years on CLOCK_BOOTTIME and CLOCK_MONOTONIC, and CLOCK_REALTIME
/// inside is still the host's: it lies between two readings taken
/// outside, before and after.
#[test]
fn clock_realtime_is_not_shifted() {
    if !have_root("clock_realtime_is_not_shifted") {
        return;
    }
    let before = now();
    let text = inspect_ok(&[
        "unshare",
        "--boottime",
        "315360000",
        "--monotonic",
        "315360000",
        "time",
        "--",
        "sh",
        "-c",
        "date +%s; cut -d' ' -f1 /proc/uptime",
    ]);
    let after = now();
    let mut lines = text.lines();
    let realtime: u64 = lines.next().unwrap().parse().unwrap();
    assert!(before <= realtime && realtime <= after, "{text}");
    // The boottime clock (/proc/uptime), by contrast, is ten years on.
    let uptime: f64 = lines.next().unwrap().parse().unwrap();
    assert!(uptime >= 315360000.0, "{text}");
}

/// A line of `timens_offsets` must name `monotonic` or `boottime` and
/// keep its nanoseconds below one second: anything else is `EINVAL`.
/// No tool writes such a line, so a short Python program does, in a
/// child that unshared a time namespace and has not yet started one.
#[test]
fn a_bad_clock_or_nanoseconds_field_is_einval() {
    if !have_root("a_bad_clock_or_nanoseconds_field_is_einval") {
        return;
    }
    let program = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x80) != 0:
    raise SystemExit("unshare: " + os.strerror(ctypes.get_errno()))
for line in ["monotonic 0 1000000000", "realtime 1 0", "monotonic 1 999999999"]:
    try:
        with open("/proc/self/timens_offsets", "w") as offsets:
            offsets.write(line + "\n")
        print(line, "accepted")
    except OSError as error:
        print(line, os.strerror(error.errno))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", program])
        .output()
        .expect("cannot run python3");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "monotonic 0 1000000000 Invalid argument\n\
         realtime 1 0 Invalid argument\n\
         monotonic 1 999999999 accepted\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
