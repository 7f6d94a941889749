#!/usr/bin/env bash
# Requests per second for /feed.atom (100 entries) from `tributary run`, against
# nginx serving the same bytes as a static file, in the same run:
# wrk -t2 -c32 -d${SECONDS_PER_RUN}s, ROUNDS times each, alternating; prints the
# medians and their ratio. Needs nginx and wrk (Debian: nginx-light wrk).
# Usage: bench/http.sh [ROUNDS] [SECONDS_PER_RUN]
set -euo pipefail
rounds=${1:-3}
secs=${2:-10}
source "$(dirname "$0")/lib.sh"
feeds_port=$(free_port); static_port=$(free_port); app_port=$(free_port)
serve_corpus 50 10 "$feeds_port" 3
{
  printf '[storage]\ndatabase = "%s/t.db"\n[server]\nlisten = "127.0.0.1:%s"\nbase_url = "http://127.0.0.1:%s/"\n' "$work" "$app_port" "$app_port"
  cat "$work/corpus/tributary.toml"
} > "$work/t.toml"
"$bin" poll --config "$work/t.toml" >/dev/null
"$bin" run --config "$work/t.toml" >/dev/null 2>&1 &
app=$!
wait_healthy "$app_port"

mkdir -p "$work/static/www"
curl -sf "http://127.0.0.1:$app_port/feed.atom" > "$work/static/www/feed.atom"
entries=$(grep -o '<entry>' "$work/static/www/feed.atom" | wc -l)
bash "$bench/serve.sh" "$work/static" "$static_port" >/dev/null
echo "feed.atom: $entries entries, $(wc -c < "$work/static/www/feed.atom") bytes; wrk -t2 -c32 -d${secs}s, $rounds rounds"

rate() { wrk -t2 -c32 -d"${secs}s" "$1" | awk '/Requests\/sec/ { print $2 }'; }
: > "$work/tributary.txt"; : > "$work/nginx.txt"
for i in $(seq "$rounds"); do
  t=$(rate "http://127.0.0.1:$app_port/feed.atom"); echo "$t" >> "$work/tributary.txt"
  n=$(rate "http://127.0.0.1:$static_port/feed.atom"); echo "$n" >> "$work/nginx.txt"
  echo "round $i: tributary $t req/s, nginx $n req/s"
done
t=$(median < "$work/tributary.txt"); n=$(median < "$work/nginx.txt")
echo "median: tributary $t req/s, nginx (static file) $n req/s, ratio $(python3 -c "print(f'{$t / $n:.2f}')")"
