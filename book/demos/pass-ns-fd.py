#!/usr/bin/env python3
"""Hands a namespace to another process over a UNIX socket.

Usage: python3 book/demos/pass-ns-fd.py PID

This process opens /proc/PID/ns/uts and sends the descriptor over a
socket pair (SCM_RIGHTS) to its child, which never names PID: the child
joins the namespace with setns(2), asking the kernel to check that it is
a UTS namespace, and prints the hostname it sees there. Needs
CAP_SYS_ADMIN (root) for setns.
"""

import ctypes
import os
import socket
import sys

CLONE_NEWUTS = 0x04000000
libc = ctypes.CDLL(None, use_errno=True)

ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
child = os.fork()
if child == 0:
    ours.close()
    _, fds, _, _ = socket.recv_fds(theirs, 16, 1)
    if libc.setns(fds[0], CLONE_NEWUTS) != 0:
        sys.exit("setns: " + os.strerror(ctypes.get_errno()))
    print(f"receiver: joined fd {fds[0]}, hostname {socket.gethostname()}")
    sys.stdout.flush()
    os._exit(0)
theirs.close()
fd = os.open(f"/proc/{sys.argv[1]}/ns/uts", os.O_RDONLY)
socket.send_fds(ours, [b"ns"], [fd])
os.close(fd)
_, status = os.waitpid(child, 0)
print(f"sender: still in its own, hostname {socket.gethostname()}")
sys.exit(os.waitstatus_to_exitcode(status))
