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
    for n in 0..=u8::MAX {
        if taken
            .iter()
            .any(|&route| overlaps(route, (subnet(n, 0), 24)))
        {
            continue;
        }
        // The host end's name is the lock on subnet N: two tools started
        // at once cannot both create it (EEXIST: try the next N).
        let host_end = format!("veth-nslab{n}");
        match host.new_veth(&host_end, "eth0", child) {
            Err(Errno::EEXIST) => continue,
            Err(errno) => return Err(veth_failure("create", &host_end, errno)),
            Ok(()) => {}
        }
        let cable = Cable {
            host_end,
            host: subnet(n, 1),
            container: subnet(n, 2),
        };
        // From here on, a failure drops `cable`: the pair is deleted.
        let index = index_of(&cable.host_end)?;
        host.add_address(index, cable.host)
            .and_then(|()| host.set_up(&cable.host_end))
            .map_err(|e| veth_failure("set up", &cable.host_end, e))?;
        in_netns_of(child, || set_up_inside(&cable))?;
        return Ok(Some(cable));
    }
    Err(Failure::new("--veth: no free /24 left in 10.199.0.0/16")
        .hint("every 10.199.N.0/24 is routed on the host: `ip route`"))
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
    inside
        .add_address(index_of("eth0")?, cable.container)
        .and_then(|()| inside.add_default_route(cable.host))
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
    let open = |path: String| {
        File::open(&path)
            .map_err(|e| Failure::io(format!("--veth: {path}"), &e))
    };
    // `/proc/self` is always us where it exists; `/proc/PID` could name
    // another process where /proc belongs to another PID namespace. A
    // pidfd names our own child for certain (it is not reaped yet), and
    // setns(2) takes one since Linux 5.8.
    let home = open("/proc/self/ns/net".into())?;
    // SAFETY: pidfd_open(2) takes a PID and flags and returns a new fd, or
    // -1; it touches no memory of ours.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, child.as_raw(), 0) };
    if raw < 0 {
        return Err(Failure::errno(
            "--veth: cannot open the child (pidfd_open)",
            Errno::last(),
        )
        .hint("--veth needs Linux >= 5.8 (setns on a pidfd)"));
    }
    // SAFETY: `raw` is a descriptor that pidfd_open just made for us.
    let there = unsafe { OwnedFd::from_raw_fd(raw as libc::c_int) };
    setns(&there, CloneFlags::CLONE_NEWNET).map_err(|errno| {
        Failure::errno("--veth: cannot enter the child's network", errno)
    })?;
    let result = f();
    setns(&home, CloneFlags::CLONE_NEWNET).map_err(|errno| {
        Failure::errno("--veth: cannot return to the host's network", errno)
    })?;
    result
}

