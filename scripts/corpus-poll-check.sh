#!/usr/bin/env bash
# Polls a generated corpus served by nginx twice and checks the summaries: the
# first poll stores every item of every feed, the second finds nothing changed; and
# the merged feed holds exactly the corpus's distinct stories (truth.json).
# Needs nginx (Debian: nginx-light) and ../shared/bench.
# Usage: scripts/corpus-poll-check.sh [TRIBUTARY_BINARY] [FEEDS] [ITEMS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/target/debug/tributary}
feeds=${2:-20}
items=${3:-30}
bench=$here/../shared/bench
work=$(mktemp -d)
chmod 755 "$work"  # nginx workers read it as another user
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { [ -f "$work/corpus/nginx.pid" ] && kill "$(cat "$work/corpus/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

python3 "$bench/gen_corpus.py" "$work/corpus" --feeds "$feeds" --items "$items" --port "$port" --seed 7 >/dev/null
bash "$bench/serve.sh" "$work/corpus" "$port" >/dev/null
config=$work/corpus/tributary.toml
printf '[storage]\ndatabase = "%s/t.db"\n' "$work" | cat - "$config" > "$work/t.toml"

check() {
  local label=$1 want=$2 got
  got=$("$bin" poll --config "$work/t.toml" --json | tail -1)
  got_counts=$(printf '%s' "$got" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["sources"]["ok"], d["sources"]["not_modified"], d["sources"]["failed"], d["items"]["new"])')
  if [ "$got_counts" != "$want" ]; then
    echo "FAIL $label: want ok/not_modified/failed/new = $want, got $got"
    exit 1
  fi
  echo "$label: $got"
}
check "first poll" "$feeds 0 0 $((feeds * items))"
check "second poll" "0 $feeds 0 0"
want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["distinct_stories"])' "$work/corpus/truth.json")
got=$("$bin" export --config "$work/t.toml" --format json --limit 0 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
if [ "$got" != "$want" ]; then
  echo "FAIL merged feed has $got stories, the corpus has $want distinct ones"
  exit 1
fi
echo "merged feed: $got stories, as many as the corpus has distinct ones"
echo "corpus-poll-check: ok"
