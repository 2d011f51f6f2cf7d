#!/usr/bin/env python3
"""Prints the mount table as a process whose root is DIR reads it.

Usage: python3 book/demos/mountinfo-from.py DIR

/proc/PID/mountinfo is written for the root of the process that opens
it: mount points are shown relative to that root, mounts outside it are
left out, and a slave whose master peer group has no mount under that
root gets a `propagate_from:N` field naming the nearest peer group
upstream that does. This process opens /proc/self first, chroot(2)s to
DIR (root only), then opens mountinfo through that directory: DIR needs
no /proc and no programs of its own.
"""

import os
import sys

if len(sys.argv) != 2:
    sys.exit(__doc__.strip().splitlines()[2])
proc_self = os.open("/proc/self", os.O_RDONLY | os.O_DIRECTORY)
os.chroot(sys.argv[1])
table = os.open("mountinfo", os.O_RDONLY, dir_fd=proc_self)
text = b""
while chunk := os.read(table, 65536):
    text += chunk
sys.stdout.write(text.decode())
