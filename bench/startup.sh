#!/usr/bin/env bash
# Startup benchmark: each chapter against the floor (bench/floor.c: clone,
# exec, wait, nothing else), the same floor in Rust (bench/floor.rs, built
# and started as the chapters are), util-linux `unshare` with the same
# namespace flags and, for ch06, the article's Go program (bench/article.go),
# all interleaved in one run per chapter; then what each option of the
# release profile gains, where the time goes, and the build budget.
#
#   bash bench/startup.sh        (as root, from anywhere in the repository)
#
# Prints a Markdown report on stdout and writes it to bench/results.md;
# progress goes to stderr. Five to ten minutes on 2 cores. Knobs (environment):
#   BENCH_RUNS        runs per command, mode and half of a round
#                     (default 300: 600 per command and mode)
#   BENCH_BLOCKS      rounds (forwards, then backwards) those runs are cut
#                     into (default 10)
#   BENCH_WARMUP      warmup runs before each block (default 5)
#   BENCH_MEM_RUNS    runs for the peak-memory median (default 11)
#   BENCH_TARGET_DIR  target dir of the release build (default target/bench,
#                     so that the developer's target/ stays as it is)
#   BENCH_SKIP_STEPS=1          skip the release-profile steps (three more
#                               release builds of ch01-uts)
#   BENCH_SKIP_BUILD_BUDGET=1   skip the two cold builds
# The chapters are linked statically (.cargo/config.toml). RUSTFLAGS, when
# set, replaces that, e.g. to measure a dynamically linked build:
#   RUSTFLAGS="-C target-feature=-crt-static" BENCH_TARGET_DIR=/tmp/dynamic \
#       BENCH_SKIP_BUILD_BUDGET=1 BENCH_SKIP_STEPS=1 bash bench/startup.sh
# The Go program is built when `go` is installed (Debian: golang-go); the
# report says so when it is not.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

RUNS=${BENCH_RUNS:-300}
BLOCKS=${BENCH_BLOCKS:-10}
WARMUP=${BENCH_WARMUP:-5}
MEM_RUNS=${BENCH_MEM_RUNS:-11}
TARGET=${BENCH_TARGET_DIR:-$ROOT/target/bench}
RESULTS=$ROOT/bench/results.md

