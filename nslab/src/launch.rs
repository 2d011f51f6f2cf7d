//! Both sides of `clone(2)`: what the tool prepares before it, what the
//! child does before exec, and what the parent does until the end.

use std::error::Error;
use std::ffi::{CString, OsString};
use std::io::{IsTerminal, Write};
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::panic::AssertUnwindSafe;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::CloneFlags;
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::sys::termios::{SetArg, Termios, tcgetattr, tcsetattr};
use nix::unistd::{ForkResult, Gid, Pid, Uid, fork, pipe2, read, write};

use crate::cli::{Chapter, Options};
use crate::failure::{self, Failure};
use crate::signals::{self, Inherited};
use crate::{EXIT_TOOL_FAILED, exec, idmap, init, output, reap};

/// The child's stack: `clone` runs the child on memory we hand it.
pub const STACK_SIZE: usize = 1024 * 1024;

// ANCHOR: stack
/// Memory for the child's stack, mapped on its own with a guard page
/// below it (`PROT_NONE`), as youki does: `clone` is not told the size,
/// so a child that ran past the end would write over whatever lies
/// below; with the guard, it dies of SIGSEGV instead. A failure to get
/// it (a small `ulimit -v`) is a [`Failure`], not an abort.
pub fn child_stack() -> Result<Stack, Failure> {
    // SAFETY: sysconf(3) reads a constant of the system.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .unwrap_or(4096);
    let length = STACK_SIZE + page;
    // SAFETY: a new private anonymous mapping: it replaces nothing.
    let memory = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            length,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if memory == libc::MAP_FAILED {
        return Err(Failure::errno(
            "cannot allocate the child's stack",
            Errno::last(),
        )
        .hint("is the address space limited (`ulimit -v`)?"));
    }
    let stack = Stack {
        memory: memory.cast(),
        length,
        guard: page,
    };
    // SAFETY: the lowest page of the mapping we just made; the stack
    // grows down towards it.
    let guarded = unsafe { libc::mprotect(memory, page, libc::PROT_NONE) };
    if guarded != 0 {
        return Err(Failure::errno(
            "cannot protect the child's stack (mprotect)",
            Errno::last(),
        ));
    }
    Ok(stack)
}

/// The child's stack, unmapped when dropped; its guard page lies below
/// the bytes that it derefs to.
pub struct Stack {
    memory: *mut u8,
    length: usize,
    guard: usize,
}

impl Deref for Stack {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: the mapping is readable and writable above the guard
        // page, and lives until `drop`.
        unsafe {
            std::slice::from_raw_parts(
                self.memory.add(self.guard),
                self.length - self.guard,
            )
        }
    }
}

impl DerefMut for Stack {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; `&mut self` makes this the only borrow.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.memory.add(self.guard),
                self.length - self.guard,
            )
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the whole mapping made in `child_stack`, unmapped once.
        unsafe { libc::munmap(self.memory.cast(), self.length) };
    }
}
// ANCHOR_END: stack

/// Everything prepared before `clone`, used by both sides after it.
pub struct Launch {
    tool: &'static str,
    namespaces: CloneFlags,
    command: Vec<CString>,
    options: Options,
    outer_ids: (Uid, Gid),
    go_read: OwnedFd,
    go_write: OwnedFd,
    inherited: Inherited,
    terminal: Option<Termios>,
    welcome: Option<&'static str>,
}

impl Launch {
    /// Prepares a chapter's child: see [`Launch::new`].
    pub fn for_chapter(
        chapter: &Chapter,
        options: Options,
    ) -> Result<Launch, Failure> {
        let shell = options.command.is_empty();
        let mut launch =
            Launch::new(chapter.name, chapter.namespaces, options)?;
        launch.welcome = shell.then_some(chapter.welcome);
        Ok(launch)
    }

