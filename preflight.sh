#!/bin/sh
# preflight.sh: can this machine run the nslab workshop?
#
# Usage:   sh preflight.sh          (or: sudo sh preflight.sh)
#
# Run it before the workshop, on the machine you will use, as the user
# you will work as. As root it checks the most: it creates each
# namespace as root, as chapters 1 to 4 and the tests do. Through sudo
# it checks the Rust of the user who typed it (SUDO_USER), who builds
# as themselves (`cargo sudo-run`, `cargo sudo-test`). It needs nothing
# but a POSIX shell: Rust need not be installed yet, and the rest of
# the repository need not be there either (it reads the Rust version
# from Cargo.toml when it lies beside it). It changes nothing: it only
# reads settings and starts `unshare ... true` once per namespace type.
#
# It prints one line per requirement: OK, FAIL (with what to do about
# it), or WARN (advisory: something a part of the course wants).
#
# Required (a FAIL makes the exit status 1): Linux >= 5.6; each of the
#   eight namespace types can be created; user namespaces allowed for an
#   ordinary user (chapter 5 runs as one, and so do the tests); root, or
#   sudo; Rust >= the workspace's rust-version, and a C toolchain for
#   the static link; the tools typed inside the chapters; the tools the
#   tests use (tmux, python3, script, strace, diff).
# Advisory (WARN, exit status unchanged): Linux >= 5.8 (only for
#   `ch06-net --veth`, and for ch07's setns on a pidfd, which `enter`
#   does one namespace at a time without it); Linux >= 5.7 and 5.12
#   (only for `ch07-inspect spawn` and `idmap`); mdBook 0.5.4 (only to
#   build the book yourself).
#
# Exit status: 0 when every chapter and the tests can run here, 1 when
# a required check failed.

# The workspace's rust-version, used when Cargo.toml is not beside this
# file (a test keeps the two equal).
RUST_VERSION=1.88
MDBOOK_VERSION=0.5.4

failed=0
packages=''

ok() { printf 'OK   %s\n' "$*"; }
warn() { printf 'WARN %s\n' "$*"; }
fail() {
    printf 'FAIL %s\n' "$*"
    failed=$((failed + 1))
}
# Adds a Debian package to the install command printed at the end.
want_package() {
    case " $packages " in
    *" $1 "*) ;;
    *) packages="${packages:+$packages }$1" ;;
    esac
}
# The first program called $1 on PATH, by its path. Not `command -v`:
# busybox sh runs its own applets first by name, and busybox's unshare
# and setpriv lack options we use; an applet (a link to busybox) is
# skipped, the real program is run by its path.
find_tool() {
    f_ifs=$IFS
    IFS=:
    for f_dir in $PATH; do
        f_path=${f_dir:-.}/$1
        if [ -f "$f_path" ] && [ -x "$f_path" ]; then
            case $(readlink -f "$f_path" 2>/dev/null) in
            */busybox) ;;
            *)
                IFS=$f_ifs
                echo "$f_path"
                return 0
                ;;
            esac
        fi
    done
    IFS=$f_ifs
    return 1
}
have() { find_tool "$1" >/dev/null; }

