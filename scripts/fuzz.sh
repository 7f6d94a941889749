#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time (default 60 s each) and keeps
# what they find under fuzz/artifacts. Needs the nightly toolchain and cargo-fuzz
# (installed here from crates.io when missing).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse_identify canonical_url query_params)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
cd "$here/fuzz"
mkdir -p corpus/parse_identify
# Seed the feed target with the bundled demo feeds.
cp -n "$here"/config/demo/* corpus/parse_identify/ 2>/dev/null || true
failed=()
for t in "${targets[@]}"; do
  echo "== $t ($secs s)"
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=262144 || failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]} (inputs under fuzz/artifacts)"
  exit 1
fi
echo "fuzz: no findings in ${targets[*]}"
