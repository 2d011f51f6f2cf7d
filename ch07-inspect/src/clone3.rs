//! clone3(2), which `cost` needs for the time namespace (clone(2) has
//! no room for its flag: 0x80 is in the byte that holds clone(2)'s exit
//! signal) and `spawn` for CLONE_PIDFD with CLONE_INTO_CGROUP.

/// clone3(2)'s argument, version 2 (88 bytes): the `cgroup` field came
/// with CLONE_INTO_CGROUP (Linux 5.7). An older kernel takes it too,
/// as long as the fields it does not know are 0.
#[repr(C)]
#[derive(Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

/// clone3(2) with no stack: like fork(2), the child runs on a copy of
/// our memory. Returns 0 in the child, the child's PID in the parent,
/// or the errno.
///
/// # Safety
///
/// As for fork(2): the caller is single-threaded, and the child only
/// execs or calls `_exit(2)`. Whatever `args` points to (a `pidfd` to
/// write, a `cgroup` fd) must be valid for the call.
pub unsafe fn clone3(args: &CloneArgs) -> Result<i32, nix::errno::Errno> {
    // SAFETY: clone3 reads `args` (its size is given) and writes only
    // where it points, which the caller vouches for.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            args as *const CloneArgs,
            size_of::<CloneArgs>(),
        )
    };
    match pid {
        -1 => Err(nix::errno::Errno::last()),
        pid => Ok(pid as i32),
    }
}
