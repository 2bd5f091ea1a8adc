#!/usr/bin/env bash
# Checks that the crate builds with the oldest Rust it claims: the `rust-version` of
# Cargo.toml. Installs that toolchain with rustup (minimal profile) when it is missing, then
# type-checks every target with it, in a target directory of its own.
#
#   scripts/msrv.sh            # check with Cargo.toml's rust-version
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml)
[[ -n "$version" ]] || { echo "error: no rust-version in Cargo.toml" >&2; exit 2; }
# rustup names a toolchain by its full version: 1.88 -> 1.88.0.
[[ "$version" =~ ^[0-9]+\.[0-9]+$ ]] && version="$version.0"
if ! rustup run "$version" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$version" --profile minimal
fi
echo "msrv: checking with Rust $version"
CARGO_TARGET_DIR="${MSRV_TARGET_DIR:-target/msrv}" cargo "+$version" check --locked --all-targets
