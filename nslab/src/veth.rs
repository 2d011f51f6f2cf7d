//! `--veth`: a cable between the host's network stack and the child's.
//!
//! A veth pair is two network interfaces joined back to back: what goes
//! into one comes out of the other. The parent makes the pair with one
//! end (`veth-nslabN`) on the host and the other (`eth0`) already in the
//! child's network namespace, gives each end an address of a `/24` that
//! no route or address on the host uses, and points the child's default
//! route at the host end. All of it happens before the child's "go", so
//! the command starts connected.
//!
//! It speaks rtnetlink, the kernel's own interface for links, addresses
//! and routes (what `ip` and runc use), over a plain socket: five kinds
//! of message, each a header and a few attributes. When the child's
//! network namespace dies, the kernel deletes `eth0`, and with it its
//! peer, its address and its route on the host; the tool does not wait
//! for that and deletes the host end itself when the command has ended.

use std::cell::Cell;
use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sched::{CloneFlags, setns};
use nix::unistd::Pid;

use crate::failure::Failure;
use crate::launch::Launch;

/// The subnets `--veth` may use: `10.199.N.0/24`, the host end `.1`,
/// the container `.2`. N is also in the host end's name.
const RANGE: [u8; 2] = [10, 199];

// From <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>,
// <linux/veth.h> and <linux/if_addr.h>: the few numbers we need.
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_PID: u16 = 19;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_GATEWAY: u16 = 5;
const RTA_OIF: u16 = 4;
const IFF_UP: u32 = 0x1;

/// The pair, while it lasts: dropping it deletes the host end, which
/// takes the container's end with it.
#[derive(Debug)]
pub struct Cable {
    /// The host end's name: `veth-nslabN`.
    pub host_end: String,
    /// The host end's address.
    pub host: Ipv4Addr,
    /// `eth0`'s address, inside.
    pub container: Ipv4Addr,
}

// ANCHOR: connect
/// With `--veth`: connects the child's network stack to the host's (the
/// child waits for "go" meanwhile). Without it: nothing, `None`.
pub fn connect(launch: &Launch, child: Pid) -> Result<Option<Cable>, Failure> {
    if !launch.options().veth {
        return Ok(None);
    }
    let host = Netlink::open()?;
    let taken = taken_on_the_host()?;
    let (mut in_use, mut names_taken) = (0, 0);
    for n in 0..=u8::MAX {
        if taken
            .iter()
            .any(|&route| overlaps(route, (subnet(n, 0), 24)))
        {
            in_use += 1;
            continue;
        }
        // The host end's name is the lock on subnet N: two tools started
        // at once cannot both create it (EEXIST: try the next N).
        let host_end = format!("veth-nslab{n}");
        match host.new_veth(&host_end, "eth0", child) {
            Err(Errno::EEXIST) => {
                names_taken += 1;
                continue;
            }
            Err(errno) => return Err(veth_failure("create", &host_end, errno)),
            Ok(()) => {}
        }
        let cable = Cable {
            host_end,
            host: subnet(n, 1),
            container: subnet(n, 2),
        };
        // From here on, a failure drops `cable`: the pair is deleted.
        host.index_of(&cable.host_end)
            .and_then(|index| host.add_address(index, cable.host))
            .and_then(|()| host.set_up(&cable.host_end))
            .map_err(|e| veth_failure("set up", &cable.host_end, e))?;
        in_netns_of(child, || set_up_inside(&cable))?;
        return Ok(Some(cable));
    }
    Err(Failure::new("--veth: no free /24 left in 10.199.0.0/16")
        .hint(no_free_subnet_hint(in_use, names_taken)))
}
// ANCHOR_END: connect

// ANCHOR: inside
/// Inside the child's network namespace: `lo` and `eth0` up, `eth0`'s
/// address, and the default route through the host end.
fn set_up_inside(cable: &Cable) -> Result<(), Failure> {
    let inside = Netlink::open()?;
    let fail = |errno| veth_failure("set up", "eth0", errno);
    inside.set_up("lo").map_err(fail)?;
    inside.set_up("eth0").map_err(fail)?;
    let eth0 = inside.index_of("eth0").map_err(fail)?;
    inside
        .add_address(eth0, cable.container)
        .and_then(|()| inside.add_default_route(eth0, cable.host))
        .map_err(fail)
}
// ANCHOR_END: inside

