#!/usr/bin/env bash
# vm/test-provision.sh: runs vm/provision.sh on a fresh Debian 12 root
# file system, three times, as vm/lima.yaml, the WSL2 recipe and
# vm/Vagrantfile run it, and checks that its last step, preflight.sh as
# the course's user, says "ready" every time; then builds chapter 1
# there without network and runs it.
#
# Usage, as root:  bash vm/test-provision.sh
#
# The root file system comes from debootstrap (Debian's package) once,
# into a cache outside the repository (NSLAB_ROOTFS_CACHE, default
# /var/tmp/nslab-debian-bookworm, about 200 MB); every run then works on
# a throwaway overlay of it, in mount, PID, UTS and IPC namespaces of
# its own, and leaves the cache and the host as they were. The packages
# are downloaded by apt from Debian's mirror, the crates by cargo; what
# provision.sh downloads from https://sh.rustup.rs is replaced by
# vm/rustup-init-stub.sh (NSLAB_RUSTUP_INIT), which installs this
# machine's own rustup and toolchain for the user instead.
#
# Without root, or without a cached root file system and debootstrap to
# make one, it says why and exits 0 (skipped), unless
# NSLAB_REQUIRE_ROOT=1 (CI sets it): then it fails.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
me=vm/test-provision.sh
cache=${NSLAB_ROOTFS_CACHE:-/var/tmp/nslab-debian-bookworm}
mirror=${NSLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}

