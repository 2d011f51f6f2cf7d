#!/bin/sh
# vm/provision.sh: make a fresh Debian or Ubuntu machine ready for the
# nslab workshop: the packages, Rust for the user who works through the
# course, the repository cloned into their home, its crates fetched, and
# a preflight.sh that says "ready".
#
# Usage, as root:
#   NSLAB_USER=NAME NSLAB_SOURCE=REPOSITORY sh provision.sh
#
#   NSLAB_USER    the user who works through the course; the user must
#                 exist (a VM image makes one: lima's, vagrant, WSL's).
#                 Default: the user who ran sudo ($SUDO_USER).
#   NSLAB_SOURCE  what to clone: a path (a checkout shared into the VM)
#                 or a git URL. Default: the checkout this file is in.
#   NSLAB_RUSTUP_INIT  a rustup installer to run in place of the one
#                 downloaded from https://sh.rustup.rs (for a machine
#                 that cannot reach it; vm/test-provision.sh uses it).
#
# The Lima template (vm/lima.yaml), the Vagrantfile (vm/Vagrantfile) and
# the WSL2 recipe of the book's page "A Linux machine on any laptop" run
# this script. Each step says what it does, and each can run again:
# what is already there is left as it is. Nothing here needs a terminal.
#
# Exit status: 0 when preflight.sh says "ready" for the user; otherwise
# the status of the step that failed, with its error above.
set -eu

say() { printf '\n== provision: %s\n' "$*"; }
die() {
    printf 'provision.sh: %s\n' "$1" >&2
    [ -z "${2:-}" ] || printf 'hint: %s\n' "$2" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] ||
    die "needs root (it installs packages)" "run it with sudo, or as root"
command -v apt-get >/dev/null ||
    die "no apt-get: this script knows Debian and Ubuntu only" \
        "install the packages of the README's apt line with your distribution's tool, then Rust with rustup"

user=${NSLAB_USER:-${SUDO_USER:-}}
[ -n "$user" ] ||
    die "no user: set NSLAB_USER to the user who works through the course" \
        "NSLAB_USER=\$(logname) sh provision.sh"
getent passwd "$user" >/dev/null ||
    die "no user named $user" "create one (adduser $user), or name another in NSLAB_USER"
home=$(getent passwd "$user" | cut -d: -f6)
here=$(cd "$(dirname "$0")/.." && pwd)
source=${NSLAB_SOURCE:-$here}
clone=$home/nslab

# Runs a command as the user, in their home, with a login shell's PATH
# (which has ~/.cargo/bin once rustup has set it up).
as_user() {
    if [ "$user" = root ]; then
        (cd "$home" && HOME=$home sh -lc "$1")
    else
        su - "$user" -s /bin/sh -c "$1"
    fi
}

say "1/6 packages: the course's tools (the README's apt line), git, curl, sudo"
packages="bash hostname util-linux mount procps iproute2 iputils-ping
    busybox-static tmux python3 bsdutils strace diffutils uidmap gcc libc6-dev
    git curl ca-certificates sudo"
# Only what is missing: a second run, or a VM started again where there
# is no network, has nothing to install and needs no network.
missing=
for package in $packages; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null |
        grep -q ' ok installed$' || missing="$missing $package"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
    echo "all installed already"
fi

say "2/6 sudo for $user"
if [ "$user" = root ]; then
    echo "root works as root: no sudo needed"
elif su - "$user" -s /bin/sh -c 'sudo -n true' 2>/dev/null; then
    echo "$user has sudo already"
else
    # The attendee's own VM: root without a password, as Lima and
    # Vagrant give their users. One file per user (sudo skips a name
    # with a dot in it, so a dot becomes _).
    rule=/etc/sudoers.d/nslab-$(printf '%s' "$user" | tr -c 'A-Za-z0-9_-' _)
    printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$user" >"$rule"
    chmod 0440 "$rule"
    echo "wrote $rule: $user may sudo without a password"
fi

say "3/6 Rust for $user (rustup: stable, minimal, with rustfmt and clippy)"
if as_user 'command -v cargo' >/dev/null 2>&1; then
    echo "$user has cargo already: $(as_user 'cargo --version')"
else
    init=$(mktemp)
    if [ -n "${NSLAB_RUSTUP_INIT:-}" ]; then
        echo "the installer: $NSLAB_RUSTUP_INIT (NSLAB_RUSTUP_INIT), not a download"
        cp "$NSLAB_RUSTUP_INIT" "$init"
    else
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs -o "$init" ||
            die "cannot download https://sh.rustup.rs" \
                "check the VM's network, or set NSLAB_RUSTUP_INIT to a downloaded copy"
    fi
    chmod 0755 "$init"
    as_user "sh '$init' -y --profile minimal --component rustfmt,clippy"
    rm -f "$init"
fi

say "4/6 the repository, cloned into $clone"
if [ -e "$clone/.git" ]; then
    echo "$clone is a clone already: left as it is"
else
    # A checkout shared from the host may belong to another UID than the
    # user's: git refuses to read it unless told that it is safe, which
    # only a global setting can say (git 2.39 ignores `-c`); this one
    # holds for the clone only.
    safe=$(mktemp)
    printf '[safe]\n\tdirectory = *\n[advice]\n\tdetachedHead = false\n' >"$safe"
    chmod 0644 "$safe"
    as_user "GIT_CONFIG_GLOBAL='$safe' git clone --quiet '$source' '$clone'"
    rm -f "$safe"
    echo "cloned $source"
fi

say "5/6 the crates, so that the first build needs no network"
# Offline first: when they are all there, no network is needed.
as_user "cd '$clone' && { cargo fetch --offline --quiet 2>/dev/null || cargo fetch --quiet; }"

say "6/6 preflight.sh as $user"
as_user "cd '$clone' && sh preflight.sh"