impl Drop for Cable {
    fn drop(&mut self) {
        // ENODEV: the namespace died first and took the pair with it.
        if let Ok(host) = Netlink::open() {
            let _ = host.delete_link(&self.host_end);
        }
    }
}

/// Runs `f` with this process in the network namespace of `child`, then
/// returns to the one it was in. Sockets opened in `f` stay there.
fn in_netns_of<T>(
    child: Pid,
    f: impl FnOnce() -> Result<T, Failure>,
) -> Result<T, Failure> {
    let open =
        |path: String| File::open(&path).map_err(|e| proc_failure(&path, &e));
    // `/proc/self` is always us where it exists; `/proc/PID` could name
    // another process where /proc belongs to another PID namespace. A
    // pidfd names our own child for certain (it is not reaped yet), and
    // setns(2) takes one since Linux 5.8.
    let home = open("/proc/self/ns/net".into())?;
    // SAFETY: pidfd_open(2) takes a PID and flags and returns a new fd, or
    // -1; it touches no memory of ours.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, child.as_raw(), 0) };
    if raw < 0 {
        let errno = Errno::last();
        let failure =
            Failure::errno("--veth: cannot open the child (pidfd_open)", errno);
        return Err(with_hint(failure, errno));
    }
    // SAFETY: `raw` is a descriptor that pidfd_open just made for us.
    let there = unsafe { OwnedFd::from_raw_fd(raw as libc::c_int) };
    setns(&there, CloneFlags::CLONE_NEWNET).map_err(|errno| {
        let failure =
            Failure::errno("--veth: cannot enter the child's network", errno);
        match errno {
            Errno::EINVAL => failure.hint(PIDFD_SETNS),
            _ => failure,
        }
    })?;
    let result = f();
    setns(&home, CloneFlags::CLONE_NEWNET).map_err(|errno| {
        Failure::errno("--veth: cannot return to the host's network", errno)
    })?;
    result
}

fn veth_failure(step: &str, link: &str, errno: Errno) -> Failure {
    with_hint(
        Failure::errno(format!("--veth: cannot {step} {link}"), errno),
        errno,
    )
}

/// What `setns` on a pidfd needs.
const PIDFD_SETNS: &str = "--veth needs Linux >= 5.8 (setns on a pidfd)";

/// The hint for a failed step of `--veth`, by its errno.
fn with_hint(failure: Failure, errno: Errno) -> Failure {
    match errno {
        Errno::EPERM => failure.hint(
            "a veth end on the host needs CAP_NET_ADMIN there: run --veth \
             as root (in a root shell, or `cargo sudo-run -p ch06-net -- \
             --veth`)",
        ),
        Errno::EOPNOTSUPP => failure.hint("is the veth module available?"),
        Errno::EMFILE | Errno::ENFILE => failure.hint(
            "--veth needs a few more descriptors than the limit allows \
             here: raise it (`ulimit -n 1024`)",
        ),
        Errno::ENOSYS => failure.hint(PIDFD_SETNS),
        _ => failure,
    }
}

/// A file of `/proc` that `--veth` cannot read.
fn proc_failure(path: &str, error: &std::io::Error) -> Failure {
    let errno = Errno::from_raw(error.raw_os_error().unwrap_or(0));
    let failure = Failure::errno(format!("--veth: cannot read {path}"), errno);
    match errno {
        Errno::ENOENT => failure.hint(
            "--veth reads the host's routes and network namespace in /proc, \
             and there is none here: mount one (`mount -t proc proc /proc`)",
        ),
        _ => with_hint(failure, errno),
    }
}