# True when version $1 (X.Y or X.Y.Z...) is at least $2 (X.Y).
at_least() {
    v_major=${1%%.*}
    v_rest=${1#*.}
    v_minor=${v_rest%%[!0-9]*}
    w_major=${2%%.*}
    w_minor=${2#*.}
    [ "$v_major" -gt "$w_major" ] ||
        { [ "$v_major" -eq "$w_major" ] && [ "${v_minor:-0}" -ge "$w_minor" ]; }
}

# A scratch directory: in TMPDIR, or where it is unusable (checked
# below), /tmp or /var/tmp.
scratch=''
for dir in "${TMPDIR:-/tmp}" /tmp /var/tmp; do
    scratch=$(mktemp -d "$dir/nslab-preflight.XXXXXX" 2>/dev/null) && break
done
if [ -z "$scratch" ]; then
    echo "nslab preflight: cannot create a temporary directory in ${TMPDIR:-/tmp}, /tmp or /var/tmp; set TMPDIR to a writable directory" >&2
    exit 1
fi
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

uid=$(id -u)
here=$(dirname "$0")

# Under sudo, the user who typed it: they build, and root runs.
builder=''
if [ "$uid" -eq 0 ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    builder=$SUDO_USER
    builder_home=$(getent passwd "$builder" | cut -d: -f6)
fi

echo "nslab preflight: $(uname -srm), as $(id -un) (uid $uid)"
if [ -n "$builder" ]; then
    echo "(through sudo, for $builder: each namespace is created as root, as chapters 1 to 4 and the tests do, and an ordinary user's user namespace is tried as nobody; Rust is checked for $builder, who builds)"
elif [ "$uid" -ne 0 ]; then
    echo "(not root: each namespace is tried inside a user namespace of its own; \`sudo sh preflight.sh\` also creates them as root, as chapters 1 to 4 and the tests do)"
fi

# cargo and the tests make their files in TMPDIR.
if [ -n "${TMPDIR:-}" ] && ! { [ -d "$TMPDIR" ] && [ -w "$TMPDIR" ]; }; then
    fail "TMPDIR=$TMPDIR: not a writable directory (cargo and the tests write there); \`export TMPDIR=/tmp\`, or create it"
fi

# --- the kernel ------------------------------------------------------

release=$(uname -r)
version=${release%%[!0-9.]*}
if ! at_least "$version" 5.6; then
    fail "Linux $release: the time namespace needs Linux >= 5.6; use a newer kernel (a current distribution, or WSL2)"
elif ! at_least "$version" 5.8; then
    ok "Linux $release (>= 5.6)"
    warn "Linux $release: \`ch06-net --veth\` and setns(2) on a pidfd (ch07) need Linux >= 5.8 (everything else runs)"
    if ! at_least "$version" 5.7; then
        warn "Linux $release: \`ch07-inspect spawn\` (clone3 into a cgroup) needs Linux >= 5.7"
    fi
    warn "Linux $release: \`ch07-inspect idmap\` (idmapped mounts) needs Linux >= 5.12"
elif ! at_least "$version" 5.12; then
    ok "Linux $release (>= 5.8)"
    warn "Linux $release: \`ch07-inspect idmap\` (idmapped mounts) needs Linux >= 5.12 (everything else runs)"
else
    ok "Linux $release (>= 5.6; >= 5.8 for \`ch06-net --veth\` and setns on a pidfd; >= 5.12 for idmapped mounts)"
fi

# --- each namespace type ---------------------------------------------

# Runs unshare with the flags of type $1 (as root, or in a user
# namespace of our own otherwise); its error is left in $scratch/err.
try_unshare() {
    case $1 in
    mnt) t_flags=--mount ;;
    pid) t_flags='--pid --fork' ;;
    *) t_flags=--$1 ;;
    esac
    if [ "$uid" -eq 0 ] || [ "$1" = user ]; then
        # shellcheck disable=SC2086 # two words for pid
        "$unshare" $t_flags true 2>"$scratch/err"
    else
        # shellcheck disable=SC2086
        "$unshare" --user --map-root-user $t_flags true 2>"$scratch/err"
    fi
}

unshare=$(find_tool unshare)
setpriv=$(find_tool setpriv)

for type in mnt uts ipc pid net user cgroup time; do
    if [ ! -e "/proc/self/ns/$type" ]; then
        fail "namespace $type: this kernel has none (/proc/self/ns/$type is missing); use a distribution kernel, Linux >= 5.6"
        continue
    fi
    if ! have unshare; then
        warn "namespace $type: the kernel has it; not tried, no \`unshare\` (see util-linux below)"
        continue
    fi
    if try_unshare "$type"; then
        if [ "$uid" -eq 0 ] || [ "$type" = user ]; then
            ok "namespace $type: created one"
        else
            ok "namespace $type: created one, inside a user namespace of its own (rerun as root to try without)"
        fi
        continue
    fi
    error=$(head -n 1 "$scratch/err")
    case $error in
    *nrecognized* | *nvalid\ option*)
        warn "namespace $type: the kernel has it; not tried, this unshare is too old (util-linux >= 2.36)"
        ;;
    *"No space left"*)
        fail "namespace $type: $error; the limit is 0 or used up: \`sysctl -w user.max_${type}_namespaces=15000\`"
        ;;
    *"not permitted"*)
        if [ "$uid" -eq 0 ]; then
            fail "namespace $type: $error, as root: a container, or a seccomp filter? Use a virtual machine"
        else
            fail "namespace $type: $error; ordinary users need user namespaces (below), or rerun as root"
        fi
        ;;
    *)
        fail "namespace $type: $error"
        ;;
    esac
done

# --- user namespaces for an ordinary user ----------------------------

# A setting that keeps ordinary users from user namespaces, if any.
userns_off=''
max_user=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo '')
if [ "$max_user" = 0 ]; then
    userns_off="user.max_user_namespaces = 0: \`sysctl -w user.max_user_namespaces=15000\` (and in /etc/sysctl.d/ to keep it)"
elif [ "$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null)" = 0 ]; then
    userns_off="kernel.unprivileged_userns_clone = 0 (a Debian setting): \`sysctl -w kernel.unprivileged_userns_clone=1\`"
elif [ "$(cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns 2>/dev/null)" = 1 ]; then
    userns_off="kernel.apparmor_restrict_unprivileged_userns = 1 (Ubuntu >= 23.10): \`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\`, or an AppArmor profile (book: Troubleshooting)"
