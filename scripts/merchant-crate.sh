#!/usr/bin/env bash
# Measures what a merchant's test crate pays to depend on freedompay-harness: makes an
# `examples/contract.rs`-style crate in a temp dir (tests/contract.rs, `harness = false`),
# points its dependency at a checkout by path, and runs a cold `cargo build --tests` in a
# fresh CARGO_TARGET_DIR (the registry in ~/.cargo stays warm: nothing is downloaded twice).
#
# Usage: scripts/merchant-crate.sh [--harness DIR] [--features "a b"] [--no-default-features] [--run]
#   --harness DIR            the checkout to depend on (default: this one)
#   --no-default-features    depend with `default-features = false` (a replay-only crate)
#   --features "a b"         features to enable on the dependency
#   --run                    afterwards, replay the shipped scenarios with `cargo test`
#   --tree-only              no build: only the `cargo tree` count
#
# Prints: the dependency line, wall and CPU seconds of the cold build, the number of
# `Compiling` lines (every crate compiled, build scripts' crates included), and the number of
# distinct normal dependencies (`cargo tree -e normal,dev --prefix none --no-dedupe | sort -u | wc -l`, which
# counts the merchant crate itself too). The versions are pinned by copying the checkout's
# Cargo.lock, so before and after compare the same crates.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
harness="$here"
features=""
default_features=true
run=false
tree_only=false
while [ $# -gt 0 ]; do
  case "$1" in
    --harness) harness="$(cd "$2" && pwd)"; shift 2 ;;
    --features) features="$2"; shift 2 ;;
    --no-default-features) default_features=false; shift ;;
    --run) run=true; shift ;;
    --tree-only) tree_only=true; shift ;;
    *) echo "unknown argument: $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d "${TMPDIR:-/tmp}/fph-merchant.XXXXXX")"
trap 'rm -rf "$work"' EXIT
crate="$work/merchant"
mkdir -p "$crate/tests"

dep="freedompay-harness = { path = \"$harness\""
if [ "$default_features" = false ]; then dep="$dep, default-features = false"; fi
if [ -n "$features" ]; then
  dep="$dep, features = [$(printf '"%s", ' $features | sed 's/, $//')]"
fi
dep="$dep }"

cat >"$crate/Cargo.toml" <<EOF
[package]
name = "merchant"
version = "0.1.0"
edition = "2024"
publish = false

[dev-dependencies]
$dep

[[test]]
name = "contract"
harness = false
EOF
mkdir -p "$crate/src"
echo '//! A merchant'"'"'s shop (empty: only its contract tests matter here).' >"$crate/src/lib.rs"
cat >"$crate/tests/contract.rs" <<'EOF'
fn main() -> std::process::ExitCode {
    freedompay_harness::Harness::builder().scenarios("scenarios").run()
}
EOF
# A checkout from before the builder has only `harness::Harness::new`.
if ! grep -q 'pub fn builder' "$harness/src/harness.rs" 2>/dev/null; then
  cat >"$crate/tests/contract.rs" <<'EOF'
fn main() -> std::process::ExitCode {
    freedompay_harness::harness::Harness::new("scenarios").run()
}
EOF
fi
cp "$harness/Cargo.lock" "$crate/Cargo.lock"
cp -r "$harness/scenarios" "$harness/recordings" "$crate/"

export CARGO_TARGET_DIR="$work/target"
echo "dependency: $dep"
tree_count() {
  echo "cargo tree -e normal,dev --prefix none --no-dedupe | sort -u | wc -l: $(cd "$crate" && cargo tree --offline -e normal,dev --prefix none --no-dedupe | sort -u | wc -l)"
}
if [ "$tree_only" = true ]; then tree_count; exit 0; fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
# `time` of bash gives user and system CPU seconds of the whole build (all rustc processes).
TIMEFORMAT='cpu: %U s user + %S s system'
{ time (cd "$crate" && cargo build --tests --offline 2>"$work/build.log"); } 2>"$work/time.txt" || {
  cat "$work/build.log" >&2
  exit 1
}
end=$(date +%s.%N)
printf 'cold cargo build --tests: %.1f s wall, %s\n' "$(echo "$end - $start" | bc)" "$(cat "$work/time.txt")"
echo "Compiling lines: $(grep -c '^ *Compiling ' "$work/build.log")"
tree_count
if [ "$run" = true ]; then
  (cd "$crate" && cargo test --offline --test contract 2>&1 | tail -n 3)
fi
