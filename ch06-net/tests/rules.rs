//! Two rules of `network_namespaces(7)`, inside ch06-net: the abstract
//! UNIX socket names are per network namespace (a server on `@name`
//! outside is unreachable inside), and `/proc/sys/net` is per namespace
//! (a new one starts from the defaults, and what is set inside stays
//! there).
//!
//! Each test runs in a stand-in host: a network namespace of its own
//! (util-linux `unshare --net`), so that its socket and settings go with
//! it, whether the test passes or fails.

use nslab_testkit::have_root;

/// Runs `script` in this file's stand-in host, `$CHAPTER` naming the
/// chapter; returns its stdout, after checking that it succeeded.
fn in_a_stand_in(script: &str) -> String {
    nslab_testkit::in_a_stand_in(&["--net"], "ch06-net", script)
}

#[test]
fn an_abstract_socket_outside_is_unreachable_inside() {
    if !have_root("an_abstract_socket_outside_is_unreachable_inside") {
        return;
    }
    // The server listens before its parent returns, then takes one
    // connection in the background and exits.
    let out = in_a_stand_in(
        r#"
        python3 -c 'import socket, os
s = socket.socket(socket.AF_UNIX)
s.bind("\0nslab-test-abstract")
s.listen()
os.fork() or s.accept()'
        connect='import socket, os
e = socket.socket(socket.AF_UNIX).connect_ex("\0nslab-test-abstract")
print(os.strerror(e) if e else "connected")'
        echo "listed inside: $("$CHAPTER" -- sh -c 'ss -xl | grep -c @nslab-test-abstract' || :)"
        echo "inside: $("$CHAPTER" -- python3 -c "$connect")"
        echo "outside: $(python3 -c "$connect")"
        "#,
    );
    assert_eq!(
        out,
        "listed inside: 0\ninside: Connection refused\noutside: connected\n"
    );
}

#[test]
fn proc_sys_net_is_per_namespace_and_starts_from_the_defaults() {
    if !have_root("proc_sys_net_is_per_namespace_and_starts_from_the_defaults")
    {
        return;
    }
    let out = in_a_stand_in(
        r#"
        sysctl -q -w net.ipv4.ip_default_ttl=99
        "$CHAPTER" -- sh -c 'cat /proc/sys/net/ipv4/ip_default_ttl
            sysctl -q -w net.ipv4.ip_default_ttl=42
            cat /proc/sys/net/ipv4/ip_default_ttl'
        cat /proc/sys/net/ipv4/ip_default_ttl
        "#,
    );
    // IPDEFTTL (64), not the stand-in's 99; the 42 stays inside.
    assert_eq!(out, "64\n42\n99\n");
}