    // ANCHOR: prepare
    /// Prepares a child for `tool`, which creates (or has joined)
    /// `namespaces`: the command as C strings, the go pipe, the blocked
    /// signals. Call it just before `clone` or `fork`.
    pub fn new(
        tool: &'static str,
        namespaces: CloneFlags,
        options: Options,
    ) -> Result<Launch, Failure> {
        let command = to_c_strings(&options.command)?;
        if namespaces.contains(CloneFlags::CLONE_NEWPID) {
            signals::set_grace()?;
        }
        // Anything still buffered would be written twice: by us and the
        // child.
        let _ = std::io::stdout().flush();
        let stdin = std::io::stdin();
        let terminal = stdin
            .is_terminal()
            .then(|| tcgetattr(&stdin).ok())
            .flatten();
        // The child waits on this pipe until we say "go" (or die).
        let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC)
            .map_err(|errno| Failure::errno("cannot create a pipe", errno))?;
        // Orphans of the command become ours, so that we can end them;
        // `/proc` names them, opened now (see `run` where it cannot).
        reap::become_subreaper();
        reap::open_proc();
        // Block every signal until our handlers know the child's PID; the
        // child starts with this mask too and gives back the old one.
        let inherited = Inherited::block_all()
            .map_err(|errno| Failure::errno("cannot block signals", errno))?;
        Ok(Launch {
            tool,
            namespaces,
            command,
            // Read before clone: in a new user namespace without a map,
            // the child sees only the overflow ids. The effective ones:
            // they own the namespace, and the kernel checks a map by them.
            outer_ids: (Uid::effective(), Gid::effective()),
            options,
            go_read,
            go_write,
            inherited,
            terminal,
            welcome: None,
        })
    }
    // ANCHOR_END: prepare

    /// The tool's name, for messages.
    pub fn tool(&self) -> &'static str {
        self.tool
    }

    /// The options the command line gave.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The effective uid and gid of the tool outside, read before
    /// `clone`.
    pub fn outer_ids(&self) -> (Uid, Gid) {
        self.outer_ids
    }

    /// True when the command will be PID 1 of a new PID namespace.
    fn command_is_pid1(&self) -> bool {
        self.namespaces.contains(CloneFlags::CLONE_NEWPID) && !self.options.init
    }

    // ANCHOR: in_child
    /// The child's side: runs in the new namespaces. Waits for "go",
    /// runs the chapter's `setup`, then execs the command (or, with
    /// `--init`, stays as PID 1). Returns only a failure's exit status.
    /// Nothing here may unwind into `clone`'s C frame.
    pub fn in_child<E>(
        &self,
        setup: impl FnOnce(&Launch) -> Result<(), E>,
    ) -> isize
    where
        E: Deref<Target = dyn Error + Send + Sync + 'static>,
    {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            if !self.wait_for_go() {
                return EXIT_TOOL_FAILED;
            }
            if let Err(error) = setup(self) {
                failure::report(self.tool, self.namespaces, &*error);
                return EXIT_TOOL_FAILED;
            }
            if self.options.init {
                init::run_as_init(self, &self.command)
            } else {
                self.exec(&self.command)
            }
        }));
        outcome.unwrap_or(EXIT_TOOL_FAILED).into()
    }
    // ANCHOR_END: in_child

    /// Gives back the signal state the tool inherited, then execs.
    pub(crate) fn exec(&self, command: &[CString]) -> u8 {
        self.inherited.give_back();
        exec::exec_command(self.tool, command)
    }

    // ANCHOR: go
    /// Waits for the parent's "go". False when the parent is gone: then
    /// we must not run the command, or it would outlive the tool.
    fn wait_for_go(&self) -> bool {
        // If the tool dies (even by SIGKILL), the kernel kills us.
        let _ = prctl::set_pdeathsig(Signal::SIGKILL);
        // Our copy of the write end must go, or we would wait for
        // ourselves.
        // SAFETY: closing our copy of the write end; the `OwnedFd` in this
        // process is never dropped: the child ends by exec or _exit.
        unsafe { libc::close(self.go_write.as_raw_fd()) };
        let mut byte = [0u8; 1];
        if !matches!(read(&self.go_read, &mut byte), Ok(1)) {
            return false;
        }
        // The parent may have died between its "go" and our prctl above:
        // then its write end is closed and the pipe reports a hang-up.
        let mut fds = [PollFd::new(self.go_read.as_fd(), PollFlags::empty())];
        let hung_up = poll(&mut fds, PollTimeout::ZERO).is_ok()
            && fds[0]
                .revents()
                .is_some_and(|r| r.contains(PollFlags::POLLHUP));
        !hung_up
    }
    // ANCHOR_END: go

    // ANCHOR: parent
    /// The parent's side, once `clone` has made `child`: say "go", pass
    /// signals on, wait for the command, end what it left behind, and
    /// return its exit status.
    pub fn run(self, child: Pid) -> Result<u8, Failure> {
        if !self.options.id_maps.is_empty() {
            // newuidmap and newgidmap write the child's maps from here,
            // while it waits for "go"; without them it must not run.
            let maps = &self.options.id_maps;
            if let Err(failure) =
                idmap::write_for_child(maps, child, self.outer_ids)
            {
                let _ =
                    nix::sys::signal::kill(child, nix::sys::signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(child, None);
                return Err(failure);
            }
        }
        let own_pids = !self.namespaces.contains(CloneFlags::CLONE_NEWPID);
        if own_pids && reap::proc_dir().is_none() {
            // No PID namespace ends them for us, and we cannot find them.
            output::say(
                self.tool,
                "/proc here does not show this PID namespace: what the \
                 command leaves running in the background cannot be found, \
                 and will outlive the tool",
            );
        }
        self.welcome(child);
        signals::watch(self.tool, child, self.command_is_pid1());
        // The child is set up: let it exec. `go_write` stays open until
        // we exit, so that the child can tell when we are gone.
        let _ = write(&self.go_write, b"!");
        // Only now the handlers, while the child goes on to exec: a
        // signal sent to us meanwhile is still blocked, so it waits and
        // reaches the handler when we unblock.
        signals::forward();
        self.inherited.restore_mask();
        let status = reap::wait_for(child);
        reap::end_leftovers();
        if let (Some(saved), Ok(128..)) = (&self.terminal, &status) {
            // The command was killed, maybe with the terminal in raw mode.
            // SAFETY: ignoring SIGTTOU, so that restoring the settings
            // cannot stop us when the command left the terminal to
            // another process group.
            unsafe { libc::signal(libc::SIGTTOU, libc::SIG_IGN) };
            let _ = tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
        }
        status
    }
    // ANCHOR_END: parent

    // ANCHOR: welcome
    /// Before an interactive shell, a line that says what to try, and
    /// which host PID to look at from another terminal: the shell's own
    /// (the child execs it), or with `--init` its init's.
    fn welcome(&self, child: Pid) {
        let Some(text) = self.welcome else { return };
        let who = if self.options.init {
            "the shell's init"
        } else {
            "the shell"
        };
        output::say(
            self.tool,
            &format!("{}; {who} is PID {child} on the host", text.trim_end()),
        );
    }
    // ANCHOR_END: welcome

    // ANCHOR: fork
    /// `fork` instead of `clone`, for `ch07-inspect`, whose namespaces
    /// are joined or made before the child exists.
    pub fn fork<E>(
        self,
        setup: impl FnOnce(&Launch) -> Result<(), E>,
    ) -> Result<u8, Failure>
    where
        E: Deref<Target = dyn Error + Send + Sync + 'static>,
    {
        // SAFETY: the tool is single-threaded, so the child cannot
        // inherit a lock held by another thread; it ends by exec or
        // _exit.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let status = self.in_child(setup);
                // SAFETY: _exit(2) ends the child without running the
                // parent's destructors or flushing its buffers twice.
                unsafe { libc::_exit(status as libc::c_int) }
            }
            Ok(ForkResult::Parent { child }) => self.run(child),
            Err(errno) => {
                let failure = Failure::errno("cannot fork", errno);
                Err(
                    match failure::namespace_hint(
                        self.tool,
                        self.namespaces,
                        errno,
                    ) {
                        Some(hint) => failure.hint(hint),
                        None => failure,
                    },
                )
            }
        }
    }
    // ANCHOR_END: fork
}