fi

# Tries what chapter 5 does as an ordinary user: a user namespace with a
# map (which the AppArmor restriction refuses). As root, as nobody.
if ! have unshare; then
    tried='not tried (no unshare)'
elif [ "$uid" -ne 0 ]; then
    if "$unshare" --user --map-root-user true 2>"$scratch/err"; then
        tried=ok
    else
        tried=$(head -n 1 "$scratch/err")
    fi
elif have setpriv; then
    # From / : nobody may not be able to reach the current directory.
    if (cd / && "$setpriv" --reuid=65534 --regid=65534 --clear-groups \
        "$unshare" --user --map-root-user true) 2>"$scratch/err"; then
        tried=ok
    else
        tried=$(head -n 1 "$scratch/err")
    fi
else
    tried='not tried (no setpriv)'
fi

if [ "$tried" = ok ] && [ -z "$userns_off" ]; then
    ok "user namespaces for an ordinary user: allowed (chapter 5 runs without root)"
elif [ -n "$userns_off" ]; then
    fail "user namespaces for an ordinary user: off, $userns_off"
elif [ "$tried" = "${tried#not tried}" ]; then
    fail "user namespaces for an ordinary user: $tried (a seccomp filter or a security module?); use a virtual machine"
else
    ok "user namespaces for an ordinary user: allowed by the settings; $tried"
fi

# --- root ------------------------------------------------------------

if [ -n "$builder" ]; then
    ok "root: running as root, through sudo for $builder"
elif [ "$uid" -eq 0 ]; then
    ok "root: running as root"
elif have sudo && sudo -n true 2>/dev/null; then
    ok "root: sudo works"
elif have sudo; then
    warn "root: sudo is installed but wants a password; check that \`sudo true\` works for you"
else
    fail "root: not root and no sudo; chapters 1 to 4 and the tests need root: work in a root shell (\`su -\`), or install sudo (\`apt-get install sudo\`, then \`adduser $(id -un) sudo\`)"
fi

# --- the checkout ----------------------------------------------------

# The first directory on the way to $1 (itself included) that other
# users may not enter, if any: a home of mode 0700 (Debian's adduser
# makes them so), or /root.
closed_to_others() {
    c_dir=$(cd "$1" && pwd -P) || return 1
    while :; do
        # Printed when others may search it (POSIX find: -prune, -perm).
        if [ -z "$(find "$c_dir" -prune -perm -0001)" ]; then
            echo "$c_dir"
            return 0
        fi
        [ "$c_dir" = / ] && return 1
        c_dir=$(dirname "$c_dir")
    done
}

if [ -f "$here/Cargo.toml" ] && closed=$(closed_to_others "$here"); then
    warn "checkout: $closed is closed to other users (a home of mode 0700?), so nobody, and root inside a user namespace, cannot reach target/debug: the tests run copies, but for the book's sessions as nobody copy the chapter elsewhere (book: Troubleshooting, \"A checkout in a private home\")"
fi

# --- Rust ------------------------------------------------------------

if [ -f "$here/Cargo.toml" ]; then
    want_rust=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$here/Cargo.toml")
fi
want_rust=${want_rust:-$RUST_VERSION}
rustup_hint="install Rust with rustup: \`curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh\` (https://rustup.rs), not Debian's rustc, which is older"

# The version that the rustc given as "$@" prints, or nothing.
rust_version() {
    "$@" --version 2>/dev/null | sed -n 's/^rustc \([0-9][0-9.]*\).*/\1/p'
}

# Checks the Rust that "$@" runs (rustc, or a command that runs it as
# someone); $1 of the checks' words is whose it is, if not ours.
check_rust() {
    r_whose=$1
    shift
    rust=$(rust_version "$@")
    if [ -z "$rust" ]; then
        fail "Rust${r_whose:+ ($r_whose)}: \`rustc --version\` does not work; $rustup_hint"
    elif at_least "$rust" "$want_rust"; then
        ok "Rust $rust (>= $want_rust)${r_whose:+, $r_whose}"
    else
        fail "Rust $rust${r_whose:+ ($r_whose)}: the workspace needs >= $want_rust; \`rustup update stable\`, or $rustup_hint"
    fi
}

