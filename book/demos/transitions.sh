#!/usr/bin/env bash
# mount_namespaces(7)'s table for bind and move, measured: for each
# operation, each kind of mount it lands under (shared or private) and
# each type of source, the propagation type of the result, or
# "refused". Run it in a mount namespace of its own, which it fills
# with tmpfs mounts on /mnt and /srv:
#     unshare --mount bash book/demos/transitions.sh
set -u
mount -t tmpfs dst /mnt && mkdir /mnt/shared /mnt/private
mount -t tmpfs shared /mnt/shared && mount --make-shared /mnt/shared
mount -t tmpfs private /mnt/private && mount --make-private /mnt/private
mount -t tmpfs src /srv && mount --make-private /srv
n=0
# A fresh mount of type $1 at /srv/$n (a slave needs a master first).
source_of() {
    n=$((n + 1))
    mkdir /srv/$n
    case $1 in
    shared) mount -t tmpfs s /srv/$n && mount --make-shared /srv/$n ;;
    private) mount -t tmpfs p /srv/$n ;;
    slave)
        mkdir /srv/m$n && mount -t tmpfs m /srv/m$n &&
            mount --make-shared /srv/m$n &&
            mount --bind /srv/m$n /srv/$n && mount --make-slave /srv/$n
        ;;
    unbindable) mount -t tmpfs u /srv/$n && mount --make-unbindable /srv/$n ;;
    esac
}
printf '%-19s %-13s %-13s %-13s %s\n' "source:" shared private slave unbindable
for op in bind move; do
    for under in shared private; do
        printf '%-19s' "$op under $under:"
        for type in shared private slave unbindable; do
            source_of $type
            mkdir /mnt/$under/$n
            if mount --$op /srv/$n /mnt/$under/$n 2>/dev/null; then
                printf ' %-13s' "$(findmnt -no PROPAGATION /mnt/$under/$n)"
            else
                printf ' %-13s' refused
            fi
        done
        echo
    done
done