/// Why no 10.199.N.0/24 was left: `in_use` were used by a route or an
/// address on the host, `names_taken` had their `veth-nslabN` taken.
fn no_free_subnet_hint(in_use: u32, names_taken: u32) -> String {
    let mut causes = Vec::new();
    if in_use > 0 {
        causes.push(format!(
            "{in_use} are used on the host by a route or an address \
             (`ip route`, `ip addr`)"
        ));
    }
    if names_taken > 0 {
        causes.push(format!(
            "{names_taken} have their link name veth-nslabN taken (`ip link \
             show type veth`: other tools running, or ends left behind, \
             which `ip link del veth-nslabN` removes)"
        ));
    }
    format!("of the 256 subnets 10.199.N.0/24, {}", causes.join("; "))
}

fn subnet(n: u8, host: u8) -> Ipv4Addr {
    Ipv4Addr::new(RANGE[0], RANGE[1], n, host)
}

/// True when the two prefixes share an address.
fn overlaps((a, a_len): (Ipv4Addr, u8), (b, b_len): (Ipv4Addr, u8)) -> bool {
    let len = a_len.min(b_len).min(32);
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(a) & mask == u32::from(b) & mask
}

/// The prefixes in use on the host: every IPv4 route but the default
/// one (`/proc/net/route`, the main table) and every IPv4 address with
/// its netmask (`getifaddrs`, which also sees an address without a
/// route).
fn taken_on_the_host() -> Result<Vec<(Ipv4Addr, u8)>, Failure> {
    let routes = std::fs::read_to_string("/proc/net/route")
        .map_err(|e| proc_failure("/proc/net/route", &e))?;
    let mut taken = parse_routes(&routes);
    let addresses = nix::ifaddrs::getifaddrs().map_err(|errno| {
        with_hint(Failure::errno("--veth: getifaddrs", errno), errno)
    })?;
    for address in addresses {
        let ipv4 = |a: Option<nix::sys::socket::SockaddrStorage>| {
            a.and_then(|a| a.as_sockaddr_in().map(|a| a.ip()))
        };
        if let Some(ip) = ipv4(address.address) {
            let len = ipv4(address.netmask)
                .map_or(32, |m| u32::from(m).count_ones() as u8);
            taken.push((ip, len));
        }
    }
    Ok(taken)
}

/// Destination and prefix length of each route in `/proc/net/route`
/// (hexadecimal, in the kernel's byte order), without the default route.
fn parse_routes(table: &str) -> Vec<(Ipv4Addr, u8)> {
    let hex = |field: &str| u32::from_str_radix(field, 16).ok();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let destination = hex(fields.get(1)?)?;
            let mask = hex(fields.get(7)?)?;
            let len = mask.count_ones() as u8;
            (len > 0).then(|| (Ipv4Addr::from(destination.to_ne_bytes()), len))
        })
        .collect()
}

/// One rtnetlink request: the netlink header, the request's own fixed
/// header, then attributes (type, length, value, padded to 4 bytes).
/// A length that does not fit its field makes the request EMSGSIZE,
/// never a truncated number.
struct Request {
    bytes: Vec<u8>,
    nests: Vec<usize>,
    too_long: bool,
}

/// The netlink header: length, type, flags, sequence number, port.
const HEADER: usize = 16;

impl Request {
    fn new(kind: u16, flags: u16, header: &[u8]) -> Request {
        let mut bytes = Vec::with_capacity(128);
        bytes.extend_from_slice(&0u32.to_ne_bytes()); // length, set last
        bytes.extend_from_slice(&kind.to_ne_bytes());
        let flags = flags | NLM_F_REQUEST | NLM_F_ACK;
        bytes.extend_from_slice(&flags.to_ne_bytes());
        bytes.extend_from_slice(&[0; 8]); // sequence and port, set last
        bytes.extend_from_slice(header);
        Request {
            bytes,
            nests: Vec::new(),
            too_long: false,
        }
    }

    fn attr(mut self, kind: u16, value: &[u8]) -> Request {
        let len = self.length(4 + value.len());
        self.bytes.extend_from_slice(&len.to_ne_bytes());
        self.bytes.extend_from_slice(&kind.to_ne_bytes());
        self.bytes.extend_from_slice(value);
        self.pad();
        self
    }

    /// `len` as an attribute's length field.
    fn length(&mut self, len: usize) -> u16 {
        u16::try_from(len).unwrap_or_else(|_| {
            self.too_long = true;
            0
        })
    }

