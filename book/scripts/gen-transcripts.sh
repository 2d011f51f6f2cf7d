#!/usr/bin/env bash
# Writes book/src/generated/*.txt: transcripts of real sessions with the
# chapter programs. Each session runs in a fresh terminal of its own (a
# tmux server of its own), all sessions at once: the script types the
# lines a reader would type, waits for the next prompt, and saves what
# the terminal shows. Needs root and tmux.
#
# Usage, as root, from anywhere:
#   bash book/scripts/gen-transcripts.sh              # all transcripts
#   bash book/scripts/gen-transcripts.sh ch03-pid     # only those named
#   bash book/scripts/gen-transcripts.sh --out DIR    # write elsewhere
#   bash book/scripts/gen-transcripts.sh --no-live    # skip live/
#   bash book/scripts/gen-transcripts.sh --no-wrap    # one line per line
#
# The programs come from $NSLAB_BIN_DIR when it is set; otherwise the
# script builds them with cargo into ${CARGO_TARGET_DIR:-target}. Where
# a program prints its own path (a hint), the transcript shows
# /path/to/nslab/target/debug in place of that directory, so that the
# transcripts do not depend on where the checkout is.
# Its scratch files (homes, tmux sockets) live in one directory under
# ${TMPDIR:-/tmp}, removed when the script ends, however it ends.
#
# Width: the terminals are 80 columns wide, and a line wider than that
# is saved as the terminal shows it, cut into rows of 80 characters, so
# that it fits the book's code column (86 columns in mdBook's default
# theme: 730 px of 14 px Source Code Pro). --no-wrap saves each line
# whole instead, as book-check compares them.
#
# Prompts: `host#` is a root shell on the host, `user$` an ordinary
# user's shell on the host; inside a chapter, the
# shell shows `user@hostname:dir#` (or `$` for a user who is not root),
# so a changed hostname or user shows up in the prompt itself.
#
# No fixed delays: every step waits for something it can see (a prompt
# at the cursor, a process on the terminal, a signal taken), so a busy
# machine makes the sessions slower, never different.
set -euo pipefail

book=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=$(dirname "$book")
out=$book/src/generated
only=()
live=1
wrap=1
columns=80
while (($#)); do
    case $1 in
    --out) out=$2; shift 2 ;;
    --no-live) live=0; shift ;;
    --no-wrap) wrap=0; shift ;;
    -h | --help) sed -n '/^set -euo/q; 2,$p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) only+=("$1"); shift ;;
    esac
done

if ((EUID != 0)); then
    echo "gen-transcripts: run me as root (the chapters create namespaces)" >&2
    exit 1
fi
command -v tmux >/dev/null || {
    echo "gen-transcripts: needs tmux (apt-get install tmux)" >&2
    exit 1
}

if [[ -n ${NSLAB_BIN_DIR:-} ]]; then
    bin=$NSLAB_BIN_DIR
else
    (cd "$repo" && cargo build --quiet --workspace --bins)
    bin=${CARGO_TARGET_DIR:-$repo/target}/debug
fi
programs=(ch01-uts ch02-ipc ch03-pid ch04-mount ch05-user ch06-net ch07-inspect)
for chapter in "${programs[@]}"; do
    [[ -x $bin/$chapter ]] || {
        echo "gen-transcripts: no $bin/$chapter: build the workspace first" >&2
        exit 1
    }
done
mkdir -p "$out"