impl Drop for Launch {
    /// Without a child (clone failed), the tool's signals are as before.
    fn drop(&mut self) {
        self.inherited.restore_all();
    }
}

fn to_c_strings(args: &[OsString]) -> Result<Vec<CString>, Failure> {
    args.iter()
        .map(|arg| CString::new(arg.clone().into_vec()))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            Failure::errno("an argument contains a NUL byte", Errno::EINVAL)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stack_is_mapped_zeroed_with_a_guard_page_below() {
        let stack = child_stack().unwrap();
        assert_eq!(stack.len(), STACK_SIZE);
        assert!(stack.iter().all(|&b| b == 0));
        // The mapping just below the stack's lowest byte: no access.
        let low = stack.as_ptr() as usize;
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let below = maps.lines().find_map(|line| {
            let (range, rest) = line.split_once(' ')?;
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (start < low && low <= end && end - start < STACK_SIZE)
                .then(|| rest.to_string())
        });
        let below = below.unwrap_or_else(|| panic!("no guard: {maps}"));
        assert!(below.starts_with("---p"), "{below}");
    }

    #[test]
    fn a_nul_byte_is_refused() {
        let bad = [OsString::from("a\0b")];
        let failure = to_c_strings(&bad).unwrap_err();
        assert!(failure.to_string().contains("NUL"), "{failure}");
    }
}
