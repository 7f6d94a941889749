#!/usr/bin/env bash
# /feed.atom under load while tributary writes: the daemon starts on an empty
# database over a 1,000-feed corpus (its first poll stores 30,000 items) and polls
# again every 2 s, while `wrk --latency -t2 -c32 -d${SECS}s` asks for /feed.atom.
# Prints wrk's latency percentiles, errors and the daemon's poll log lines.
# Needs nginx and wrk (Debian: nginx-light wrk).
# Usage: bench/load.sh [SECS] [FEEDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
feeds=${2:-1000}
bench=$here/../shared/bench
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin=$here/target/release/tributary
work=$(mktemp -d)
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
feeds_port=$(free_port); app_port=$(free_port)
cleanup() {
  [ -f "$work/corpus/nginx.pid" ] && kill "$(cat "$work/corpus/nginx.pid")" 2>/dev/null
  [ -n "${app:-}" ] && kill "$app" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
python3 "$bench/gen_corpus.py" "$work/corpus" --feeds "$feeds" --items 30 --port "$feeds_port" --seed 11 >/dev/null
bash "$bench/serve.sh" "$work/corpus" "$feeds_port" >/dev/null
{
  printf '[storage]\ndatabase = "%s/t.db"\n' "$work"
  printf '[poll]\nschedule = "*/2 * * * * *"\nper_host = 16\n'
  printf '[server]\nlisten = "127.0.0.1:%s"\nbase_url = "http://127.0.0.1:%s/"\n' "$app_port" "$app_port"
  cat "$work/corpus/tributary.toml"
} > "$work/t.toml"
RUST_LOG=info "$bin" run --config "$work/t.toml" >/dev/null 2>"$work/daemon.log" &
app=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$app_port/healthz" && break; sleep 0.05; done
wrk --latency -t2 -c32 -d"${secs}s" "http://127.0.0.1:$app_port/feed.atom"
echo "--- poll rounds while wrk ran:"
grep "poll round done" "$work/daemon.log" | sed 's/^[^ ]* *//' | head -8