say() { printf 'startup.sh: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

[[ $(id -u) == 0 ]] || die "run as root: the chapters and unshare create namespaces"
command -v cargo >/dev/null || die "cargo not found in PATH"

TMP=$(mktemp -d /tmp/nslab-bench.XXXXXX)
# Cargo rewrites Cargo.lock when it lags behind a manifest: put it back, so
# that the benchmark leaves the checkout as it found it.
cp Cargo.lock "$TMP/Cargo.lock.orig" 2>/dev/null || true
cleanup() {
    if [[ -f $TMP/Cargo.lock.orig ]] && ! cmp -s "$TMP/Cargo.lock.orig" Cargo.lock; then
        cp "$TMP/Cargo.lock.orig" Cargo.lock
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

# --- what the script uses --------------------------------------------------

APT_UPDATED=0
need() { # need PACKAGE PROGRAM: install PACKAGE from Debian if PROGRAM is missing
    local package=$1 program=$2
    command -v "$program" >/dev/null 2>&1 && return 0
    say "installing $package (apt-get install -y $package)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y "$package" >"$TMP/apt.log" 2>&1; then
        if ((APT_UPDATED == 0)); then
            say "apt-get install failed: running apt-get update first"
            apt-get update >"$TMP/apt.log" 2>&1 ||
                { cat "$TMP/apt.log" >&2; die "apt-get update failed"; }
            APT_UPDATED=1
        fi
        apt-get install -y "$package" >"$TMP/apt.log" 2>&1 ||
            { cat "$TMP/apt.log" >&2; die "cannot install $package"; }
    fi
    command -v "$program" >/dev/null 2>&1 || die "$package installed but $program is missing"
}
need hyperfine hyperfine
need time /usr/bin/time
need jq jq
need gcc gcc
command -v unshare >/dev/null || die "unshare (util-linux) not found"

median() { # median of the numbers on stdin, one a line
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

LOAD_START=$(loadavg)

# --- build -------------------------------------------------------------------

say "building the workspace in release mode (CARGO_TARGET_DIR=$TARGET)"
CHAPTER_PACKAGES=(-p ch01-uts -p ch02-ipc -p ch03-pid -p ch04-mount -p ch05-user -p ch06-net)
CARGO_TARGET_DIR=$TARGET cargo build --release --quiet "${CHAPTER_PACKAGES[@]}" ||
    die "the chapters do not build"
BIN=$TARGET/release
# ch07-inspect is optional here: only its `cost` subcommand is used.
rm -f "$BIN/ch07-inspect"
CARGO_TARGET_DIR=$TARGET cargo build --release --quiet -p ch07-inspect 2>"$TMP/ch07.log" ||
    say "ch07-inspect does not build (its cost section will say so)"

# The floor: a static C program that only clones with the flags it is
# given, execs the command and waits (bench/floor.c says why C). Static,
# as the chapters are, so that neither pays the dynamic loader.
say "building the floor (gcc -O2 -static bench/floor.c)"
FLOOR=$TMP/floor
gcc -O2 -static -Wall -Wextra -o "$FLOOR" bench/floor.c 2>"$TMP/floor.log" ||
    { cat "$TMP/floor.log" >&2; die "bench/floor.c does not build (gcc -static needs libc6-dev)"; }
# The same floor in Rust (bench/floor.rs), built as the chapters are: the
# options of [profile.release] in Cargo.toml (opt-level 3, strip, one LTO
# unit), the chapters' RUSTFLAGS, and a C main (#![no_main]). It tells
# what a Rust program pays to start from what the machinery adds.
RUST_FLAGS=${RUSTFLAGS:--C target-feature=+crt-static}
PROFILE_FLAGS=(-C opt-level=3 -C strip=symbols -C lto -C codegen-units=1)
build_floor_rs() { # build_floor_rs OUT RUSTC-ARGS...
    local out=$1
    shift
    # shellcheck disable=SC2086 # RUST_FLAGS is a list of words, as for cargo
    rustc --edition 2024 $RUST_FLAGS "$@" -o "$out" bench/floor.rs 2>"$TMP/floor-rs.log" ||
        { cat "$TMP/floor-rs.log" >&2; die "bench/floor.rs does not build"; }
}
say "building the Rust floor (rustc bench/floor.rs, as the chapters are built)"
FLOOR_RS=$TMP/floor-rs
build_floor_rs "$FLOOR_RS" "${PROFILE_FLAGS[@]}"

# The article's Go program, at ch06's namespaces (bench/article.go).
GO_PROGRAM=
GO_NOTE="\`go\` is not installed here, so the article's Go program (\`bench/article.go\`) \
was not measured (on Debian: \`apt install golang-go\`, then run the script again)."
if command -v go >/dev/null 2>&1; then
    say "building the article's Go program (go build bench/article.go)"
    if CGO_ENABLED=0 GOFLAGS='' go build -o "$TMP/article" bench/article.go 2>"$TMP/go.log"; then
        GO_PROGRAM=$TMP/article
        GO_NOTE="The article's Go program (\`bench/article.go\`, ch06's namespaces) was built with $(go version | cut -d' ' -f3) (\`CGO_ENABLED=0 go build\`)."
    else
        GO_NOTE="\`go build bench/article.go\` failed, so the Go program was not measured: $(head -n1 "$TMP/go.log")"
    fi
else
    say "go is not installed: the article's Go program is not measured"
fi

# Each chapter and the unshare(1) flags that make the same namespaces.
# unshare --pid needs --fork: without it the exec'd command stays outside
# the new PID namespace (only its children would enter, and after the first
# one exits, the next fork fails). The chapters run the command as PID 1,
# as `unshare --fork` does. --mount makes / recursively private by default
# (--propagation private), as ch04 does; no --mount-proc. The floor gets the
# chapter's CLONE_NEW* flags and nothing else: no `mount --make-rprivate /`
# (ch04 on), so from ch04 on the floor is below anything that does the job.
CHAPTERS=(
    "ch01-uts|--uts|uts"
    "ch02-ipc|--uts --ipc|uts,ipc"
    "ch03-pid|--uts --ipc --pid --fork|uts,ipc,pid"
    "ch04-mount|--uts --ipc --pid --fork --mount|uts,ipc,pid,mnt"
    "ch05-user|--uts --ipc --pid --fork --mount --user|uts,ipc,pid,mnt,user"
    "ch06-net|--uts --ipc --pid --fork --mount --user --net|uts,ipc,pid,mnt,user,net"
)

# The CLONE_NEW* value of each name, for the Rust floor, which takes a number.
declare -A CLONE_NEW=([uts]=0x04000000 [ipc]=0x08000000 [pid]=0x20000000
    [mnt]=0x00020000 [user]=0x10000000 [net]=0x40000000)
clone_number() { # clone_number uts,ipc,...: the flags as one hex number
    local word sum=0
    for word in ${1//,/ }; do sum=$((sum | CLONE_NEW[$word])); done
    printf '0x%08x' "$sum"
}

# --- startup time and peak memory ---------------------------------------------

# Two modes. "As is": what a workshop sees, other jobs included. "FIFO": the
# same runs under SCHED_FIFO (chrt -f), so that other jobs on the machine
# (a build, a test run) cannot hold the chapter's or unshare's child in a
# run queue for a whole time slice: on a busy 2-core machine that wait is
# milliseconds and swamps what we measure. Children inherit the policy.
FIFO=(chrt -f 50)
if ! "${FIFO[@]}" true 2>/dev/null; then
    say "chrt -f does not work here: the FIFO columns are skipped"
    FIFO=()
fi

median_ms() { # median_ms JSON NAME: median of that command's times, in ms
    jq -r --arg n "$2" '.results[] | select(.command == $n) | .times[]' "$1" |
        median | awk '{ printf "%.3f", $1 * 1000 }'
}
# stats JSON NAME: "median stddev min max" of that command's times over all
# rounds, in ms (the standard deviation of all its runs taken together).
stats() {
    jq -r --arg n "$2" '[.results[] | select(.command == $n) | .times[]] | sort
        | length as $l | (add / $l) as $mean
        | [(if $l % 2 == 1 then .[($l - 1) / 2] else (.[$l / 2 - 1] + .[$l / 2]) / 2 end),
           ((map((. - $mean) * (. - $mean)) | add) / ([$l - 1, 1] | max) | sqrt),
           .[0], .[-1]] | @tsv' "$1" |
        awk '{ printf "%.3f %.3f %.3f %.3f", $1 * 1000, $2 * 1000, $3 * 1000, $4 * 1000 }'
}
# round_ratios JSON A B: the lowest and highest ratio median(A) / median(B)
# of a single round (ROUND_SIZE results each): how much the ratio itself
# moves while the machine's load changes.
round_ratios() {
    jq -r --arg a "$2" --arg b "$3" --argjson k "$ROUND_SIZE" '
        def med: sort | length as $l
            | if $l % 2 == 1 then .[($l - 1) / 2] else (.[$l / 2 - 1] + .[$l / 2]) / 2 end;
        .results as $r
        | [range(0; $r | length; $k) as $i | $r[$i:$i + $k]
           | ([.[] | select(.command == $a) | .times[]] | med)
             / ([.[] | select(.command == $b) | .times[]] | med)]
        | "\(min) \(max)"' "$1" | awk '{ printf "%.2f–%.2f", $1, $2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
at_most() { awk -v r="$1" -v limit="$2" 'BEGIN { exit !(r <= limit) }'; }

# hyperfine_rounds OUT.json [PREFIX...] -- NAME COMMAND [NAME COMMAND...]:
# one hyperfine run of all the commands, in BLOCKS rounds of the order
# A B C ... C B A (RUNS/BLOCKS runs each time), so that the machine's drift,
# even over a second or two (a neighbour's compile job), weighs on all of
# them alike. Sets ROUND_SIZE, the results in one round.
hyperfine_rounds() {
    local json=$1 prefix=() names=() commands=() args=() b i n
    shift
    while [[ $1 != -- ]]; do
        prefix+=("$1")
        shift
    done
    shift
    while (($#)); do
        names+=("$1")
        commands+=("$2")
        shift 2
    done
    n=${#names[@]}
    for ((b = 0; b < BLOCKS; b++)); do
        for ((i = 0; i < n; i++)); do args+=(-n "${names[i]}" "${commands[i]}"); done
        for ((i = n - 1; i >= 0; i--)); do args+=(-n "${names[i]}" "${commands[i]}"); done
    done
    ROUND_SIZE=$((2 * n))
    "${prefix[@]}" hyperfine -N --style none --warmup "$WARMUP" --runs $((RUNS / BLOCKS)) \
        --export-json "$json" "${args[@]}" >&2
}

# ratio_cell JSON A B: "**r** (lowest–highest of a round)", and R set to r.
ratio_cell() {
    R=$(ratio "$(median_ms "$1" "$2")" "$(median_ms "$1" "$3")")
    printf '**%s** (%s)' "$R" "$(round_ratios "$1" "$2" "$3")"
}

# time_row CHAPTER JSON: sets ROW to the report's row for one chapter and
# mode, and R_FLOOR and R_UNSHARE to the ratios of medians.
time_row() {
    local chapter=$1 json=$2 median sd cells=() go="—"
    for name in chapter floor; do
        read -r median sd _ <<<"$(stats "$json" "$name")"
        cells+=("$median ± $sd")
    done
    local c_floor rs_floor unshare
    c_floor=$(ratio_cell "$json" chapter floor)
    R_FLOOR=$(ratio "$(median_ms "$json" chapter)" "$(median_ms "$json" floor)")
    rs_floor=$(ratio_cell "$json" chapter floor-rs)
    unshare=$(ratio_cell "$json" chapter unshare)
    R_UNSHARE=$(ratio "$(median_ms "$json" chapter)" "$(median_ms "$json" unshare)")
    if jq -e '.results[] | select(.command == "go")' "$json" >/dev/null; then
        go=$(ratio_cell "$json" chapter go)
    fi
    printf -v ROW '| %s | %s | %s | %s | %s | %s | %s |' "$chapter" \
        "${cells[0]}" "${cells[1]}" "$c_floor" "$rs_floor" "$unshare" "$go"
}
TIME_HEADER='| chapter | chapter (ms) | C floor (ms) | × C floor | × Rust floor | × unshare | × Go (article) |
|---|---:|---:|---:|---:|---:|---:|'

FLAG_ROWS=()
TIME_ROWS=()
FIFO_ROWS=()
MEM_ROWS=()
ALL_FAST=1
ALL_FAST_FIFO=1
OVER_FLOOR=()
OVER_FLOOR_FIFO=()
ALL_SMALL=1
for entry in "${CHAPTERS[@]}"; do
    IFS='|' read -r chapter flags floor_flags <<<"$entry"
    number=$(clone_number "$floor_flags")
    ours="$BIN/$chapter -- true"
    theirs="unshare $flags true"
    floor="$FLOOR $floor_flags true"
    floor_rs="$FLOOR_RS $number true"
    commands=(chapter "$ours" floor "$floor" floor-rs "$floor_rs" unshare "$theirs")
    go_cell="—"
    # shellcheck disable=SC2086 # the flags are words on purpose
    {
        $ours || die "'$ours' failed (status $?)"
        unshare $flags true || die "'$theirs' failed (status $?)"
        $floor || die "'floor $floor_flags true' failed (status $?)"
        $floor_rs || die "'floor-rs $number true' failed (status $?)"
    }
    if [[ $chapter == ch06-net && -n $GO_PROGRAM ]]; then
        "$GO_PROGRAM" true || die "'article true' failed (status $?)"
        commands+=(go "$GO_PROGRAM true")
        go_cell="\`article true\`"
    fi
    FLAG_ROWS+=("| $chapter | \`floor $floor_flags true\` | \`floor-rs $number true\` | \`$theirs\` | $go_cell |")

    say "$chapter: against the floors, '$theirs'${GO_PROGRAM:+ and Go}: ${BLOCKS} rounds, $((RUNS / BLOCKS)) runs each, as is"
    hyperfine_rounds "$TMP/$chapter.json" -- "${commands[@]}"
    time_row "$chapter" "$TMP/$chapter.json"
    TIME_ROWS+=("$ROW")
    at_most "$R_UNSHARE" 1.0 || ALL_FAST=0
    at_most "$R_FLOOR" 1.05 || OVER_FLOOR+=("$chapter")
    summary="ratio $R_FLOOR to the floor, $R_UNSHARE to unshare"
    if ((${#FIFO[@]})); then
        say "$chapter: the same under ${FIFO[*]}"
        hyperfine_rounds "$TMP/$chapter.fifo.json" "${FIFO[@]}" -- "${commands[@]}"
        time_row "$chapter" "$TMP/$chapter.fifo.json"
        FIFO_ROWS+=("$ROW")
        at_most "$R_UNSHARE" 1.0 || ALL_FAST_FIFO=0
        at_most "$R_FLOOR" 1.05 || OVER_FLOOR_FIFO+=("$chapter")
        summary+="; FIFO: $R_FLOOR and $R_UNSHARE"
    fi

    # Peak memory: the largest resident set in the process tree that time(1)
    # waits for (ru_maxrss, KiB); median of MEM_RUNS runs, interleaved.
    : >"$TMP/mem.ours"
    : >"$TMP/mem.theirs"
    : >"$TMP/mem.floor"
    for ((i = 0; i < MEM_RUNS; i++)); do
        # shellcheck disable=SC2086
        /usr/bin/time -f %M -o "$TMP/m" $ours >/dev/null && cat "$TMP/m" >>"$TMP/mem.ours"
        # shellcheck disable=SC2086
        /usr/bin/time -f %M -o "$TMP/m" $theirs >/dev/null && cat "$TMP/m" >>"$TMP/mem.theirs"
        # shellcheck disable=SC2086
        /usr/bin/time -f %M -o "$TMP/m" $floor >/dev/null && cat "$TMP/m" >>"$TMP/mem.floor"
    done
    ours_kib=$(median <"$TMP/mem.ours")
    theirs_kib=$(median <"$TMP/mem.theirs")
    floor_kib=$(median <"$TMP/mem.floor")
    delta_kib=$(awk -v a="$ours_kib" -v b="$theirs_kib" 'BEGIN { printf "%+d", a - b }')
    small=$(awk -v d="$delta_kib" 'BEGIN { print (d < 1024) ? "yes" : "no" }')
    [[ $small == yes ]] || ALL_SMALL=0
    MEM_ROWS+=("| $chapter | $ours_kib | $theirs_kib | $floor_kib | $delta_kib | $small |")
    say "$chapter: $summary; ${ours_kib} vs ${theirs_kib} KiB (floor ${floor_kib})"
done
LOAD_AFTER_STARTUP=$(loadavg)

# --- where the time goes ------------------------------------------------------

# Reference points, in one hyperfine run: starting a process at all, starting
# a chapter binary without cloning (--help), unshare with and without the
# extra process that the chapters always have, and the floor with and
# without a namespace.
say "breakdown: reference commands"
build_floor_rs "$TMP/floor-rs-std" --cfg std_main "${PROFILE_FLAGS[@]}"
BREAKDOWN=(
    "true|/usr/bin/true|exec of a small C program (dynamically linked): what starting any program costs"
    "help|$BIN/ch01-uts --help|a chapter's process start, no clone"
    "unshare|unshare --uts /usr/bin/true|unshare(2) in place, then exec: one process"
    "unshare-fork|unshare --uts --fork /usr/bin/true|the same with a second process, as the chapters do"
    "floor-none|$FLOOR none /usr/bin/true|the floor without namespaces: fork, exec, wait (static C)"
    "floor|$FLOOR uts /usr/bin/true|the floor of ch01: clone(CLONE_NEWUTS), exec, wait"
    "floor-rs-std|$TMP/floor-rs-std 0x04000000 /usr/bin/true|the same floor in Rust (bench/floor.rs), built as the chapters are, with a Rust main after the std runtime's set-up"
    "floor-rs|$TMP/floor-rs 0x04000000 /usr/bin/true|the same floor in Rust, built and started as the chapters are (C main, no runtime set-up)"
    "chapter|$BIN/ch01-uts -- /usr/bin/true|the chapter: clone, wait for the go, exec, wait"
)
# In BLOCKS rounds, forwards then backwards, as above.
hf_args=()
for ((b = 0; b < BLOCKS; b++)); do
    for ((k = 0; k < ${#BREAKDOWN[@]}; k++)); do
        ((b % 2)) && i=$((${#BREAKDOWN[@]} - 1 - k)) || i=$k
        IFS='|' read -r name command _ <<<"${BREAKDOWN[i]}"
        hf_args+=(-n "$name" "$command")
    done
done
"${FIFO[@]}" hyperfine -N --style none --warmup "$WARMUP" --runs $((2 * RUNS / BLOCKS)) \
    --export-json "$TMP/breakdown.json" "${hf_args[@]}" >&2
BREAKDOWN_ROWS=()
for entry in "${BREAKDOWN[@]}"; do
    IFS='|' read -r name command what <<<"$entry"
    command=${command#"$BIN/"}
    BREAKDOWN_ROWS+=("| \`${command#"$TMP/"}\` | $what | $(median_ms "$TMP/breakdown.json" "$name") |")
done

# --- the release profile, one option at a time ------------------------------------

# What each option of [profile.release] (Cargo.toml) and the C main gain at
# start-up, in one interleaved run beside the C floor: ch01-uts built with
# the options added one by one to Cargo's default release profile (the last adds one that the profile does not
# take: panic = "abort"), and bench/floor.rs likewise, whose last step is the
# C main (#![no_main]) that the chapters have in their source.
STEPS_SECTION="Skipped (BENCH_SKIP_STEPS=1)."
if [[ ${BENCH_SKIP_STEPS:-0} != 1 ]]; then
    say "profile steps: building bench/floor.rs and ch01-uts with one option more each time"
    build_floor_rs "$TMP/floor-rs-O" --cfg std_main -C opt-level=3 -C strip=debuginfo
    build_floor_rs "$TMP/floor-rs-strip" --cfg std_main -C opt-level=3 -C strip=symbols
    step_build() { # step_build NAME PROFILE-SETTING...: ch01-uts built with them
        local name=$1 config=() setting
        shift
        for setting in "$@"; do config+=(--config "profile.release.$setting"); done
        CARGO_TARGET_DIR=$TARGET/steps-$name cargo build --release --quiet -p ch01-uts "${config[@]}" ||
            die "ch01-uts does not build with $*"
    }
    # (Each binary runs where its linker wrote it, as every other one here:
    # no copy, so that all of them reached the page cache the same way.)
    gcc -O2 -static-pie -fPIE -o "$TMP/floor-pie" bench/floor.c 2>"$TMP/floor.log" ||
        { cat "$TMP/floor.log" >&2; die "bench/floor.c does not build with -static-pie"; }
    step_build plain strip='"debuginfo"' lto=false codegen-units=16
    step_build strip strip=true lto=false codegen-units=16
    step_build abort 'panic="abort"'
    STEPS=(
        "floor|$FLOOR uts true|the C floor (\`gcc -O2 -static\`)"
        "floor-pie|$TMP/floor-pie uts true|the C floor as a static-pie (\`gcc -O2 -static-pie\`): loaded at a random address, as the chapters are"
        "rs-O|$TMP/floor-rs-O 0x04000000 true|\`floor.rs\` with a Rust \`main\`, as Cargo's default release profile builds it (\`-C opt-level=3 -C strip=debuginfo\`)"
        "rs-strip|$TMP/floor-rs-strip 0x04000000 true|… + \`-C strip=symbols\` (\`strip = true\`)"
        "rs-lto|$TMP/floor-rs-std 0x04000000 true|… + \`-C lto -C codegen-units=1\` (\`lto = true\`, \`codegen-units = 1\`)"
        "rs-main|$FLOOR_RS 0x04000000 true|… + a C \`main\` (\`#![no_main]\`): the Rust floor of the tables above"
        "ch01-plain|$TARGET/steps-plain/release/ch01-uts -- true|\`ch01-uts\` in Cargo's default release profile"
        "ch01-strip|$TARGET/steps-strip/release/ch01-uts -- true|… + \`strip = true\`"
        "ch01|$BIN/ch01-uts -- true|… + \`lto = true\`, \`codegen-units = 1\`: the release profile"
        "ch01-abort|$TARGET/steps-abort/release/ch01-uts -- true|… + \`panic = \"abort\"\` (not taken)"
    )
    step_args=()
    for entry in "${STEPS[@]}"; do
        IFS='|' read -r name command _ <<<"$entry"
        step_args+=("$name" "$command")
    done
    say "profile steps: ${#STEPS[@]} commands in ${BLOCKS} rounds${FIFO[*]:+, under ${FIFO[*]}}"
    hyperfine_rounds "$TMP/steps.json" "${FIFO[@]}" -- "${step_args[@]}"
    floor_ms=$(median_ms "$TMP/steps.json" floor)
    STEP_ROWS=()
    for entry in "${STEPS[@]}"; do
        IFS='|' read -r name command what <<<"$entry"
        size=$(stat -c %s "${command%% *}")
        ms=$(median_ms "$TMP/steps.json" "$name")
        STEP_ROWS+=("| $what | $((size / 1024)) | $ms | **$(ratio "$ms" "$floor_ms")** |")
    done
    STEPS_SECTION=$(
        cat <<EOF
Median wall time in ms of $((2 * RUNS / BLOCKS * BLOCKS)) runs each, one hyperfine run in ${BLOCKS}
rounds${FIFO[*]:+, under \`${FIFO[*]}\`}, each command running \`true\` in a new UTS namespace.

| build | size (KiB) | median (ms) | × C floor |
|---|---:|---:|---:|
$(printf '%s\n' "${STEP_ROWS[@]}")
EOF
    )
fi

# --- ch07-inspect cost (when it exists) ------------------------------------------

COST_SECTION="\`ch07-inspect cost\` is not available in this build \
(\`ch07-inspect cost --help\` did not describe it); this section is skipped."
if help=$("$BIN/ch07-inspect" cost --help 2>&1) && grep -qi cost <<<"$help"; then
    say "ch07-inspect cost: measuring each namespace type"
    # shellcheck disable=SC2016 # the backquotes are Markdown
    if cost=$(timeout 180 "$BIN/ch07-inspect" cost 2>&1); then
        COST_SECTION=$(printf '%s\n\n```text\n$ ch07-inspect cost\n%s\n```' \
            "Creating and destroying namespaces one type at a time (\`ch07-inspect cost\`):" "$cost")
    else
        COST_SECTION=$(printf '`ch07-inspect cost` failed:\n\n```text\n%s\n```' "$cost")
    fi
else
    say "ch07-inspect cost: not available (skipped)"
fi

# --- build budget --------------------------------------------------------------

cold_build() { # cold_build NAME CARGO-ARGS...: seconds of a build in a fresh target dir
    local name=$1
    shift
    local dir="$TMP/cold-$name" start end
    start=$(date +%s%N)
    CARGO_TARGET_DIR=$dir cargo "$@" >"$TMP/$name.log" 2>&1 ||
        { cat "$TMP/$name.log" >&2; die "cold '$*' failed"; }
    end=$(date +%s%N)
    grep -c '^ *Compiling ' "$TMP/$name.log" >"$TMP/$name.count" || true
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", (e - s) / 1e9 }'
}
packages() { # distinct packages in the graph for these edge kinds
    cargo tree --workspace --quiet -e "$1" --prefix none |
        sed -e 's/ (\*)$//' -e 's/ (proc-macro)//' -e 's/ (.*)$//' | sort -u | grep -c .
}

if [[ ${BENCH_SKIP_BUILD_BUDGET:-0} == 1 ]]; then
    BUDGET_SECTION="Skipped (BENCH_SKIP_BUILD_BUDGET=1)."
else
    say "build budget: fetching sources so that the cold builds measure compiling only"
    cargo fetch --quiet
    build_pkgs=$(packages normal,build)
    test_pkgs=$(packages normal,build,dev)
    say "build budget: cold 'cargo build --workspace' in a fresh target dir"
    build_s=$(cold_build build build --workspace --timings)
    # The slowest units of that build, from cargo's --timings report.
    slowest=$(awk '/^const UNIT_DATA = \[/ { f = 1; print "["; next }
                   f && /^\];/ { print "]"; exit } f' "$TMP/cold-build/cargo-timings/cargo-timing.html" 2>/dev/null |
        jq -r 'sort_by(-.duration) | .[:5][] | "\(.name) (\(.target | gsub("\""; "") | split(" ") | last // "" | if . == "" then "lib" else . end)) \(.duration * 10 | round / 10) s"' 2>/dev/null |
        paste -sd ';' | sed 's/;/, /g' || true)
    rm -rf "$TMP/cold-build"
    say "build budget: cold 'cargo test --workspace --no-run' in a fresh target dir"
    test_s=$(cold_build test test --workspace --no-run)
    rm -rf "$TMP/cold-test"
    verdict=$(awk -v s="$build_s" 'BEGIN { print (s <= 30) ? "within" : "over" }')
    BUDGET_SECTION=$(
        cat <<EOF
| build (fresh target dir, dev profile) | packages in the graph (\`cargo tree\`) | packages compiled | wall time |
|---|---:|---:|---:|
| \`cargo build --workspace\` | $build_pkgs | $(cat "$TMP/build.count") | **${build_s} s** |
| \`cargo test --workspace --no-run\` | $test_pkgs | $(cat "$TMP/test.count") | **${test_s} s** |

Goal: a cold build in 30 s on 2 cores: **${verdict}** (${build_s} s).
Slowest units of the cold build (\`cargo build --timings\`): ${slowest:-not available}.
EOF
    )
fi

# --- report --------------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
verdict() { [[ $1 == 1 ]] && echo "met" || echo "not met"; }
over_floor() { # over_floor CHAPTER...: the verdict, naming the chapters above the goal
    if (($#)); then
        local list
        printf -v list ', %s' "$@"
        echo "**not met** (above it: ${list#, })"
    else
        echo "**met**"
    fi
}
{
    cat <<EOF
# nslab startup benchmark

- command: \`bash bench/startup.sh\`
- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- kernel: $(uname -r); CPU: ${cpu:-unknown}; nproc: $(nproc)
- $(rustc --version); $(hyperfine --version); $(unshare --version)
- load average (1, 5, 15 min): ${LOAD_START} at start, ${LOAD_AFTER_STARTUP} after the startup runs
- mounts in the host's table (a new mount namespace copies them all): $(wc -l </proc/self/mountinfo)
- release build flags: ${RUSTFLAGS:-those of .cargo/config.toml (static linking on x86_64)}

## Startup time: \`chNN -- true\` against the floor, \`unshare\` and Go

Each chapter runs \`true\` in its namespaces, beside the floor
(\`bench/floor.c\`): a static C program that only calls \`clone(2)\` with
the chapter's flags, \`execvp\`s the command and \`waitpid\`s for it; the
same floor in Rust (\`bench/floor.rs\`), built and started as the
chapters are; util-linux \`unshare\` with the flags that make the same
namespaces; and for ch06, the article's Go program (\`bench/article.go\`).
Nothing can do the job in less than the floor; the floor itself does
less than the job (no setup in the child, so from ch04 on not even
\`mount --make-rprivate /\`).

| chapter | C floor | Rust floor | same namespaces with | Go |
|---|---|---|---|---|
$(printf '%s\n' "${FLAG_ROWS[@]}")

${GO_NOTE}

Times are in ms: the median ± the standard deviation of $((2 * (RUNS / BLOCKS) * BLOCKS)) runs
each, from one hyperfine -N invocation per chapter and mode, in ${BLOCKS} rounds
of chapter, C floor, Rust floor, unshare (Go), then the same backwards
(${WARMUP} warmup runs before each block). "× C floor" is the chapter's
median divided by the C floor's, and so on; in parentheses, the lowest
and the highest ratio of a single round. "As is" runs beside whatever
else the machine does; "FIFO" runs the same under \`chrt -f 50\`
(SCHED_FIFO), so that other jobs cannot keep a freshly forked child
waiting in a run queue.

As is:

${TIME_HEADER}
$(printf '%s\n' "${TIME_ROWS[@]}")
$(
    # shellcheck disable=SC2016 # the backquotes are Markdown
    if ((${#FIFO[@]})); then
        printf '\nUnder SCHED_FIFO (`%s`):\n\n' "${FIFO[*]}"
        printf '%s\n' "$TIME_HEADER"
        printf '%s\n' "${FIFO_ROWS[@]}"
    else
        printf '\n`chrt -f` does not work here: no SCHED_FIFO table.\n'
    fi)

Goal "at or below unshare's time" (ratio ≤ 1.00 for every chapter): as is
**$(verdict $ALL_FAST)**; under SCHED_FIFO **$(verdict $ALL_FAST_FIFO)**.

Goal "at most 1.05 × the floor" (for every chapter): as is
$(over_floor "${OVER_FLOOR[@]}"); under SCHED_FIFO $(
    if ((${#FIFO[@]})); then over_floor "${OVER_FLOOR_FIFO[@]}"; else echo "not measured"; fi).

## Peak memory

Largest resident set of the process tree (\`/usr/bin/time -f %M\`, KiB),
median of ${MEM_RUNS} runs.

| chapter | chapter (KiB) | unshare (KiB) | floor (KiB) | chapter − unshare (KiB) | < 1 MiB more |
|---|---:|---:|---:|---:|:-:|
EOF
    printf '%s\n' "${MEM_ROWS[@]}"
    cat <<EOF

Goal "less than 1 MiB more peak memory than unshare": **$(verdict $ALL_SMALL)**.

## Where the time goes

Median wall time in ms of $((2 * RUNS / BLOCKS * BLOCKS)) runs each, one hyperfine run in ${BLOCKS}
rounds${FIFO[*]:+, under \`${FIFO[*]}\`}.

| command | what it shows | median (ms) |
|---|---|---:|
$(printf '%s\n' "${BREAKDOWN_ROWS[@]}")

## The release profile, one option at a time

${STEPS_SECTION}

## Cost per namespace type

${COST_SECTION}

## Build budget

${BUDGET_SECTION}
EOF
} >"$TMP/results.md"

cp "$TMP/results.md" "$RESULTS"
cat "$TMP/results.md"
say "written to ${RESULTS#"$ROOT"/}"
