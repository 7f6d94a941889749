#!/usr/bin/env bash
# Polls the demo config into a scratch database, exports the merged feed in each
# format, and reads every output (and the golden files) back with feed-check.py.
# Usage: scripts/outputs-check.sh [TRIBUTARY_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/target/debug/tributary}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed "s|^database = .*|database = \"$work/demo.db\"|" "$here/config/demo.toml" > "$here/config/.outputs-check.toml"
trap 'rm -rf "$work" "$here/config/.outputs-check.toml"' EXIT
config=$here/config/.outputs-check.toml
"$bin" poll --config "$config" >/dev/null
for format in atom rss json; do
  "$bin" export --config "$config" --format "$format" --limit 0 > "$work/demo.$format"
  "$bin" export --config "$config" --format "$format" --category ai > "$work/demo-ai.$format"
done
python3 "$here/scripts/feed-check.py" "$work"/demo*.atom "$work"/demo*.rss "$work"/demo*.json \
  "$here"/tests/golden/feed.atom "$here"/tests/golden/feed.rss "$here"/tests/golden/feed.json
