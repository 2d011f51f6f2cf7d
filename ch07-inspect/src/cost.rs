//! `cost [N]`: how long it takes to create and free each type.

use std::ffi::OsString;
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, Uid};

use crate::clone3::{CloneArgs, clone3};
use crate::nsfs::KINDS;
use crate::{Failure, Result, usage_error, words};

pub const HELP: &str = "\
ch07-inspect cost: what each namespace type costs

Usage: ch07-inspect cost [N]

For each type, N times (default 200): create a child in a new namespace
of that one type (clone3(2) with that CLONE_NEW* flag), let it exit at
once, and wait for it. A busy machine makes single timings noisy, so
after an untimed warm-up the N rounds are cut into 5 blocks, and the
types take turns block by block (forward, then backward: A B ... B A),
so that a slow moment hurts every type alike. Prints, per type, the
median microseconds per round over the blocks, the spread (fastest and
slowest block), and the extra over a child without a new namespace
(the first line); an extra smaller than that line's spread is noise.

Network and mount namespaces are the expensive ones: a network
namespace gets its own loopback device, routing tables, sysctls and
more; a mount namespace copies the whole mount table. Freeing a network
namespace is asynchronous: the kernel's cleanup_net work runs later, so
its true cost partly lands after the numbers shown.

Try: ch07-inspect cost; ch07-inspect cost 500
";

pub fn command(args: Vec<OsString>) -> Result<u8> {
    let usage = "cost [N]";
    let words = words(args, usage)?;
    let rounds = match words.as_slice() {
        [] => 200,
        [n] => n
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| {
                usage_error(&format!("'{n}' is not a count (1-100000)"), usage)
            })?,
        _ => return Err(usage_error("too many arguments", usage)),
    };
    // ANCHOR: cost
    let mut types = vec![("(none)", 0u64)];
    types.extend(KINDS.iter().map(|k| (k.name, k.flag as u64)));
    let blocks = rounds.min(BLOCKS);
    let per_block = rounds.div_ceil(blocks);
    // Warm-up, untimed: caches, the allocator, the kernel's slabs.
    for &(name, flags) in &types {
        time_rounds(flags, per_block.min(10))
            .map_err(|e| cost_failure(name, e))?;
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); types.len()];
    for block in 0..blocks {
        let mut order: Vec<usize> = (0..types.len()).collect();
        if block % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let (name, flags) = types[i];
            let micros = time_rounds(flags, per_block)
                .map_err(|e| cost_failure(name, e))?;
            samples[i].push(micros);
        }
    }
    let stats: Vec<Spread> = samples.iter().map(|s| Spread::of(s)).collect();
    let baseline = &stats[0];
    outln!(
        "{} rounds of clone3 + exit + wait per type, in {blocks} interleaved \
         blocks after a warm-up",
        per_block * blocks
    );
    outln!(
        "{:<8} {:>10} {:>19} {:>10}",
        "TYPE",
        "median µs",
        "spread (min-max)",
        "extra µs"
    );
    for ((name, _), stat) in types.iter().zip(&stats) {
        let (extra, noise) = if *name == "(none)" {
            ("-".to_string(), "")
        } else {
            let extra = stat.median - baseline.median;
            let noise = extra.abs() <= baseline.max - baseline.min;
            (format!("{extra:.1}"), if noise { "  (noise)" } else { "" })
        };
        let note = match *name {
            "net" => "  (and more later: netns cleanup is asynchronous)",
            "mnt" => "  (copies every mount)",
            _ => "",
        };
        outln!(
            "{name:<8} {:>10.1} {:>19} {extra:>10}{noise}{note}",
            stat.median,
            format!("{:.1}-{:.1}", stat.min, stat.max),
        );
    }
    Ok(0)
}

/// The timed rounds are cut into this many blocks, types taking turns.
const BLOCKS: u32 = 5;

/// The median and the extremes of a type's block timings.
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(samples: &[f64]) -> Spread {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        }
    }
}

fn cost_failure(name: &str, e: Errno) -> Failure {
    if name == "(none)" {
        return Failure::errno("cannot create a child", e);
    }
    let failure =
        Failure::errno(format!("cannot create a {name} namespace"), e);
    match e {
        Errno::EPERM if !Uid::effective().is_root() => failure.hint(format!(
            "creating namespaces needs root: `{}`",
            nslab::failure::sudo_command("ch07-inspect")
        )),
        Errno::ENOSPC => failure.hint(format!(
            "the limit /proc/sys/user/max_{name}_namespaces was reached"
        )),
        _ => failure,
    }
}

/// Microseconds per round of: clone3 a child with `flags`, which exits
/// at once; wait for it.
fn time_rounds(flags: u64, rounds: u32) -> std::result::Result<f64, Errno> {
    let start = Instant::now();
    for _ in 0..rounds {
        let args = CloneArgs {
            flags,
            exit_signal: libc::SIGCHLD as u64,
            ..Default::default()
        };
        // SAFETY: we are single-threaded and the child only calls
        // _exit(2), which is async-signal-safe.
        let pid = unsafe { clone3(&args) };
        match pid? {
            // SAFETY: see above; _exit skips Rust's and libc's cleanup.
            0 => unsafe { libc::_exit(0) },
            pid => loop {
                match waitpid(Pid::from_raw(pid), None) {
                    Ok(WaitStatus::Exited(..)) => break,
                    Err(Errno::EINTR) | Ok(_) => continue,
                    Err(e) => return Err(e),
                }
            },
        }
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds))
}
// ANCHOR_END: cost