    /// A link's name, NUL-terminated.
    fn name(self, name: &str) -> Request {
        self.attr(IFLA_IFNAME, format!("{name}\0").as_bytes())
    }

    /// Starts an attribute that holds attributes; `end` closes it.
    fn nest(mut self, kind: u16) -> Request {
        self.nests.push(self.bytes.len());
        self.attr(kind, &[])
    }

    fn end(mut self) -> Request {
        let Some(start) = self.nests.pop() else {
            self.too_long = true;
            return self;
        };
        let len = self.length(self.bytes.len() - start);
        self.bytes[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// Raw bytes inside the current attribute (the peer's ifinfomsg).
    fn attr_bytes(mut self, bytes: &[u8]) -> Request {
        self.bytes.extend_from_slice(bytes);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }

    /// The bytes to send, numbered `sequence` from `port`.
    fn finish(mut self, sequence: u32, port: u32) -> Result<Vec<u8>, Errno> {
        let len =
            u32::try_from(self.bytes.len()).map_err(|_| Errno::EMSGSIZE)?;
        if self.too_long || !self.nests.is_empty() {
            return Err(Errno::EMSGSIZE);
        }
        self.bytes[..4].copy_from_slice(&len.to_ne_bytes());
        self.bytes[8..12].copy_from_slice(&sequence.to_ne_bytes());
        self.bytes[12..16].copy_from_slice(&port.to_ne_bytes());
        Ok(self.bytes)
    }
}

/// `struct ifinfomsg`: a link, by index (0: by the name attribute).
fn ifinfomsg(flags: u32, change: u32) -> [u8; 16] {
    let mut header = [0u8; 16];
    header[8..12].copy_from_slice(&flags.to_ne_bytes());
    header[12..16].copy_from_slice(&change.to_ne_bytes());
    header
}

/// What one datagram from the kernel says about request `sequence`
/// sent from `port`, as iproute2's `libnetlink.c` reads it: each
/// message's length is checked against what is left, messages for
/// another request or port are skipped, the acknowledgement
/// (`NLMSG_ERROR`, with the errno or 0) ends the request, and any other
/// message for it is its answer (kept in `answer`). None: not ended yet.
fn read_reply(
    datagram: &[u8],
    sequence: u32,
    port: u32,
    answer: &mut Option<Vec<u8>>,
) -> Option<Result<(), Errno>> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(
            datagram.get(at..at + 4)?.try_into().ok()?,
        ))
    };
    let mut at = 0;
    while at < datagram.len() {
        let (Some(len), Some(kind_flags), Some(seq), Some(pid)) =
            (word(at), word(at + 4), word(at + 8), word(at + 12))
        else {
            return Some(Err(Errno::EPROTO));
        };
        let len = len as usize;
        if len < HEADER || len > datagram.len() - at {
            return Some(Err(Errno::EPROTO));
        }
        let kind = kind_flags.to_ne_bytes();
        let kind = u16::from_ne_bytes([kind[0], kind[1]]);
        if seq == sequence && pid == port {
            if kind == NLMSG_ERROR {
                // struct nlmsgerr: the errno (negative) or 0, then the
                // header of the request it answers.
                if len < HEADER + 4 + HEADER {
                    return Some(Err(Errno::EPROTO));
                }
                let code = word(at + HEADER).map_or(0, |c| c as i32);
                return Some(match code {
                    0 => Ok(()),
                    code => Err(Errno::from_raw(code.saturating_neg())),
                });
            }
            *answer = Some(datagram[at..at + len].to_vec());
        }
        // Each message starts on a 4-byte boundary.
        at = at.saturating_add(len.next_multiple_of(4));
    }
    None
}

/// A socket to the kernel's rtnetlink, in the network namespace that
/// this process is in when it is opened, bound to a port of its own,
/// with the number of the last request sent.
struct Netlink {
    fd: OwnedFd,
    port: u32,
    sequence: Cell<u32>,
}