# Everything scratch lives here: one home and one tmux socket a session.
# Readable by all: a session switches to the user nobody in its home.
work=$(mktemp -d "${TMPDIR:-/tmp}/nslab-transcripts.XXXXXX")
chmod 755 "$work"
# Root file systems for --root live in the checkout's target/, not in
# TMPDIR: /tmp is often a nosuid tmpfs, which --root refuses.
mkdir -p "${CARGO_TARGET_DIR:-$repo/target}"
rootfs_base=$(mktemp -d "${CARGO_TARGET_DIR:-$repo/target}/nslab-transcripts-rootfs.XXXXXX")
chmod 755 "$rootfs_base"
pids=()
cleanup() {
    local sock tty
    # Sessions still running (the script was interrupted, or another
    # session failed): stop them, then their terminals.
    ((${#pids[@]} == 0)) || kill "${pids[@]}" 2>/dev/null || true
    for sock in "$work"/*/tmux.sock; do
        [[ -S $sock ]] || continue
        # What runs on a session's terminals ends with it: a hang-up
        # alone would not end a command that is PID 1 without a handler.
        for tty in $(tmux -S "$sock" list-panes -a -F '#{pane_tty}' 2>/dev/null); do
            pkill -KILL -t "${tty#/dev/}" 2>/dev/null || true
        done
        tmux -S "$sock" kill-server 2>/dev/null || true
    done
    ((${#pids[@]} == 0)) || wait "${pids[@]}" 2>/dev/null || true
    rm -rf "$rootfs_base"
    # A host queue that an interrupted ch02 session made and did not
    # remove.
    if [[ -s $work/ch02/queue ]]; then
        ipcrm -q "$(<"$work/ch02/queue")" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The sessions run the programs from here, also as nobody, who may not
# reach $bin: a checkout in /root (mode 700) is out of its reach. A hard
# link where one can be made, else a copy.
mkdir "$work/bin"
for chapter in "${programs[@]}"; do
    ln "$bin/$chapter" "$work/bin/" 2>/dev/null || cp "$bin/$chapter" "$work/bin/"
done
# As the programs see their own path: with no symbolic link in it.
bin=$(cd "$work/bin" && pwd -P)

cat >"$work/host.rc" <<'RC'
PS1='host# '
unset HISTFILE
RC
# Read by the interactive bash that a chapter starts inside.
cat >"$work/bashrc" <<'RC'
PS1='\u@\h:\w\$ '
unset HISTFILE
RC
cat >"$work/tmux.conf" <<'CONF'
set -g status off
set -g history-limit 5000
CONF

# ---------------------------------------------------------------------
# The helpers. They run inside one session's subshell, where `home`,
# `sock` and `win` belong to that session.

tm() { tmux -S "$sock" -f "$work/tmux.conf" "$@"; }

fail() {
    echo "gen-transcripts: $session: $*" >&2
    exit 1
}

# Sleeps $1 seconds without a process: read(1) times out on a FIFO that
# nobody writes to.
nap() { read -r -t "$1" -u "$tick" _ || true; }

# What the terminal shows, from the first line of its history.
screen() { tm capture-pane -p -J -S - -t "$win"; }

# The visible screen in `rows` and the cursor's line in `line`, read
# with one tmux call.
look() {
    local y
    mapfile -t rows < <(tm display-message -p -t "$win" '#{cursor_y}' \; \
        capture-pane -p -t "$win")
    y=${rows[0]:-0}
    rows=("${rows[@]:1}")
    line=${rows[y]:-}
    shown=$(printf '%s\n' "${rows[@]}")
}

# A prompt ends the cursor's line; after ^C it may follow other text.
prompt_re='(^|[^ ])(host#|stand-in#|user\$|[a-z]+@[^ ]+:[^ ]*[#$])$'

# Waits until the visible screen differs from $1, shows a prompt at the
# cursor, and reads the same twice in a row (all of it drawn).
wait_for_prompt() {
    local before=$1 last="" deadline=$((SECONDS + 120))
    local rows line shown pauses=(0.01 0.02 0.04 0.08) i=0
    while :; do
        # Short pauses first (most commands are quick), then longer ones.
        nap "${pauses[i]}"
        ((i == ${#pauses[@]} - 1)) || i=$((i + 1))
        look
        if [[ $shown != "$before" && $shown == "$last" && $line =~ $prompt_re ]]; then
            return
        fi
        last=$shown
        ((SECONDS < deadline)) || fail "no prompt after 120 s; the screen:
$(screen)"
    done
}

# The visible screen now, for wait_for_prompt.
now_shown() {
    local rows line shown
    look
    printf '%s' "$shown"
}

# Waits until the command $1 succeeds.
wait_until() {
    local deadline=$((SECONDS + 120))
    until eval "$1"; do
        nap 0.02
        ((SECONDS < deadline)) || fail "still not true after 120 s: $1"
    done
}

# Starts the session's terminal with a root shell on the host, in $home.
start() {
    tm new-session -d -s nslab -n main -x "$columns" -y 50 -c "$home" "${host_shell[@]}"
    win=nslab:main
    wait_for_prompt ""
}

# Opens a second terminal (window NAME) with a root shell on the host.
second_terminal() {
    tm new-window -d -t nslab -n "$1" -c "$home" "${host_shell[@]}"
    win=nslab:$1
    wait_for_prompt ""
}

# The terminal of the current window, as ps and pgrep name it: pts/N.
terminal() {
    local tty
    tty=$(tm display-message -p -t "$win" '#{pane_tty}')
    echo "${tty#/dev/}"
}

# Types a line and Enter, then waits for the next prompt.
type_line() {
    local before
    before=$(now_shown)
    tm send-keys -t "$win" -l -- "$1"
    tm send-keys -t "$win" Enter
    wait_for_prompt "$before"
}

# Types a line and Enter without waiting (the command keeps running).
type_and_go() {
    tm send-keys -t "$win" -l -- "$1"
    tm send-keys -t "$win" Enter
}

# Presses a key (C-c is Ctrl-C), then waits for the next prompt.
press_then_prompt() {
    local before
    before=$(now_shown)
    tm send-keys -t "$win" "$1"
    wait_for_prompt "$before"
}

# True when signal $2 is pending for process $1.
pending() {
    local key mask bit=$((1 << ($2 - 1)))
    while read -r key mask; do
        case $key in
        SigPnd: | ShdPnd:) (((0x$mask & bit) != 0)) && return 0 ;;
        esac
    done <"/proc/$1/status"
    return 1
}

# Cuts each line of stdin wider than the terminal into rows of
# $columns characters, as the terminal showed it (a row that was cut is
# exactly that wide); with --no-wrap, passes the lines on whole.
wrap_lines() {
    local line
    while IFS= read -r line; do
        while ((wrap && ${#line} > columns)); do
            printf '%s\n' "${line:0:columns}"
            line=${line:columns}
        done
        printf '%s\n' "$line"
    done
}

# The programs' directory, where a line shows it, as the same
# placeholder on every machine.
placeholder_bin() {
    local line
    while IFS= read -r line; do
        printf '%s\n' "${line//"$bin/"//path/to/nslab/target/debug/}"
    done
}

# Saves the terminal as $out/$1.txt, without the last, empty prompt.
# (`screen` joins the rows that the terminal wrapped into one line;
# wrap_lines cuts them again, counting characters, not bytes.)
keep_screen() {
    mkdir -p "$(dirname "$out/$1.txt")"
    screen | sed 's/[[:space:]]*$//' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' |
        sed '$d' | placeholder_bin | LC_ALL=C.UTF-8 wrap_lines >"$out/$1.txt"
    echo "wrote $out/$1.txt"
}

# Saves the terminal and ends the session.
save() {
    keep_screen "$1"
    tm kill-server 2>/dev/null || true
}

wanted() {
    ((${#only[@]} == 0)) && return 0
    local name
    for name in "${only[@]}"; do [[ $1 == "$name"* ]] && return 0; done
    return 1
}

# Runs session_$2 (the function below) in the background, in a home and
# a tmux server of its own, when the group $1 is wanted.
failed=()
names=()
run() {
    wanted "$1" || return 0
    [[ $2 != live_* ]] || ((live)) || return 0
    local session=$2
    (
        home=$work/$session
        sock=$home/tmux.sock
        mkdir "$home"
        chmod 755 "$home"
        cp "$work/bashrc" "$home/.bashrc"
        mkfifo "$home/.tick"
        exec {tick}<>"$home/.tick"
        host_shell=(env -i HOME="$home" TERM=xterm LANG=C.UTF-8
            PATH="$bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            bash --noprofile --rcfile "$work/host.rc" -i)
        "session_$session"
    ) &
    pids+=($!)
    names+=("$session")
}

# ---------------------------------------------------------------------
# The sessions. Each one is what a page tells the reader to try, typed
# into a real terminal.

session_intro() {
    start
    type_line 'ls -l --time-style=+ /proc/$$/ns'
    type_line 'grep . /proc/sys/user/max_*_namespaces'
    # A time namespace takes in the caller at its execve.
    type_line 'unshare --time readlink /proc/self/ns/time /proc/self/ns/time_for_children'
    save intro
}

session_ch01() {
    start
    type_line 'hostname'
    type_line 'readlink /proc/$$/ns/uts'
    type_line 'ch01-uts'
    type_line 'hostname bash; hostname'
    type_line 'readlink /proc/$$/ns/uts'
    type_line 'exit'
    type_line 'hostname'
    save ch01-uts
}

session_ch02() {
    start
    type_line 'ipcmk -Q'
    local queue
    queue=$(screen | sed -n 's/^Message queue id: //p' | tail -1)
    [[ -n $queue ]] || fail "ipcmk printed no queue id"
    # For the cleanup, should the session not get to its ipcrm.
    echo "$queue" >"$home/queue"
    # Only our queue and the header: other programs may have queues.
    type_line "ipcs -q | grep -w -e msqid -e $queue"
    type_line 'ch02-ipc'
    type_line 'ipcs -q'
    type_line 'exit'
    type_line "ipcrm -q $queue"
    rm "$home/queue"
    save ch02-ipc
}

session_ch02_posix() {
    # POSIX message queues, /dev/shm and the IPC limits, in a stand-in
    # host: an IPC and mount namespace of its own, so that the queue,
    # the file in /dev/shm and the limits set here never reach the host.
    start
    type_line "unshare --ipc --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount -t mqueue none /mnt && : >/mnt/jobs && ls /mnt'
    # The old mount still shows the queues of the namespace that made it.
    type_line 'ch02-ipc -- ls /mnt'
    type_line "ch02-ipc -- unshare --mount sh -c 'mount -t mqueue none /mnt && ls -A /mnt | wc -l'"
    type_line 'mount -t tmpfs none /dev/shm && : >/dev/shm/frames && ch02-ipc -- ls /dev/shm'
    type_line 'sysctl -w kernel.msgmnb=32768 fs.mqueue.msg_max=20'
    type_line "ch02-ipc -- sh -c 'sysctl kernel.msgmnb fs.mqueue.msg_max; sysctl -w kernel.msgmnb=1000'"
    type_line 'sysctl kernel.msgmnb'
    type_line 'exit'
    save ch02-posix
}

session_ch03() {
    start
    type_line 'echo $$'
    type_line 'ch03-pid'
    type_line 'echo $$'
    type_line 'exit'
    save ch03-pid
}

# Waits until `sleep` runs on this session's terminal: the tool has
# started it, with its signal handlers in place.
sleep_started() {
    wait_until "pgrep -t $(terminal) -x sleep >/dev/null"
}

session_ch03_signals() {
    start
    # PID 1 drops the signals it has no handler for.
    type_and_go 'ch03-pid -- sleep 100'
    sleep_started
    local tool
    tool=$(pgrep -t "$(terminal)" -x ch03-pid)
    tm send-keys -t "$win" C-c
    # The tool says that PID 1 dropped the SIGINT once its handler has
    # taken it: the next Ctrl-C is a second one.
    wait_until "[[ \$(tm capture-pane -p -t \"\$win\") == *'dropped it'* ]]"
    wait_until "! pending $tool 2"
    press_then_prompt C-c
    type_line 'echo $?'
    # --init: a tiny init is PID 1, the command PID 2 and Ctrl-C works.
    type_line "ch03-pid --init -- sh -c 'echo \"my PID is \$\$\"'"
    type_and_go 'ch03-pid --init -- sleep 100'
    sleep_started
    press_then_prompt C-c
    type_line 'echo $?'
    # When PID 1 exits, the kernel kills the rest of its namespace.
    # (-s 0: this terminal's session only.)
    type_line "ch03-pid -- sh -c 'sleep 4242 & echo \"sleep is PID \$!\"'"
    type_line "pgrep -s 0 -x -f 'sleep 4242' || echo 'no sleep 4242 left'"
    save ch03-signals
}

session_ch03_rules() {
    # The PID namespace's one-way rules, each with a command.
    start
    type_line 'tty'
    local first
    first=$(terminal)
    type_line "ch03-pid -- sh -c 'cat /proc/sys/kernel/ns_last_pid; echo 99 >/proc/sys/kernel/ns_last_pid; sh -c \"echo my PID is \\\$\\\$\"'"
    type_line 'unshare --pid unshare --pid true'
    type_line "unshare --pid --fork unshare --pid --fork sh -c 'echo my PID is \$\$'"
    # A signal from inside names its sender; one from the host, nobody.
    type_line "ch03-pid -- strace -qq -e trace=none sh -c 'echo my PID is \$\$; kill -USR1 \$\$'"
    type_and_go 'ch03-pid -- strace -qq -e trace=none sleep 100'
    sleep_started
    second_terminal host
    type_line "kill -USR1 \$(pgrep -t $first -x sleep)"
    win=nslab:main
    wait_for_prompt ""
    # How deep they nest: each level starts the next, until one fails.
    type_line "export NEST='n=\$((n + 1)); export n; unshare --pid --fork sh -c \"\$NEST\" || echo \"levels below the host: \$((n - 1))\"'"
    type_line 'sh -c "$NEST"'
    type_line "export NEST='n=\$((n + 1)); export n; unshare --user --map-root-user sh -c \"\$NEST\" || echo \"levels below the host: \$((n - 1))\"'"
    type_line 'sh -c "$NEST"'
    save ch03-rules
}

session_ch04() {
    start
    type_line 'ch04-mount'
    # Before the mount, /proc is still the host's: it names a host PID.
    type_line 'echo $$; readlink /proc/self'
    type_line 'mount -t proc proc /proc'
    type_line 'ps -ef'
    type_line 'readlink /proc/self'
    # An orphan: its parent (the subshell) is gone, PID 1 adopts it.
    type_line '(sleep 300 &); sleep 0.2; ps -o pid,ppid,args'
    type_line 'findmnt -o TARGET,PROPAGATION /'
    type_line 'exit'
    type_line 'findmnt /proc'
    save ch04-mount
}

# A root file system made by make-rootfs.sh, reached from the session's
# home as ./rootfs (a symlink: the directory is in $rootfs_base).
make_rootfs() {
    sh "$repo/ch04-mount/make-rootfs.sh" "$rootfs_base/$session" >/dev/null
    ln -s "$rootfs_base/$session" "$home/rootfs"
}

session_ch04_root() {
    make_rootfs
    start
    type_line 'ls rootfs'
    type_line "ch04-mount --root rootfs -- /bin/sh -c 'mount -t proc proc /proc; ps; ls /'"
    # The mount points inside: the new root and what was mounted in it.
    type_line "ch04-mount --root rootfs -- /bin/sh -c 'mount -t proc proc /proc; cut -d\" \" -f5 /proc/self/mountinfo'"
    type_line 'ch04-mount --root rootfs -- ls /home /work /usr/lib'
    type_line 'ch04-mount --root rootfs/etc'
    type_line 'ch03-pid --root rootfs'
    save ch04-root
}

session_ch04_propagation() {
    make_rootfs
    start
    # A stand-in for a systemd host: a mount namespace of its own (cut
    # off from the real host first), whose whole tree is then shared.
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount --make-rshared /; findmnt -o TARGET,PROPAGATION /'
    type_line 'ch04-mount -- findmnt -o TARGET,PROPAGATION /'
    type_line 'ch04-mount --propagation slave -- findmnt -o TARGET,PROPAGATION /'
    # Slave: what the host mounts arrives, what we mount stays here.
    type_line 'export HOST_SHELL=$$'
    type_line 'ch04-mount --propagation slave'
    type_line 'nsenter -t "$HOST_SHELL" -m mount -t tmpfs from-host /mnt'
    type_line 'findmnt -o TARGET,SOURCE,PROPAGATION /mnt'
    type_line "awk '\$5 == \"/mnt\" {print \$5, \$7}' /proc/self/mountinfo"
    type_line 'mount -t tmpfs from-inside /srv'
    type_line 'exit'
    type_line "findmnt /srv || echo 'nothing came back'"
    type_line "awk '\$5 == \"/mnt\" {print \$5, \$7}' /proc/self/mountinfo"
    type_line 'umount /mnt'
    # Shared: both ways, a peer of the host's tree.
    type_line "ch04-mount --propagation shared -- mount -t tmpfs from-inside /srv"
    type_line 'findmnt -o TARGET,SOURCE /srv; umount /srv'
    # pivot_root(2) refuses a shared mount.
    type_line 'ch04-mount --propagation shared --root rootfs'
    # The kernel's own answer, through util-linux's pivot_root.
    type_line "unshare --mount --propagation shared sh -c 'mount --bind rootfs rootfs && cd rootfs && pivot_root . .'"
    type_line 'exit'
    save ch04-propagation
}

session_ch04_fields() {
    # mountinfo's optional fields, propagate_from included: the demo
    # reads the table as a process whose root leaves out a master group.
    cp "$repo/book/demos/mountinfo-from.py" "$home/"
    start
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount -t tmpfs demo /mnt && cd /mnt && mkdir -p root/z root/m root/u x'
    type_line 'mount -t tmpfs z root/z && mount --make-shared root/z'
    type_line 'mount --bind root/z x && mount --make-slave x && mount --make-shared x'
    type_line 'mount --bind x root/m && mount --make-slave root/m'
    type_line 'mount -t tmpfs u root/u && mount --make-unbindable root/u'
    type_line "fields() { awk '\$5 ~ /\\/[zmux]\$/ { s = \$5; for (i = 7; \$i != \"-\"; i++) s = s \" \" \$i; print s }'; }"
    type_line 'fields </proc/self/mountinfo'
    type_line 'python3 ~/mountinfo-from.py root | fields'
    type_line 'exit'
    save ch04-fields
}

session_ch04_binding() {
    # The table's demo, as the reader runs it from book/demos/.
    cp "$repo/book/demos/transitions.sh" "$home/"
    start
    # Each in a stand-in: a mount namespace of its own, cut off from the
    # real host's (unshare makes its copy private), thrown away by exit.
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount -t tmpfs demo /mnt && mkdir /mnt/a /mnt/b /mnt/c && mount --make-shared /mnt'
    type_line 'for u in a b c; do mount --rbind /mnt /mnt/$u; findmnt -Rn /mnt | wc -l; done'
    type_line 'exit'
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount -t tmpfs demo /mnt && mkdir /mnt/a /mnt/b /mnt/c && mount --make-shared /mnt'
    type_line 'for u in a b c; do mount --rbind --make-unbindable /mnt /mnt/$u; findmnt -Rn /mnt | wc -l; done'
    type_line 'findmnt -o TARGET,PROPAGATION /mnt/a'
    type_line 'exit'
    # What a bind or a move makes of a mount's type.
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount -t tmpfs demo /mnt && mkdir /mnt/shared /mnt/other && mount --make-shared /mnt'
    # The sources: private mounts on a tmpfs of the stand-in's own.
    type_line 'mount -t tmpfs src /srv && mkdir /srv/p /srv/u /srv/m'
    type_line 'mount -t tmpfs p /srv/p && mount --bind /srv/p /mnt/shared'
    type_line 'mount -t tmpfs --make-unbindable u /srv/u && mount --bind /srv/u /mnt/other'
    type_line 'mount -t tmpfs m /srv/m && mount --move /srv/m /mnt/other'
    type_line 'for m in shared other; do findmnt -no TARGET,PROPAGATION /mnt/$m; done'
    type_line 'exit'
    # The whole table, in a namespace of its own.
    type_line 'unshare --mount bash transitions.sh'
    save ch04-binding
}

session_ch04_pivot() {
    # pivot_root(2) moves every process of the namespace whose root or
    # working directory is the old root, not only its caller.
    make_rootfs
    start
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount --bind rootfs rootfs'
    type_line '(cd / && exec sleep 1000) & (cd /etc && exec sleep 1000) &'
    type_line 'show() { for p in $(jobs -p); do echo "root=$(readlink $1/$p/root) cwd=$(readlink $1/$p/cwd)"; done; }'
    type_line 'show /proc'
    type_line 'cd rootfs && pivot_root . tmp'
    type_line 'show /tmp/proc'
    type_line 'ls /tmp/proc/$(jobs -p | head -n 1)/cwd'
    type_line 'kill $(jobs -p); exit'
    save ch04-pivot
}

session_ch05() {
    start
    type_line 'id'
    type_line 'ch05-user'
    type_line 'id'
    type_line 'hostname box'
    type_line 'mount -t proc proc /proc'
    type_line 'exit'
    type_line 'ch05-user --map-root'
    type_line 'id'
    type_line 'cat /proc/self/uid_map /proc/self/gid_map'
    type_line 'hostname box; hostname'
    type_line 'mount -t proc proc /proc && ps -ef'
    type_line 'exit'
    save ch05-user
}

session_ch05_nonroot() {
    # Without root: an ordinary user (here nobody) runs the chapter.
    start
    type_line "setpriv --reuid=nobody --regid=nogroup --clear-groups env PS1='user\$ ' bash --norc"
    type_line 'id'
    type_line 'ch05-user -- id'
    type_line "ch05-user --map-root -- sh -c 'id; cat /proc/self/uid_map'"
    type_line 'exit'
    save ch05-user-nonroot
}

session_ch05_mounts() {
    # Mounts that come into a mount namespace owned by a new user
    # namespace are locked. A stand-in for the host (a mount namespace
    # of its own) holds a read-only, nosuid tmpfs, and its tree is made
    # shared, as systemd makes it.
    start
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount --make-rshared /; mount -t tmpfs -o ro,nosuid,size=1m guarded /mnt'
    type_line 'ch05-user --map-root --propagation unchanged'
    type_line 'findmnt -o TARGET,PROPAGATION /'
    type_line 'umount /mnt'
    type_line 'mount -o remount,rw /mnt'
    type_line 'mount -o remount,bind,suid /mnt'
    type_line 'mount -t tmpfs over /mnt && findmnt -o TARGET,SOURCE,OPTIONS /mnt'
    type_line 'cd /mnt && mkdir proc tmp mq pts sys cg'
    type_line 'mount -t proc proc proc && mount -t tmpfs tmp tmp && mount -t mqueue mq mq && mount -t devpts -o newinstance pts pts && echo mounted'
    type_line 'mount -t sysfs sys sys'
    type_line 'mount -t cgroup2 cg cg'
    type_line 'cd; exit'
    type_line "ch06-net --map-root -- sh -c 'mount -t tmpfs over /mnt && mkdir /mnt/sys && mount -t sysfs sys /mnt/sys && echo mounted'"
    type_line 'exit'
    save ch05-mounts
}

session_ch05_ranges() {
    # --map-auto and --map-users, as the user nobody. A stand-in gives
    # nobody a range of subordinate ids: a file of the session's, bound
    # over /etc/subuid and /etc/subgid in a mount namespace of its own.
    start
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line "echo 'nobody:100000:65536' >subids"
    type_line 'mount --bind subids /etc/subuid; mount --bind subids /etc/subgid'
    type_line "setpriv --reuid=nobody --regid=nogroup --clear-groups env PS1='user\$ ' bash --norc"
    type_line 'ch05-user --map-root --map-auto -- cat /proc/self/uid_map /proc/self/gid_map'
    type_line 'ch05-user --map-root --map-auto -- setpriv --reuid=4242 --regid=4242 --clear-groups id'
    type_line 'ch05-user --map-root -- setpriv --reuid=4242 --regid=4242 --clear-groups id'
    type_line 'ch05-user --map-users 0:200000:10 -- id'
    type_line 'exit'
    type_line 'exit'
    save ch05-ranges
}

session_ch05_maps() {
    # The kernel's rules for writing a map, each broken once. The maps
    # are written as root on the host into a new user namespace that a
    # sleep holds, with dd: one write(2) of the whole file.
    start
    type_line "fresh() { T=\$(unshare --user sh -c 'sleep 1000 >/dev/null 2>&1 & echo \$!'); cd /proc/\$T; }"
    type_line "map() { printf '%s\\n' \"\$@\" >~/map; dd if=~/map of=uid_map bs=4k status=none; }"
    type_line "fresh; map '0 1000 1' '1 100000 65536' && cat uid_map"
    type_line "map '0 2000 1'"
    type_line "fresh; map '0 1000 10' '5 2000 10'"
    type_line "map \"\$(seq 0 2 680 | awk '{print \$1, \$1, 1}')\""
    type_line "map \"\$(seq 0 2 678 | awk '{print \$1, \$1, 1}')\" && wc -l uid_map"
    type_line "fresh; printf '0 1000 1\\n1 2000 1\\n' >uid_map; cat uid_map"
    type_line "fresh; unshare --user --map-root-user bash -c \"echo '0 1000 1' >uid_map\""
    type_line "setpriv --bounding-set -setfcap unshare --user --map-root-user id"
    type_line "setpriv --bounding-set -setfcap unshare --user --map-user=1 id"
    type_line "setpriv --bounding-set -setfcap ch05-user --map-root -- id"
    type_line "unshare --user --map-user=1 id"
    type_line "fresh; map '0 1000 1' '1 100000 65536'; cat /proc/self/uid_map"
    type_line "unshare --user --map-root-user cat uid_map"
    type_line "cd; pkill -x -s 0 sleep; ch05-user -- sh -c 'id -u; setpriv --reuid=65534 id'"
    type_line 'ch05-user -- ping -c 1 127.0.0.1'
    type_line 'ch05-user --map-root -- setpriv --reuid=0 id -u'
    save ch05-maps
}

session_ch06() {
    start
    type_line 'ch06-net'
    type_line 'ip addr'
    type_line 'ip link set lo up'
    type_line 'exit'
    type_line 'ch06-net --map-root'
    type_line 'ip link set lo up && ping -c1 127.0.0.1'
    type_line 'ip -br addr'
    type_line 'exit'
    save ch06-net
}

session_ch06_veth() {
    # Two terminals: the container in the first, the host in the second.
    start
    type_line 'ch06-net --veth --map-root'
    type_line 'ip -br -4 addr'
    type_line 'ip route'
    type_line 'ping -c1 10.199.0.1 | head -2'
    second_terminal host
    type_line 'ip -br -4 addr show veth-nslab0'
    type_line 'ping -c1 10.199.0.2 | head -2'
    win=nslab:main
    type_line 'exit'
    type_line 'ip link show veth-nslab0'
    keep_screen ch06-veth
    win=nslab:host
    type_line 'ip -br link | grep -c veth-nslab'
    save ch06-veth-host
}

session_ch06_nonroot() {
    # Without root, as in chapter 5.
    start
    type_line "setpriv --reuid=nobody --regid=nogroup --clear-groups env PS1='user\$ ' bash --norc"
    type_line "ch06-net --map-root -- sh -c 'id -u; ip link set lo up && ping -c1 -q 127.0.0.1'"
    type_line 'exit'
    save ch06-net-nonroot
}

session_ch06_rules() {
    # A stand-in host: a network namespace of its own, cut off from the
    # real host's, so that its abstract socket and its settings never
    # meet the host's (nor another run's).
    start
    type_line "unshare --net env PS1='stand-in# ' bash --norc"
    # A server on the abstract name @nslab-demo: it listens, then goes
    # to the background, takes one connection and exits.
    type_line "python3 -c 'import socket, os; s = socket.socket(socket.AF_UNIX); s.bind(\"\\0nslab-demo\"); s.listen(); os.fork() or s.accept()'"
    type_line "ss -xl | grep -c @nslab-demo; ch06-net -- sh -c 'ss -xl | grep -c @nslab-demo'"
    type_line "CONNECT='import socket, os; e = socket.socket(socket.AF_UNIX).connect_ex(\"\\0nslab-demo\"); print(os.strerror(e) if e else \"connected\")'"
    type_line 'ch06-net -- python3 -c "$CONNECT"'
    type_line 'python3 -c "$CONNECT"'
    # /proc/sys/net: each network namespace has its own settings, and a
    # new one starts from the defaults, not from a copy.
    type_line 'sysctl -w net.ipv4.ip_default_ttl=99'
    type_line "ch06-net -- sh -c 'sysctl net.ipv4.ip_default_ttl; sysctl -w net.ipv4.ip_default_ttl=42'"
    type_line 'sysctl net.ipv4.ip_default_ttl'
    type_line 'exit'
    save ch06-rules
}

session_ch07() {
    # Two terminals: a chapter runs in the first, the inspector in the
    # second, as the page describes. `tty` names the first terminal,
    # so the second finds that chapter's process and no other.
    start
    type_line 'tty'
    local first
    first=$(terminal)
    type_line 'ch05-user --map-root'
    type_line 'hostname box'
    second_terminal inspector
    type_line "PID=\$(pgrep -P \"\$(pgrep -t $first -x ch05-user)\"); echo \$PID"
    type_line 'ch07-inspect ns $PID'
    type_line 'ch07-inspect diff $$ $PID'
    # One type at a time, in a fixed order: list sorts by inode number,
    # and the order in which the kernel hands those out is not fixed.
    type_line 'ch07-inspect list | head -1; for t in user mnt uts ipc pid; do ch07-inspect list $t | grep -w $PID; done'
    type_line 'ch07-inspect tree /proc/$PID/ns/uts'
    type_line 'ch07-inspect enter $PID hostname'
    type_line 'ch07-inspect keep $PID uts uts'
    win=nslab:main
    type_line 'exit'
    keep_screen ch07-container
    win=nslab:inspector
    type_line 'ch07-inspect enter uts hostname'
    type_line 'ch07-inspect release uts'
    type_line "ch07-inspect unshare pid -- sh -c 'echo \$\$'"
    type_line 'ch07-inspect unshare --boottime 86400 time -- cat /proc/uptime'
    save ch07-inspect
}

session_ch07_one_way() {
    # setns into a PID namespace goes down, never up; what a process
    # that enters from above sees as its parent, and where its orphans go.
    start
    type_line 'tty'
    local first
    first=$(terminal)
    type_line 'export HOST_SHELL=$$'
    type_line 'ch04-mount'
    type_line 'ch07-inspect enter /proc/$HOST_SHELL/ns/pid true'
    type_line 'mount -t proc proc /proc'
    second_terminal inspector
    type_line "PID=\$(pgrep -P \"\$(pgrep -t $first -x ch04-mount)\"); echo \$PID"
    # The subshell exits at once: its orphan goes to that namespace's
    # PID 1, not to the tool (a subreaper, but outside). ps waits until
    # the orphan is sleep: until it has exec'd, it is a copy of sh. Each
    # pgrep of the wait takes a PID there, so ps's own line (the last,
    # its PID depending on how long the wait took) is left out.
    type_line "ch07-inspect enter \$PID sh -c 'echo \"my PID is \$\$, my parent is \$PPID\"; (sleep 300 &); until pgrep -x sleep >/dev/null; do :; done; ps -o pid,ppid,comm | head -n 3'"
    win=nslab:main
    type_line 'exit'
    keep_screen ch07-one-way
    win=nslab:inspector
    save ch07-one-way-inspector
}

# How a namespace outlives its processes: one session per case.

session_ch07_fd() {
    # An open fd: a container's UTS namespace, held by `cat 3<` on a
    # second terminal after the container has exited.
    start
    type_line 'tty'
    local first second
    first=$(terminal)
    type_line 'ch01-uts'
    type_line 'hostname box'
    second_terminal holder
    # Its name, which the first terminal needs to find the holder.
    type_line 'tty'
    second=$(terminal)
    type_and_go "PID=\$(pgrep -P \"\$(pgrep -t $first -x ch01-uts)\"); echo \$PID; cat 3</proc/\$PID/ns/uts"
    wait_until "pgrep -t $second -x cat >/dev/null"
    win=nslab:main
    type_line 'exit'
    type_line "HOLDER=\$(pgrep -t $second -x cat); echo \$HOLDER"
    type_line 'ch07-inspect list uts | grep -w -e NS -e $HOLDER'
    type_line 'ch07-inspect enter /proc/$HOLDER/fd/3 hostname'
    win=nslab:holder
    press_then_prompt C-c
    keep_screen ch07-fd-holder
    win=nslab:main
    type_line 'ch07-inspect list uts | grep -w $HOLDER || echo "no longer listed"'
    save ch07-fd
}

session_ch07_parent() {
    # A child user namespace keeps its parent: sh, alone in a new user
    # namespace, starts a process in a child one and exits.
    start
    type_line "PID=\$(unshare --user --map-root-user sh -c 'unshare --user sleep 1000 >/dev/null 2>&1 & echo \$!'); echo \$PID"
    type_line 'ch07-inspect list user | grep -w -e NS -e $PID'
    type_line 'ch07-inspect tree /proc/$PID/ns/user'
    type_line 'kill $PID'
    save ch07-parent
}

session_ch07_siblings() {
    # Capabilities in a user namespace hold there and below, never in a
    # sibling. B's user namespace is kept with a bind mount (in a mount
    # namespace of the session's own), so that a shell in a sibling one
    # can name it.
    start
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line "B=\$(unshare --user --map-root-user sh -c 'sleep 1000 >/dev/null 2>&1 & echo \$!')"
    type_line 'ch07-inspect keep $B user b-user'
    type_line 'ch05-user --map-root'
    type_line 'ch07-inspect enter b-user id'
    type_line 'mount -t proc proc /proc'
    type_line "C=\$(unshare --user --map-root-user sh -c 'sleep 1000 >/dev/null 2>&1 & echo \$!')"
    type_line 'ch07-inspect enter /proc/$C/ns/user id'
    type_line 'exit'
    type_line 'ch07-inspect release b-user; kill $B'
    type_line 'exit'
    type_line "setpriv --reuid=nobody --regid=nogroup --clear-groups env PS1='user\$ ' bash --norc"
    type_line "N=\$(unshare --user sh -c 'sleep 1000 >/dev/null 2>&1 & echo \$!')"
    type_line 'ch07-inspect enter --preserve-credentials /proc/$N/ns/user id'
    type_line 'kill $N; exit'
    save ch07-siblings
}

session_ch07_owned() {
    # The demo, as the reader runs it from book/demos/.
    cp "$repo/book/demos/pass-ns-fd.py" "$home/"
    start
    # setns(2) checks the type when asked to: nsenter --net passes
    # CLONE_NEWNET, and a UTS namespace's file is refused.
    type_line 'nsenter --net=/proc/self/ns/uts true'
    type_line 'nsenter --uts=/proc/self/ns/uts hostname'
    # A namespace handed over a UNIX socket, by its descriptor alone.
    type_line "BOX=\$(unshare --uts sh -c 'hostname box; sleep 1000 >/dev/null 2>&1 & echo \$!')"
    type_line 'python3 pass-ns-fd.py $BOX; kill $BOX'
    # A user namespace with no process, kept by a namespace it owns.
    type_line "PID=\$(unshare --user --map-root-user --uts sh -c 'sleep 1000 >/dev/null 2>&1 & echo \$!')"
    type_line 'readlink /proc/$PID/ns/user'
    type_line 'ch07-inspect keep $PID uts owned-uts'
    type_line 'kill $PID; tail --pid=$PID -f /dev/null; ps -p $PID || echo gone'
    type_line 'ch07-inspect tree owned-uts | head -3'
    type_line 'ch07-inspect release owned-uts'
    save ch07-owned
}

session_ch07_children() {
    # pid_for_children: a shell that unshared its PID namespace, before
    # and after its first child, looked at from a second terminal.
    start
    type_line 'tty'
    local first
    first=$(terminal)
    type_line "unshare --pid env PS1='host# ' bash --norc"
    second_terminal inspector
    type_line "PID=\$(pgrep -n -t $first -x bash); echo \$PID"
    type_line 'ch07-inspect ns $PID | grep pid'
    win=nslab:main
    type_line "sh -c 'echo \$\$'"
    win=nslab:inspector
    type_line 'ch07-inspect ns $PID | grep pid'
    type_line 'ch07-inspect list pid | grep -w -e NS -e $PID'
    win=nslab:main
    type_line "sh -c 'echo \$\$'"
    type_line 'exit'
    keep_screen ch07-children
    win=nslab:inspector
    type_line 'ch07-inspect list pid | grep -w $PID || echo "no longer listed"'
    save ch07-children-inspector
}

session_ch07_time_children() {
    # time_for_children: a program that unshared its time namespace
    # without an execve, looked at from a second terminal.
    start
    type_line 'tty'
    local first
    first=$(terminal)
    type_and_go "python3 -c 'import ctypes; assert ctypes.CDLL(None).unshare(0x80) == 0; input(\"unshared; Enter ends me \")'"
    wait_until "tm capture-pane -p -t nslab:main | grep -q 'Enter ends me'"
    second_terminal inspector
    type_line "PID=\$(pgrep -n -t $first python3); echo \$PID"
    type_line 'ch07-inspect ns $PID | grep time'
    type_line 'ch07-inspect list time | grep -w -e NS -e $PID'
    win=nslab:main
    press_then_prompt Enter
    keep_screen ch07-time-children
    win=nslab:inspector
    type_line 'ch07-inspect list time | grep -w $PID || echo "no longer listed"'
    save ch07-time-children-inspector
}

session_ch07_mounts() {
    # A proc mount keeps its PID namespace; an mqueue mount does not
    # keep its IPC namespace. The limits, set to 1 in a throwaway user
    # namespace, tell whether one is still alive: a second is refused.
    start
    type_line 'unshare --user --map-root-user --mount bash'
    type_line 'echo 1 >/proc/sys/user/max_pid_namespaces'
    type_line 'mount -t tmpfs none /mnt; mkdir /mnt/proc /mnt/mq'
    type_line 'unshare --pid --fork mount -t proc proc /mnt/proc'
    type_line 'ls -d /mnt/proc/[0-9]*'
    type_line 'unshare --pid --fork true'
    type_line 'umount /mnt/proc'
    type_line "until unshare --pid --fork true 2>/dev/null; do :; done; echo 'a second one'"
    type_line 'echo 1 >/proc/sys/user/max_ipc_namespaces'
    type_line "unshare --ipc sh -c 'mount -t mqueue none /mnt/mq && : >/mnt/mq/queue'"
    type_line 'ls /mnt/mq'
    type_line "until unshare --ipc true 2>/dev/null; do :; done; echo 'a second one'"
    type_line 'exit'
    save ch07-mounts
}

session_ch07_cgroupns() {
    # The cgroup namespace's view: a cgroup of the stand-in's own (in
    # the v2 hierarchy, mounted in the stand-in) becomes the root.
    start
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'export CG=/mnt/demo-$$'
    type_line 'mount -t cgroup2 none /mnt && mkdir $CG && echo $$ >$CG/cgroup.procs'
    type_line 'grep ^0:: /proc/self/cgroup'
    type_line "ch07-inspect unshare cgroup mnt -- env PS1='\\u@\\h:\\w# ' bash --norc"
    type_line 'grep ^0:: /proc/self/cgroup'
    type_line 'findmnt -no FSROOT,TARGET /mnt; ls -d $CG'
    type_line 'mount -t cgroup2 none /srv && findmnt -no FSROOT,TARGET /srv; ls /srv | grep -c demo'
    type_line 'test /srv -ef $CG && echo one directory'
    type_line 'exit'
    type_line 'echo $$ >/mnt/cgroup.procs && rmdir $CG; exit'
    save ch07-cgroupns
}

session_ch07_time() {
    # A time namespace: its offsets, when they can be written, and the
    # clock it leaves alone.
    start
    type_line 'cat /proc/self/timens_offsets'
    type_line 'date +%Y; uptime -s | cut -d- -f1'
    type_line "ch07-inspect unshare --monotonic 86400 --boottime 315360000 time -- sh -c 'cat /proc/self/timens_offsets; date +%Y; uptime -s | cut -d- -f1' 2>/dev/null"
    type_line "ch07-inspect unshare time -- bash -c 'echo \"boottime 60 0\" >/proc/self/timens_offsets' 2>&1 | tail -n 1"
    type_line 'ch07-inspect unshare --monotonic -1000000000 time -- true'
    type_line 'setpriv --bounding-set -sys_time ch07-inspect unshare --monotonic 60 time -- true'
    save ch07-time
}

session_ch07_pidfd() {
    # enter joins all namespaces with one setns(2) on a pidfd (5.8).
    start
    type_line "PID=\$(unshare --uts --net sh -c 'hostname boxed; sleep 1000 >/dev/null 2>&1 & echo \$!')"
    type_line 'strace -e trace=pidfd_open,setns -e signal=none ch07-inspect enter $PID hostname'
    type_line 'kill $PID'
    save ch07-pidfd
}

session_ch07_spawn() {
    # clone3 with CLONE_INTO_CGROUP and CLONE_PIDFD (5.7).
    start
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount -t cgroup2 none /mnt && mkdir /mnt/demo-$$'
    type_line "ch07-inspect spawn /mnt/demo-\$\$ -- sh -c 'grep ^0:: /proc/self/cgroup'"
    type_line 'grep ^0:: /proc/self/cgroup'
    type_line 'rmdir /mnt/demo-$$; exit'
    save ch07-spawn
}

session_ch07_idmap() {
    # An idmapped bind mount (mount_setattr, MOUNT_ATTR_IDMAP, 5.12).
    start
    type_line "unshare --mount env PS1='stand-in# ' bash --norc"
    type_line 'mount -t tmpfs none /mnt && mkdir /mnt/src /mnt/dst && touch /mnt/src/file'
    type_line "PID=\$(unshare --user sh -c 'sleep 1000 >/dev/null 2>&1 & echo \$!')"
    type_line "echo '0 1000 1' >/proc/\$PID/uid_map; echo '0 1000 1' >/proc/\$PID/gid_map"
    type_line 'ch07-inspect idmap /proc/$PID/ns/user /mnt/src /mnt/dst'
    type_line "stat -c '%u:%g %n' /mnt/src/file /mnt/dst/file"
    type_line 'setpriv --reuid 1000 --regid 1000 --clear-groups touch /mnt/dst/new'
    type_line "stat -c '%u:%g %n' /mnt/src/new /mnt/dst/new"
    type_line 'touch /mnt/dst/by-root'
    type_line 'kill $PID; exit'
    save ch07-idmap
}

session_live_ch07() {
    # Whole-system views: what they list depends on everything that
    # runs on the machine, and cost measures time. Recorded, but in
    # live/, which the book's checks do not compare.
    start
    type_line 'ch07-inspect limits'
    type_line 'ch07-inspect tree'
    type_line 'ch07-inspect cost'
    save live/ch07-system
}

session_live_ch07_cgroup() {
    # What /proc/self/cgroup shows depends on the host's cgroup layout
    # (v2, v1 or hybrid) and on where the session runs: live/, not
    # compared.
    start
    type_line 'cat /proc/self/cgroup'
    type_line 'ch07-inspect unshare cgroup -- cat /proc/self/cgroup'
    save live/ch07-cgroup
}

session_errors() {
    # Every error message the chapters print, as the troubleshooting
    # page lists them.
    start
    type_line 'setpriv --reuid=nobody --regid=nogroup --clear-groups ch01-uts hostname; echo "exit status $?"'
    type_line 'ch01-uts nslab-no-such-command; echo "exit status $?"'
    type_line 'ch01-uts /etc/passwd; echo "exit status $?"'
    type_line 'ch01-uts --frobnicate; echo "exit status $?"'
    # A limit of 0, set in a throwaway user namespace (not on the host).
    type_line "unshare --user --map-root-user sh -c 'echo 0 >/proc/sys/user/max_pid_namespaces; ch03-pid true; echo \"exit status \$?\"'"
    # The maps cannot be written when /proc is not there (an empty
    # tmpfs over it, in a throwaway mount namespace).
    type_line "unshare --mount sh -c 'mount -t tmpfs none /proc && ch05-user --map-root -- true'; echo \"exit status \$?\""
    save errors
}

session_errors_ch07() {
    start
    type_line 'ch07-inspect frobnicate'
    type_line 'ch07-inspect ns 999999'
    type_line 'ch07-inspect list foo'
    type_line 'ch07-inspect enter /etc/passwd'
    type_line 'ch07-inspect release /tmp'
    type_line "setpriv --reuid=nobody --regid=nogroup --clear-groups env PS1='user\$ ' bash --norc"
    type_line 'ch07-inspect ns 1'
    type_line 'ch07-inspect unshare uts'
    type_line 'exit'
    save errors-ch07
}

# The groups that names on the command line select, and their sessions,
# all started at once.
run intro intro
run ch01-uts ch01
run ch02-ipc ch02
run ch02-ipc ch02_posix
run ch03-pid ch03
run ch03-pid ch03_signals
run ch03-pid ch03_rules
run ch04-mount ch04
run ch04-mount ch04_root
run ch04-mount ch04_propagation
run ch04-mount ch04_fields
run ch04-mount ch04_binding
run ch04-mount ch04_pivot
run ch05-user ch05
run ch05-user ch05_nonroot
run ch05-user ch05_mounts
run ch05-user ch05_maps
run ch05-user ch05_ranges
run ch06-net ch06
run ch06-net ch06_nonroot
run ch06-net ch06_veth
run ch06-net ch06_rules
run ch07-inspect ch07
run ch07-inspect ch07_one_way
run ch07-inspect ch07_fd
run ch07-inspect ch07_parent
run ch07-inspect ch07_siblings
run ch07-inspect ch07_children
run ch07-inspect ch07_time_children
run ch07-inspect ch07_owned
run ch07-inspect ch07_mounts
run ch07-inspect ch07_cgroupns
run ch07-inspect ch07_time
run ch07-inspect ch07_pidfd
run ch07-inspect ch07_spawn
run ch07-inspect ch07_idmap
run ch07-inspect live_ch07
run ch07-inspect live_ch07_cgroup
run errors errors
run errors errors_ch07

for i in "${!pids[@]}"; do
    wait "${pids[i]}" || failed+=("${names[i]}")
done
pids=()
if ((${#failed[@]})); then
    echo "gen-transcripts: sessions that failed: ${failed[*]}" >&2
    exit 1
fi
