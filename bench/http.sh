#!/usr/bin/env bash
# Requests per second for /feed.atom (100 entries) from `tributary run`, against
# nginx serving the same bytes as a static file, in the same run:
# wrk -t2 -c32 -d${SECONDS_PER_RUN}s, ROUNDS times each, alternating; prints the
# medians and their ratio. Needs nginx and wrk (Debian: nginx-light wrk).
# Usage: bench/http.sh [ROUNDS] [SECONDS_PER_RUN]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
secs=${2:-10}
bench=$here/../shared/bench
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin=$here/target/release/tributary
work=$(mktemp -d)
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
feeds_port=$(free_port); static_port=$(free_port); app_port=$(free_port)
cleanup() {
  for pid in "$work"/corpus/nginx.pid "$work"/static/nginx.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null; done
  [ -n "${app:-}" ] && kill "$app" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

python3 "$bench/gen_corpus.py" "$work/corpus" --feeds 50 --items 10 --port "$feeds_port" --seed 3 >/dev/null
bash "$bench/serve.sh" "$work/corpus" "$feeds_port" >/dev/null
{
  printf '[storage]\ndatabase = "%s/t.db"\n[server]\nlisten = "127.0.0.1:%s"\nbase_url = "http://127.0.0.1:%s/"\n' "$work" "$app_port" "$app_port"
  cat "$work/corpus/tributary.toml"
} > "$work/t.toml"
"$bin" poll --config "$work/t.toml" >/dev/null
"$bin" run --config "$work/t.toml" >/dev/null 2>&1 &
app=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$app_port/healthz" && break; sleep 0.1; done

mkdir -p "$work/static/www"
curl -sf "http://127.0.0.1:$app_port/feed.atom" > "$work/static/www/feed.atom"
entries=$(grep -o '<entry>' "$work/static/www/feed.atom" | wc -l)
bash "$bench/serve.sh" "$work/static" "$static_port" >/dev/null
echo "feed.atom: $entries entries, $(wc -c < "$work/static/www/feed.atom") bytes; wrk -t2 -c32 -d${secs}s, $rounds rounds"

rate() { wrk -t2 -c32 -d"${secs}s" "$1" | awk '/Requests\/sec/ { print $2 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: > "$work/tributary.txt"; : > "$work/nginx.txt"
for i in $(seq "$rounds"); do
  t=$(rate "http://127.0.0.1:$app_port/feed.atom"); echo "$t" >> "$work/tributary.txt"
  n=$(rate "http://127.0.0.1:$static_port/feed.atom"); echo "$n" >> "$work/nginx.txt"
  echo "round $i: tributary $t req/s, nginx $n req/s"
done
t=$(median < "$work/tributary.txt"); n=$(median < "$work/nginx.txt")
echo "median: tributary $t req/s, nginx (static file) $n req/s, ratio $(python3 -c "print(f'{$t / $n:.2f}')")"
