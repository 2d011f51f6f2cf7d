#!/bin/sh
# vm/rustup-init-stub.sh: stands in for the download from
# https://sh.rustup.rs when vm/test-provision.sh runs provision.sh on a
# machine that cannot reach it. It does what that installer does with
# provision.sh's options, for the user who runs it: installs rustup into
# ~/.cargo/bin (and the PATH line into ~/.profile), and makes a stable
# toolchain the default. The differences: rustup and the toolchain are
# the test machine's own, which vm/test-provision.sh puts in
# /opt/nslab-test (rustup, and toolchain/ with bin/cargo, rustc,
# rustfmt and clippy), and the toolchain is linked, not downloaded,
# under the name nslab-host (a linked toolchain may not be called stable).
set -eu
for arg in "$@"; do
    case $arg in
    -y | --profile | minimal | --component | rustfmt,clippy) ;;
    *)
        echo "rustup-init-stub.sh: provision.sh passed $arg, which the stub does not know" >&2
        exit 2
        ;;
    esac
done
init=$(mktemp -d)/rustup-init
cp /opt/nslab-test/rustup "$init"
# The real installer, with no toolchain to download.
"$init" -y --quiet --default-toolchain none
rm -r "$(dirname "$init")"
"$HOME/.cargo/bin/rustup" toolchain link nslab-host /opt/nslab-test/toolchain
"$HOME/.cargo/bin/rustup" default nslab-host