skip() {
    if [ "${NSLAB_REQUIRE_ROOT:-}" = 1 ]; then
        echo "$me: FAILED: $1 (NSLAB_REQUIRE_ROOT=1)" >&2
        exit 1
    fi
    echo "$me: SKIPPED: $1" >&2
    exit 0
}
fail() {
    echo "$me: FAILED: $1" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || skip "debootstrap, chroot and mounts need root"
if [ ! -x "$cache/rootfs/bin/sh" ]; then
    command -v debootstrap >/dev/null ||
        skip "no root file system in $cache and no debootstrap to make one (apt-get install debootstrap)"
    echo "$me: making $cache/rootfs with debootstrap (once; a few minutes)"
    rm -rf "$cache/rootfs.new"
    mkdir -p "$cache"
    debootstrap --variant=minbase bookworm "$cache/rootfs.new" "$mirror" \
        >"$cache/debootstrap.log" 2>&1 ||
        fail "debootstrap failed: see $cache/debootstrap.log"
    mv "$cache/rootfs.new" "$cache/rootfs"
fi
mkdir -p "$cache/apt-archives/partial"

toolchain=$(rustc --print sysroot)
rustup=$(command -v rustup) || fail "no rustup here, for the stub to install"
work=$(mktemp -d /var/tmp/nslab-provision.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/upper" "$work/work" "$work/root"
# The repository as a clone sees it: its last commit (commit a change
# to vm/ before testing it).
git -C "$repo" bundle create "$work/nslab.bundle" HEAD 2>/dev/null

# Inside: an overlay of the cached rootfs, the kernel's file systems,
# this machine's toolchain for the stub, apt's downloads kept in the
# cache, this machine's DNS and CAs; then the image's default user, as Lima, Vagrant and WSL make
# one (without sudo: provision.sh gives it), and provision.sh, twice.
inside=$(cat <<'INSIDE'
set -euo pipefail
root=$work/root
mount -t overlay overlay -o "lowerdir=$cache/rootfs,upperdir=$work/upper,workdir=$work/work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs tmpfs "$root/tmp"
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
mkdir -p "$root/opt/nslab-test/toolchain"
mount --bind "$toolchain" "$root/opt/nslab-test/toolchain"
mount -o remount,bind,ro "$root/opt/nslab-test/toolchain"
cp "$rustup" "$root/opt/nslab-test/rustup"
cp "$repo/vm/rustup-init-stub.sh" "$root/opt/nslab-test/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The checkout, as Lima shares it from the Mac and WSL2 from Windows'
# drive, and as Vagrant copies it to /vagrant.
git clone --quiet "$work/nslab.bundle" "$root/opt/nslab-test/checkout"
cp -a "$root/opt/nslab-test/checkout" "$root/vagrant"
# vm/lima.yaml's provisioning script, with Lima's variables filled in.
awk 'go { sub(/^    /, ""); print } /^  script: [|]$/ { go = 1 }' "$repo/vm/lima.yaml" |
    sed -e 's|{{.Param.NSLAB_SOURCE}}|/opt/nslab-test/checkout|g' -e 's|{{.User}}|student|g' \
        >"$root/opt/nslab-test/lima.sh"
if grep -q '{{' "$root/opt/nslab-test/lima.sh"; then
    echo "$me: vm/lima.yaml uses a variable this test does not fill in" >&2
    exit 1
fi
# The Vagrantfile's inline provisioner.
sed -n 's/^ *inline: "\(.*\)"$/\1/p' "$repo/vm/Vagrantfile" >"$root/opt/nslab-test/vagrant.sh"
[ -s "$root/opt/nslab-test/vagrant.sh" ] || { echo "$me: no inline provisioner in vm/Vagrantfile" >&2; exit 1; }
# This machine's own certificate authorities, which a network that
# inspects TLS needs in any machine on it (ca-certificates, installed
# by provision.sh, adds them to the system's list).
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
hostname nslab-vm
echo "127.0.1.1 nslab-vm" >>"$root/etc/hosts"
# Into it with pivot_root, as a VM's own root, not with chroot: the
# kernel refuses an ordinary user a new user namespace in a chroot, and
# preflight.sh checks that the user may create one.
cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
# The users that the VM images make: Lima's (your name, here student)
# and Vagrant's, both without sudo, which provision.sh gives them.
useradd --create-home --shell /bin/bash student
useradd --create-home --shell /bin/bash vagrant
run() {
    echo "== $me: run $1: $2"
    /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        NSLAB_RUSTUP_INIT=/opt/nslab-test/rustup-init-stub.sh \
        sh -c "$2" 2>&1 | tee "/opt/nslab-test/run$1.log"
}
# 1: Lima's provisioning script, as vm/lima.yaml has it, for student,
# with the checkout where the Mac's home directory would be shared.
run 1 "sh /opt/nslab-test/lima.sh"
# 2: the WSL2 recipe, typed by student with sudo, on a machine that
# provision.sh has made ready already, and with no network (a network
# namespace of its own): it must leave the machine as it is.
run 2 "unshare --net su - student -c 'sudo NSLAB_RUSTUP_INIT=/opt/nslab-test/rustup-init-stub.sh NSLAB_SOURCE=/opt/nslab-test/checkout sh /opt/nslab-test/checkout/vm/provision.sh'"
# 3: the Vagrantfile's provisioner, for vagrant, with the checkout
# copied to /vagrant.
run 3 "$(cat /opt/nslab-test/vagrant.sh)"
# 4: the machine is ready for chapter 1: student builds it offline (the
# crates were fetched) and runs it with sudo.
run 4 "su - student -c 'cd nslab && cargo build --offline --quiet -p ch01-uts && sudo target/debug/ch01-uts -- sh -c \"hostname bash; hostname\"'"
INSIDE
)
export work cache toolchain rustup repo me
unshare --mount --propagation private --pid --fork --uts --ipc bash -c "$inside" ||
    fail "provision.sh failed (above)"

# The logs, in the overlay's upper layer now that the namespaces ended.
logs=$work/upper/opt/nslab-test
for run in 1 2 3; do
    last=$(tail -n 1 "$logs/run$run.log")
    [ "$last" = "nslab preflight: ready, every chapter and the tests can run here" ] ||
        fail "run $run: preflight.sh did not end with ready: $last"
done
grep -q "all installed already" "$logs/run2.log" ||
    fail "run 2 installed packages again"
grep -q "has cargo already" "$logs/run2.log" ||
    fail "run 2 installed Rust again"
grep -q "is a clone already" "$logs/run2.log" ||
    fail "run 2 cloned again"
grep -q "preflight.sh as vagrant" "$logs/run3.log" ||
    fail "run 3 provisioned another user than vagrant"
[ "$(tail -n 1 "$logs/run4.log")" = bash ] ||
    fail "run 4: ch01-uts, built offline by student, did not print bash"
echo "$me: Lima's script, the WSL2 line and the Vagrantfile's provisioner each left a fresh Debian 12 ready (preflight.sh: ready), where chapter 1 builds offline and runs"
