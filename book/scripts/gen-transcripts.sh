#!/usr/bin/env bash
# Writes book/src/generated/*.txt: transcripts of real sessions with the
# chapter programs. Each session runs in a fresh tmux terminal: the script
# types the lines a reader would type, waits for the prompt, and saves
# what the terminal shows. Needs root and tmux.
#
# Usage, as root, from anywhere:
#   bash book/scripts/gen-transcripts.sh              # all transcripts
#   bash book/scripts/gen-transcripts.sh ch03-pid     # only those named
#   bash book/scripts/gen-transcripts.sh --out DIR    # write elsewhere
#
# The programs come from $NSLAB_BIN_DIR when it is set; otherwise the
# script builds them with cargo into ${CARGO_TARGET_DIR:-target}.
#
# Prompts: `host#` is a root shell on the host, `user$` an ordinary
# user's shell on the host; inside a chapter, the
# shell shows `user@hostname:dir#` (or `$` for a user who is not root),
# so a changed hostname or user shows up in the prompt itself.
set -euo pipefail

book=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
repo=$(dirname "$book")
out=$book/src/generated
only=()
while (($#)); do
    case $1 in
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
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
for chapter in ch01-uts ch02-ipc ch03-pid ch04-mount ch05-user ch06-net ch07-inspect; do
    [[ -x $bin/$chapter ]] || {
        echo "gen-transcripts: no $bin/$chapter: build the workspace first" >&2
        exit 1
    }
done
mkdir -p "$out"

# A home of our own: the same prompts on every machine, no user's rc.
home=$(mktemp -d /tmp/nslab-transcripts.XXXXXX)
chmod 755 "$home"
socket=nslab-transcripts-$$
cleanup() {
    tmux -L "$socket" kill-server 2>/dev/null || true
    sleep 0.2
    rm -rf "$home"
}
trap cleanup EXIT

cat >"$home/host.rc" <<'RC'
PS1='host# '
unset HISTFILE
RC
# Read by the interactive bash that a chapter starts inside.
cat >"$home/.bashrc" <<'RC'
PS1='\u@\h:\w\$ '
unset HISTFILE
RC
cat >"$home/tmux.conf" <<'CONF'
set -g status off
set -g history-limit 5000
CONF

tm() { tmux -L "$socket" -f "$home/tmux.conf" "$@"; }

# The terminal (tmux window) that the helpers below type into and read.
win=nslab:main

# What the terminal shows, from the first line of its history.
screen() { tm capture-pane -p -J -S - -t "$win"; }

# The line the cursor is on.
cursor_line() {
    local y
    y=$(tm display-message -p -t "$win" '#{cursor_y}')
    tm capture-pane -p -t "$win" | sed -n "$((y + 1))p"
}

# A prompt ends the cursor's line; after ^C it may follow other text.
prompt_re='(^|[^ ])(host#|user\$|[a-z]+@[^ ]+:[^ ]*[#$])$'

# Waits until the terminal changed from $1, shows a prompt at the cursor
# and has stopped changing.
wait_for_prompt() {
    local before=$1 last="" now deadline=$((SECONDS + 30))
    while :; do
        sleep 0.25
        now=$(screen)
        if [[ $now != "$before" && $now == "$last" ]] &&
            [[ $(cursor_line) =~ $prompt_re ]]; then
            return
        fi
        last=$now
        if ((SECONDS > deadline)); then
            echo "gen-transcripts: no prompt after 30 s; the screen:" >&2
            echo "$now" >&2
            exit 1
        fi
    done
}

host_shell=(env -i HOME="$home" TERM=xterm LANG=C.UTF-8
    PATH="$bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    bash --noprofile --rcfile "$home/host.rc" -i)

# Starts a fresh terminal with a root shell on the host, in $home.
start() {
    tm kill-server 2>/dev/null || true
    tm new-session -d -s nslab -n main -x 200 -y 50 -c "$home" "${host_shell[@]}"
    win=nslab:main
    wait_for_prompt ""
}

# Opens a second terminal (window NAME) with a root shell on the host.
second_terminal() {
    tm new-window -d -t nslab -n "$1" -c "$home" "${host_shell[@]}"
    win=nslab:$1
    wait_for_prompt ""
}

# Types a line and Enter, then waits for the next prompt.
type_line() {
    local before
    before=$(screen)
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
    before=$(screen)
    tm send-keys -t "$win" "$1"
    wait_for_prompt "$before"
}

# Saves the terminal as $out/$1.txt, without the last, empty prompt.
keep_screen() {
    mkdir -p "$(dirname "$out/$1.txt")"
    screen | sed 's/[[:space:]]*$//' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' |
        sed '$d' >"$out/$1.txt"
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

# ---------------------------------------------------------------------
# The sessions. Each one is what its chapter's page tells the reader to
# try, typed into a real terminal.

if wanted intro; then
    start
    type_line 'ls -l --time-style=+ /proc/$$/ns'
    type_line 'grep . /proc/sys/user/max_*_namespaces'
    save intro
fi

if wanted ch01-uts; then
    start
    type_line 'hostname'
    type_line 'readlink /proc/$$/ns/uts'
    type_line 'ch01-uts'
    type_line 'hostname bash; hostname'
    type_line 'readlink /proc/$$/ns/uts'
    type_line 'exit'
    type_line 'hostname'
    save ch01-uts
fi

if wanted ch02-ipc; then
    start
    type_line 'ipcmk -Q'
    queue=$(tm capture-pane -p -t "$win" | sed -n 's/^Message queue id: //p' | tail -1)
    type_line 'ipcs -q'
    type_line 'ch02-ipc'
    type_line 'ipcs -q'
    type_line 'exit'
    type_line "ipcrm -q $queue"
    save ch02-ipc
fi

if wanted ch03-pid; then
    start
    type_line 'echo $$'
    type_line 'ch03-pid'
    type_line 'echo $$'
    type_line 'exit'
    save ch03-pid

    # PID 1 drops the signals it has no handler for.
    start
    type_and_go 'ch03-pid -- sleep 100'
    sleep 1
    tm send-keys -t "$win" C-c
    sleep 1
    press_then_prompt C-c
    type_line 'echo $?'
    # --init: a tiny init is PID 1, the command PID 2 and Ctrl-C works.
    type_line "ch03-pid --init -- sh -c 'echo \"my PID is \$\$\"'"
    type_and_go 'ch03-pid --init -- sleep 100'
    sleep 1
    press_then_prompt C-c
    type_line 'echo $?'
    # When PID 1 exits, the kernel kills the rest of its namespace.
    type_line "ch03-pid -- sh -c 'sleep 4242 & echo \"sleep is PID \$!\"'"
    type_line "pgrep -x -f 'sleep 4242' || echo 'no sleep 4242 left'"
    save ch03-signals
fi

if wanted ch04-mount; then
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
fi

if wanted ch05-user; then
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

    # Without root: an ordinary user (here nobody) runs the chapter.
    start
    type_line "setpriv --reuid=nobody --regid=nogroup --clear-groups env PS1='user\$ ' bash --norc"
    type_line 'id'
    type_line 'ch05-user -- id'
    type_line "ch05-user --map-root -- sh -c 'id; cat /proc/self/uid_map'"
    type_line 'exit'
    save ch05-user-nonroot
fi

if wanted ch06-net; then
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

    # Without root, as in chapter 5.
    start
    type_line "setpriv --reuid=nobody --regid=nogroup --clear-groups env PS1='user\$ ' bash --norc"
    type_line "ch06-net --map-root -- sh -c 'id -u; ip link set lo up && ping -c1 -q 127.0.0.1'"
    type_line 'exit'
    save ch06-net-nonroot
fi

if wanted ch07-inspect; then
    # Two terminals: a chapter runs in the first, the inspector in the
    # second, as the page describes.
    start
    type_line 'ch05-user --map-root'
    type_line 'hostname box'
    second_terminal inspector
    type_line 'PID=$(pgrep -P "$(pgrep -n -x ch05-user)"); echo $PID'
    type_line 'ch07-inspect ns $PID'
    type_line 'ch07-inspect diff $$ $PID'
    type_line 'ch07-inspect list | grep -w -e NPROCS -e $PID'
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

    # Whole-system views: what they list depends on everything that
    # runs on the machine, and cost measures time. Recorded, but in
    # live/, which the book's checks do not compare.
    start
    type_line 'ch07-inspect limits'
    type_line 'ch07-inspect tree'
    type_line 'ch07-inspect cost'
    save live/ch07-system
fi

if wanted errors; then
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
fi