if [ -n "$builder" ]; then
    # Under sudo the Rust that counts is the invoking user's, who builds
    # (\`cargo sudo-run\`, \`cargo sudo-test\`); sudo's PATH does not have
    # their ~/.cargo/bin. Their rustc runs as them, never as root.
    b_bin=$builder_home/.cargo/bin
    if [ -x "$b_bin/rustc" ] && [ -x "$b_bin/cargo" ] && have setpriv; then
        check_rust "$builder's, in ~$builder/.cargo/bin: build as $builder" \
            "$setpriv" --reuid="$builder" --regid="$(id -g "$builder")" \
            --init-groups env HOME="$builder_home" "$b_bin/rustc"
    elif [ -x "$b_bin/rustc" ] && [ -x "$b_bin/cargo" ]; then
        warn "Rust: $builder has rustc and cargo in ~$builder/.cargo/bin; version not checked (no setpriv)"
    elif have rustc && have cargo; then
        check_rust "root's; $builder has none in ~$builder/.cargo/bin, so build as root (in a root shell)" rustc
    else
        fail "Rust: $builder has no rustc and cargo in ~$builder/.cargo/bin; as $builder (not with sudo), $rustup_hint"
    fi
elif have rustc && have cargo; then
    check_rust '' rustc
elif [ -x "$HOME/.cargo/bin/cargo" ]; then
    fail "Rust: installed in ~/.cargo/bin but not on PATH; \`. \"\$HOME/.cargo/env\"\` (or log in again)"
else
    fail "Rust: no rustc or cargo; $rustup_hint"
fi

# The chapters link statically on x86_64 (.cargo/config.toml), which
# needs glibc's libc.a.
if ! have cc; then
    fail "C toolchain: no \`cc\` (Rust links with it); apt-get install gcc libc6-dev"
    want_package gcc
    want_package libc6-dev
elif [ "$(uname -m)" = x86_64 ] &&
    [ "$(cc -print-file-name=libc.a)" = libc.a ]; then
    fail "C toolchain: no static libc (libc.a), for the static link; apt-get install libc6-dev"
    want_package libc6-dev
else
    ok "C toolchain: cc$([ "$(uname -m)" = x86_64 ] && echo ' and libc.a')"
fi

# --- tools -----------------------------------------------------------

# Checks that the commands $3... are on PATH; $1 is their Debian
# package, $2 what needs them.
tools() {
    t_package=$1
    t_for=$2
    shift 2
    t_missing=''
    for t_tool in "$@"; do
        have "$t_tool" || t_missing="${t_missing:+$t_missing }$t_tool"
    done
    if [ -z "$t_missing" ]; then
        ok "$t_package: $* ($t_for)"
    else
        fail "$t_package: no $t_missing ($t_for); apt-get install $t_package"
        want_package "$t_package"
    fi
}

tools bash "the chapters' shell" bash
tools hostname "chapter 1" hostname
tools util-linux "chapters 2, 5, 7" ipcmk ipcs ipcrm unshare nsenter lsns setpriv findmnt
tools mount "chapter 4" mount umount
tools procps "chapters 3, 4, 7" ps pgrep
tools iproute2 "chapter 6" ip
tools iputils-ping "chapter 6" ping
tools uidmap "chapter 5's --map-users" newuidmap newgidmap

# `ch04-mount --root` needs a static busybox (as make-rootfs.sh finds it).
busybox=${BUSYBOX:-}
for candidate in /bin/busybox /usr/bin/busybox "$(command -v busybox)"; do
    [ -n "$busybox" ] && break
    [ -n "$candidate" ] && [ -x "$candidate" ] && busybox=$candidate
done
if [ -z "$busybox" ]; then
    fail "busybox-static: no busybox (chapter 4's --root); apt-get install busybox-static"
    want_package busybox-static
elif grep -q -a -e '/ld-linux' -e '/ld-musl' -e '/ld64.so' "$busybox"; then
    fail "busybox-static: $busybox is dynamically linked (chapter 4's --root needs a static one); apt-get install busybox-static"
    want_package busybox-static
else
    ok "busybox-static: $busybox, static (chapter 4's --root)"
fi

tools tmux "the tests drive a terminal with it" tmux
tools python3 "the tests" python3
tools bsdutils "the tests" script
tools strace "the tests" strace
tools diffutils "the book's scripts" diff

# --- the book --------------------------------------------------------

mdbook=mdbook
if [ -n "$builder" ] && [ -x "$builder_home/.cargo/bin/mdbook" ]; then
    mdbook=$builder_home/.cargo/bin/mdbook
fi
if [ "$("$mdbook" --version 2>/dev/null)" = "mdbook v$MDBOOK_VERSION" ]; then
    ok "mdBook $MDBOOK_VERSION (the book)"
else
    warn "mdBook $MDBOOK_VERSION: $("$mdbook" --version 2>/dev/null || echo 'not found'); only to build the book: \`cargo install --locked mdbook --version $MDBOOK_VERSION\`"
fi

# --- verdict ---------------------------------------------------------

echo
if [ "$failed" -eq 0 ]; then
    echo "nslab preflight: ready, every chapter and the tests can run here"
    exit 0
fi
echo "nslab preflight: $failed required check(s) failed (FAIL above)"
if [ -n "$packages" ]; then
    echo "the missing packages, on Debian or Ubuntu: apt-get install $packages"
fi
exit 1