impl Netlink {
    fn open() -> Result<Netlink, Failure> {
        let failed = |step: &str| {
            let errno = Errno::last();
            with_hint(
                Failure::errno(format!("--veth: netlink {step}"), errno),
                errno,
            )
        };
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(failed("socket"));
        }
        // SAFETY: a descriptor we just created and own alone.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Port 0: the kernel picks one for us; getsockname says which.
        // SAFETY: sockaddr_nl is plain data; all zeroes is a valid value.
        let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        address.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        let mut size =
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        // SAFETY: bind(2) reads `address`, of the size given.
        if unsafe {
            libc::bind(fd.as_raw_fd(), (&raw const address).cast(), size)
        } < 0
        {
            return Err(failed("bind"));
        }
        // SAFETY: getsockname(2) writes at most `size` bytes to `address`
        // and the size it wrote to `size`.
        if unsafe {
            libc::getsockname(
                fd.as_raw_fd(),
                (&raw mut address).cast(),
                &raw mut size,
            )
        } < 0
        {
            return Err(failed("getsockname"));
        }
        Ok(Netlink {
            fd,
            port: address.nl_pid,
            sequence: Cell::new(0),
        })
    }

    /// Sends one request and reads the kernel's acknowledgement; returns
    /// the answer that came before it, if any (a link, for a GET).
    fn ask(&self, request: Request) -> Result<Option<Vec<u8>>, Errno> {
        let sequence = self.sequence.get().wrapping_add(1);
        self.sequence.set(sequence);
        let bytes = request.finish(sequence, self.port)?;
        // SAFETY: sockaddr_nl is plain data; all zeroes but the family
        // addresses the kernel.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: sendto(2) reads `bytes` and `kernel`, of the sizes given.
        let sent = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                0,
                (&raw const kernel).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if sent < 0 {
            return Err(Errno::last());
        }
        if sent as usize != bytes.len() {
            return Err(Errno::EMSGSIZE);
        }
        let mut answer = None;
        let mut buffer = vec![0u8; 32 * 1024];
        loop {
            let (got, sender) = self.receive(&mut buffer)?;
            // Only the kernel (port 0) answers; anything else is not ours.
            if sender != 0 {
                continue;
            }
            if let Some(ended) =
                read_reply(&buffer[..got], sequence, self.port, &mut answer)
            {
                return ended.map(|()| answer);
            }
        }
    }

    /// One datagram into `buffer`: its length and its sender's port. A
    /// datagram larger than the buffer is an error, not a cut reply.
    fn receive(&self, buffer: &mut [u8]) -> Result<(usize, u32), Errno> {
        loop {
            // SAFETY: sockaddr_nl and msghdr are plain data; all zeroes
            // is a valid value of each.
            let mut from: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
            let mut part = libc::iovec {
                iov_base: buffer.as_mut_ptr().cast(),
                iov_len: buffer.len(),
            };
            // SAFETY: as above.
            let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
            message.msg_name = (&raw mut from).cast();
            message.msg_namelen =
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
            message.msg_iov = &raw mut part;
            message.msg_iovlen = 1;
            // SAFETY: recvmsg(2) writes at most `buffer.len()` bytes to
            // `buffer` and at most `msg_namelen` to `from`, all live here.
            let got = unsafe {
                libc::recvmsg(self.fd.as_raw_fd(), &raw mut message, 0)
            };
            match Errno::result(got) {
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(errno),
                Ok(_) if message.msg_flags & libc::MSG_TRUNC != 0 => {
                    return Err(Errno::EMSGSIZE);
                }
                Ok(got) => return Ok((got as usize, from.nl_pid)),
            }
        }
    }

    /// `ip link add HOST type veth peer name PEER netns CHILD`.
    fn new_veth(
        &self,
        host: &str,
        peer: &str,
        child: Pid,
    ) -> Result<(), Errno> {
        let pid = u32::try_from(child.as_raw()).map_err(|_| Errno::EINVAL)?;
        let request = Request::new(
            RTM_NEWLINK,
            NLM_F_CREATE | NLM_F_EXCL,
            &ifinfomsg(0, 0),
        )
        .name(host)
        .nest(IFLA_LINKINFO)
        .attr(IFLA_INFO_KIND, b"veth")
        .nest(IFLA_INFO_DATA)
        .nest(VETH_INFO_PEER)
        .attr_bytes(&ifinfomsg(0, 0))
        .name(peer)
        .attr(IFLA_NET_NS_PID, &pid.to_ne_bytes())
        .end()
        .end()
        .end();
        self.ask(request).map(drop)
    }

    /// `ip link show NAME`: the link's index, from the kernel's answer
    /// (its ifinfomsg: family, pad, type, then the index).
    fn index_of(&self, name: &str) -> Result<u32, Errno> {
        let request = Request::new(RTM_GETLINK, 0, &ifinfomsg(0, 0)).name(name);
        let answer = self.ask(request)?.ok_or(Errno::EPROTO)?;
        let index = answer.get(HEADER + 4..HEADER + 8).ok_or(Errno::EPROTO)?;
        Ok(u32::from_ne_bytes(
            index.try_into().map_err(|_| Errno::EPROTO)?,
        ))
    }

    /// `ip link set NAME up`.
    fn set_up(&self, name: &str) -> Result<(), Errno> {
        let header = ifinfomsg(IFF_UP, IFF_UP);
        self.ask(Request::new(RTM_NEWLINK, 0, &header).name(name))
            .map(drop)
    }

    /// `ip link del NAME`: a veth end takes its peer with it.
    fn delete_link(&self, name: &str) -> Result<(), Errno> {
        self.ask(Request::new(RTM_DELLINK, 0, &ifinfomsg(0, 0)).name(name))
            .map(drop)
    }

    /// `ip addr add ADDRESS/24 dev INDEX`.
    fn add_address(&self, index: u32, address: Ipv4Addr) -> Result<(), Errno> {
        // struct ifaddrmsg: family, prefix length, flags, scope, index.
        let mut header = [libc::AF_INET as u8, 24, 0, 0, 0, 0, 0, 0];
        header[4..].copy_from_slice(&index.to_ne_bytes());
        let request =
            Request::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &header)
                .attr(IFA_LOCAL, &address.octets())
                .attr(IFA_ADDRESS, &address.octets());
        self.ask(request).map(drop)
    }

    /// `ip route add default via GATEWAY dev INDEX`.
    fn add_default_route(
        &self,
        oif: u32,
        gateway: Ipv4Addr,
    ) -> Result<(), Errno> {
        // struct rtmsg: family, dst_len 0 (default), src_len, tos, table
        // main, protocol boot, scope universe, type unicast; flags.
        let header = [libc::AF_INET as u8, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
        let request =
            Request::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &header)
                .attr(RTA_GATEWAY, &gateway.octets())
                .attr(RTA_OIF, &oif.to_ne_bytes());
        self.ask(request).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> (Ipv4Addr, u8) {
        let (ip, len) = text.split_once('/').unwrap();
        (ip.parse().unwrap(), len.parse().unwrap())
    }

    #[test]
    fn prefixes_overlap_when_they_share_an_address() {
        assert!(overlaps(net("10.199.3.0/24"), net("10.199.3.7/32")));
        assert!(overlaps(net("10.0.0.0/8"), net("10.199.3.0/24")));
        assert!(!overlaps(net("10.199.4.0/24"), net("10.199.3.0/24")));
        assert!(!overlaps(net("192.0.2.0/24"), net("10.199.3.0/24")));
    }

    #[test]
    fn routes_are_read_in_the_kernels_byte_order() {
        let table = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                     eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                     eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let expected = if cfg!(target_endian = "little") {
            vec![net("192.0.2.0/24")]
        } else {
            vec![(Ipv4Addr::new(0, 2, 0, 192), 24)]
        };
        assert_eq!(parse_routes(table), expected, "the default is left out");
    }

    #[test]
    fn attributes_are_padded_and_nests_measured() {
        let bytes = Request::new(RTM_NEWLINK, 0, &ifinfomsg(0, 0))
            .nest(IFLA_LINKINFO)
            .attr(IFLA_INFO_KIND, b"veth")
            .end()
            .finish(7, 9)
            .unwrap();
        assert_eq!(bytes.len(), 16 + 16 + 4 + 8);
        assert_eq!(u32::from_ne_bytes(bytes[8..12].try_into().unwrap()), 7);
        assert_eq!(u32::from_ne_bytes(bytes[12..16].try_into().unwrap()), 9);
        assert_eq!(u32::from_ne_bytes(bytes[..4].try_into().unwrap()), 44);
        // The nest holds its own header and the padded kind: 4 + 8.
        assert_eq!(u16::from_ne_bytes([bytes[32], bytes[33]]), 12);
        // The kind's length counts its bytes, not the padding.
        assert_eq!(u16::from_ne_bytes([bytes[36], bytes[37]]), 8);
    }

    /// A netlink message: header (length, type, flags, sequence, port)
    /// and payload.
    fn message(kind: u16, sequence: u32, port: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::new();
        let len = (HEADER + payload.len()) as u32;
        bytes.extend_from_slice(&len.to_ne_bytes());
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(&0u16.to_ne_bytes());
        bytes.extend_from_slice(&sequence.to_ne_bytes());
        bytes.extend_from_slice(&port.to_ne_bytes());
        bytes.extend_from_slice(payload);
        bytes
    }

    /// An acknowledgement: the errno (negative) or 0, then the request's
    /// header.
    fn ack(sequence: u32, port: u32, code: i32) -> Vec<u8> {
        let mut payload = code.to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0; HEADER]);
        message(NLMSG_ERROR, sequence, port, &payload)
    }

    #[test]
    fn a_reply_is_matched_to_its_request() {
        let mut answer = None;
        // Another request's acknowledgement, or one to another port, does
        // not end ours.
        let mut datagram = ack(6, 40, -libc::EEXIST);
        datagram.extend(ack(7, 41, 0));
        assert_eq!(read_reply(&datagram, 7, 40, &mut answer), None);
        // Ours does, with its errno.
        datagram.extend(ack(7, 40, -libc::EEXIST));
        assert_eq!(
            read_reply(&datagram, 7, 40, &mut answer),
            Some(Err(Errno::EEXIST))
        );
        // An answer before the acknowledgement is kept.
        let link = message(RTM_NEWLINK, 8, 40, &[0, 0, 1, 0, 5, 0, 0, 0]);
        let mut datagram = link.clone();
        datagram.extend(ack(8, 40, 0));
        assert_eq!(read_reply(&datagram, 8, 40, &mut answer), Some(Ok(())));
        assert_eq!(answer, Some(link));
    }

    #[test]
    fn a_reply_with_a_wrong_length_is_refused() {
        let mut answer = None;
        let mut longer = ack(7, 40, 0);
        longer[0] += 4;
        let mut shorter = ack(7, 40, 0);
        shorter[0] = 8;
        let cut = ack(7, 40, 0)[..HEADER + 2].to_vec();
        let no_header = ack(7, 40, 0)[..10].to_vec();
        for bad in [longer, shorter, cut, no_header] {
            assert_eq!(
                read_reply(&bad, 7, 40, &mut answer),
                Some(Err(Errno::EPROTO)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_length_too_large_for_its_field_is_refused() {
        let huge = vec![0u8; 70_000];
        let request = Request::new(RTM_NEWLINK, 0, &ifinfomsg(0, 0))
            .attr(IFLA_IFNAME, &huge);
        assert_eq!(request.finish(1, 1), Err(Errno::EMSGSIZE));
        let nested = Request::new(RTM_NEWLINK, 0, &ifinfomsg(0, 0))
            .nest(IFLA_LINKINFO)
            .attr(IFLA_INFO_KIND, &huge[..40_000])
            .attr(IFLA_INFO_KIND, &huge[..40_000])
            .end();
        assert_eq!(nested.finish(1, 1), Err(Errno::EMSGSIZE));
    }

    #[test]
    fn no_free_subnet_says_which_cause() {
        let routes = no_free_subnet_hint(256, 0);
        assert!(routes.contains("route or an address"), "{routes}");
        assert!(!routes.contains("link name"), "{routes}");
        let names = no_free_subnet_hint(0, 256);
        assert!(names.contains("link name veth-nslabN taken"), "{names}");
        assert!(!names.contains("route"), "{names}");
    }
}