fn veth_failure(step: &str, link: &str, errno: Errno) -> Failure {
    let failure =
        Failure::errno(format!("--veth: cannot {step} {link}"), errno);
    match errno {
        Errno::EPERM => failure.hint(
            "a veth end on the host needs CAP_NET_ADMIN there: run --veth \
             as root (in a root shell, or `cargo sudo-run -p ch06-net -- \
             --veth`)",
        ),
        Errno::EOPNOTSUPP => failure.hint("is the veth module available?"),
        _ => failure,
    }
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
        .map_err(|e| Failure::io("--veth: cannot read /proc/net/route", &e))?;
    let mut taken = parse_routes(&routes);
    let addresses = nix::ifaddrs::getifaddrs()
        .map_err(|errno| Failure::errno("--veth: getifaddrs", errno))?;
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

fn index_of(name: &str) -> Result<u32, Failure> {
    nix::net::if_::if_nametoindex(name).map_err(|errno| {
        Failure::errno(format!("--veth: no link {name}"), errno)
    })
}

/// One rtnetlink request: the netlink header, the request's own fixed
/// header, then attributes (type, length, value, padded to 4 bytes).
struct Request {
    bytes: Vec<u8>,
    nests: Vec<usize>,
}

impl Request {
    fn new(kind: u16, flags: u16, header: &[u8]) -> Request {
        let mut bytes = Vec::with_capacity(128);
        bytes.extend_from_slice(&0u32.to_ne_bytes()); // length, set last
        bytes.extend_from_slice(&kind.to_ne_bytes());
        let flags = flags | NLM_F_REQUEST | NLM_F_ACK;
        bytes.extend_from_slice(&flags.to_ne_bytes());
        bytes.extend_from_slice(&[0; 8]); // sequence, port: the kernel's
        bytes.extend_from_slice(header);
        Request {
            bytes,
            nests: Vec::new(),
        }
    }

    fn attr(mut self, kind: u16, value: &[u8]) -> Request {
        let len = 4 + value.len() as u16;
        self.bytes.extend_from_slice(&len.to_ne_bytes());
        self.bytes.extend_from_slice(&kind.to_ne_bytes());
        self.bytes.extend_from_slice(value);
        self.pad();
        self
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
        let start = self.nests.pop().expect("end without nest");
        let len = (self.bytes.len() - start) as u16;
        self.bytes[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        let len = self.bytes.len() as u32;
        self.bytes[..4].copy_from_slice(&len.to_ne_bytes());
        self.bytes
    }
}

/// `struct ifinfomsg`: a link, by index (0: by the name attribute).
fn ifinfomsg(flags: u32, change: u32) -> [u8; 16] {
    let mut header = [0u8; 16];
    header[8..12].copy_from_slice(&flags.to_ne_bytes());
    header[12..16].copy_from_slice(&change.to_ne_bytes());
    header
}

/// A socket to the kernel's rtnetlink, in the network namespace that
/// this process is in when it is opened.
struct Netlink(OwnedFd);

impl Netlink {
    fn open() -> Result<Netlink, Failure> {
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(Failure::errno(
                "--veth: netlink socket",
                Errno::last(),
            ));
        }
        // SAFETY: a descriptor we just created and own alone.
        Ok(Netlink(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Sends one request and reads the kernel's acknowledgement.
    fn ask(&self, request: Request) -> Result<(), Errno> {
        let bytes = request.finish();
        // SAFETY: sockaddr_nl is plain data; all zeroes but the family
        // addresses the kernel.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: sendto(2) reads `bytes` and `kernel`, of the sizes given.
        let sent = unsafe {
            libc::sendto(
                self.0.as_raw_fd(),
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
        let mut reply = [0u8; 4096];
        let got = loop {
            // SAFETY: recv(2) writes at most `reply.len()` bytes to it.
            let got = unsafe {
                libc::recv(
                    self.0.as_raw_fd(),
                    reply.as_mut_ptr().cast(),
                    reply.len(),
                    0,
                )
            };
            match Errno::result(got) {
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(errno),
                Ok(got) => break got as usize,
            }
        };
        // The acknowledgement: a netlink header of type NLMSG_ERROR, then
        // the error code (0: done; otherwise minus the errno).
        let field = |at: usize, len: usize| reply.get(at..at + len);
        let kind = field(4, 2).map(|b| u16::from_ne_bytes([b[0], b[1]]));
        let code =
            field(16, 4).map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
        match (got >= 20, kind, code) {
            (true, Some(NLMSG_ERROR), Some(0)) => Ok(()),
            (true, Some(NLMSG_ERROR), Some(code)) => {
                Err(Errno::from_raw(-code))
            }
            _ => Err(Errno::EPROTO),
        }
    }

    /// `ip link add HOST type veth peer name PEER netns CHILD`.
    fn new_veth(
        &self,
        host: &str,
        peer: &str,
        child: Pid,
    ) -> Result<(), Errno> {
        let pid = child.as_raw() as u32;
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
        self.ask(request)
    }

    /// `ip link set NAME up`.
    fn set_up(&self, name: &str) -> Result<(), Errno> {
        let header = ifinfomsg(IFF_UP, IFF_UP);
        self.ask(Request::new(RTM_NEWLINK, 0, &header).name(name))
    }

    /// `ip link del NAME`: a veth end takes its peer with it.
    fn delete_link(&self, name: &str) -> Result<(), Errno> {
        self.ask(Request::new(RTM_DELLINK, 0, &ifinfomsg(0, 0)).name(name))
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
        self.ask(request)
    }

    /// `ip route add default via GATEWAY dev eth0`.
    fn add_default_route(&self, gateway: Ipv4Addr) -> Result<(), Errno> {
        let oif = nix::net::if_::if_nametoindex("eth0")?;
        // struct rtmsg: family, dst_len 0 (default), src_len, tos, table
        // main, protocol boot, scope universe, type unicast; flags.
        let header = [libc::AF_INET as u8, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
        let request =
            Request::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &header)
                .attr(RTA_GATEWAY, &gateway.octets())
                .attr(RTA_OIF, &oif.to_ne_bytes());
        self.ask(request)
    }
}

impl Request {
    /// Raw bytes inside the current attribute (the peer's ifinfomsg).
    fn attr_bytes(mut self, bytes: &[u8]) -> Request {
        self.bytes.extend_from_slice(bytes);
        self.pad();
        self
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
            .finish();
        assert_eq!(bytes.len(), 16 + 16 + 4 + 8);
        assert_eq!(u32::from_ne_bytes(bytes[..4].try_into().unwrap()), 44);
        // The nest holds its own header and the padded kind: 4 + 8.
        assert_eq!(u16::from_ne_bytes([bytes[32], bytes[33]]), 12);
        // The kind's length counts its bytes, not the padding.
        assert_eq!(u16::from_ne_bytes([bytes[36], bytes[37]]), 8);
    }
}
