#!/bin/sh
# Makes DIR a minimal root file system for `ch04-mount --root DIR`: one
# statically linked busybox (a shell and ~300 tools in one file that
# needs no library), a symlink per tool, and the directories and files
# a shell and `ps` expect. A static binary matters: after pivot_root the
# host's /lib is gone, so a dynamically linked shell could not start.
#
# Usage:   sh ch04-mount/make-rootfs.sh DIR
# Then:    ch04-mount --root DIR -- /bin/sh -c 'mount -t proc proc /proc; ps'
#
# busybox comes from $BUSYBOX, else /bin/busybox or the first busybox on
# PATH; it must be static (Debian: `apt install busybox-static`).
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: sh make-rootfs.sh DIR" >&2
    exit 2
fi
dir=$1

busybox=${BUSYBOX:-}
if [ -z "$busybox" ]; then
    for candidate in /bin/busybox /usr/bin/busybox "$(command -v busybox || true)"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then
            busybox=$candidate
            break
        fi
    done
fi
if [ -z "$busybox" ]; then
    echo "make-rootfs: no busybox found" >&2
    echo "hint: install a static one (Debian, Ubuntu: apt install busybox-static)," >&2
    echo "      or name one with BUSYBOX=/path/to/busybox" >&2
    exit 1
fi
# A dynamically linked ELF names its loader in a PT_INTERP header; the
# loader's path (/lib64/ld-linux-x86-64.so.2, /lib/ld-musl-...) is in
# the file. A static one has none.
if grep -q -a -e '/ld-linux' -e '/ld-musl' -e '/ld64.so' "$busybox"; then
    echo "make-rootfs: $busybox is dynamically linked: it would not start" \
        "where the host's /lib is gone" >&2
    echo "hint: install a static one (Debian, Ubuntu: apt install busybox-static)," >&2
    echo "      or name one with BUSYBOX=/path/to/busybox" >&2
    exit 1
fi

mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root
chmod 1777 tmp
chmod 700 root
cp "$busybox" bin/busybox
chmod 755 bin/busybox
# One relative symlink per applet, in bin/: they resolve inside DIR
# both before and after pivot_root.
for applet in $(bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "bin/$applet"
done
cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >etc/group <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo nslab-rootfs >etc/hostname
echo "make-rootfs: $dir is ready (busybox from $busybox)"
