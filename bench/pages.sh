#!/usr/bin/env bash
# Pages at 100,000 stories while a poll writes, next to nginx serving the same
# bytes; then the daemon's memory after 1,000 requests with distinct junk
# parameters.
#
# A corpus of FEEDS feeds x ITEMS items (by default 1,100 x 100: about 101,000
# stories once folded) is polled once; then `tributary run` polls every 2 s while
# a second corpus is copied over the first, a few feeds a second, so every round
# stores new items. Meanwhile `wrk --latency -t2 -c32 -d${SECS}s` asks for
# /feed.atom, a source's page, a category's page and /healthz, and the same bytes
# as static files from nginx. Prints req/s and p99 for each, then resident
# memory before and after 1,000 requests with junk parameters, and after 1,000
# distinct pages (more than the page cache holds).
# Needs nginx and wrk (Debian: nginx-light wrk).
# Usage: bench/pages.sh [SECS] [FEEDS] [ITEMS]
set -euo pipefail
secs=${1:-10}
feeds=${2:-1100}
items=${3:-100}
source "$(dirname "$0")/lib.sh"
feeds_port=$(free_port); static_port=$(free_port); app_port=$(free_port)
serve_corpus "$feeds" "$items" "$feeds_port" 21
make_corpus "$work/next" "$feeds" "$items" "$feeds_port" 22
{
  printf '[storage]\ndatabase = "%s/t.db"\n' "$work"
  printf '[poll]\nschedule = "*/2 * * * * *"\nper_host = 16\n'
  printf '[server]\nlisten = "127.0.0.1:%s"\nbase_url = "http://127.0.0.1:%s/"\n' "$app_port" "$app_port"
  cat "$work/corpus/tributary.toml"
} > "$work/t.toml"
/usr/bin/time -f "%e s" -o "$work/poll-time" "$bin" poll --config "$work/t.toml" >/dev/null
RUST_LOG=info "$bin" run --config "$work/t.toml" >/dev/null 2>"$work/daemon.log" &
app=$!
wait_healthy "$app_port"
# The first round indexes every item for search; measure after it, from the
# second round on.
for _ in $(seq 600); do
  polls=$(curl -sf "http://127.0.0.1:$app_port/metrics" | awk '$1 == "tributary_polls_total" { print $2 }')
  [ "${polls:-0}" -ge 2 ] && break
  sleep 0.2
done
stories=$(curl -sf "http://127.0.0.1:$app_port/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stories"])')
echo "first poll: $(cat "$work/poll-time"), $stories stories; $(nproc) cores"

# The poll writes: feeds without a <ttl> (polled every round) get new items.
writer() {
  for f in "$work"/corpus/www/f/*.atom "$work"/corpus/www/f/*.rdf "$work"/corpus/www/f/*.json; do
    n=$(basename "$f"); n=${n%.*}
    cat "$work"/next/www/f/"$n".* > "$f.tmp" && mv "$f.tmp" "$f"
    sleep 1
  done
}
writer &
writer_pid=$!
trap 'kill $writer_pid 2>/dev/null || true; bench_cleanup' EXIT

pages=("feed.atom" "s/source-7.atom" "c/ai.atom" "healthz")
mkdir -p "$work/static/www/s" "$work/static/www/c"
for p in "${pages[@]}"; do
  curl -sf "http://127.0.0.1:$app_port/$p" > "$work/static/www/$p"
done
bash "$bench/serve.sh" "$work/static" "$static_port" >/dev/null

# load URL: "req/s p99"
load() {
  wrk --latency -t2 -c32 -d"${secs}s" "$1" > "$work/wrk.txt"
  awk '/Requests\/sec/ { r = $2 } $1 == "99%" { p = $2 } / Non-2xx/ { e = $NF } END { printf "%s %s %s\n", r, p, (e ? e " non-2xx" : "") }' "$work/wrk.txt"
}
printf '%-18s %10s %12s   %s\n' page bytes tributary "nginx (same bytes)"
for p in "${pages[@]}"; do
  t=$(load "http://127.0.0.1:$app_port/$p")
  n=$(load "http://127.0.0.1:$static_port/$p")
  read -r tr tp te <<<"$t"; read -r nr np _ <<<"$n"
  printf '%-18s %10s %12s   %s\n' "/$p" "$(wc -c < "$work/static/www/$p")" "$tr req/s, p99 $tp ${te:-}" "$nr req/s, p99 $np"
done
kill $writer_pid 2>/dev/null || true
rounds=$(grep -c "poll round done" "$work/daemon.log" || true)
now=$(curl -sf "http://127.0.0.1:$app_port/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stories"])')
echo "while measuring: $rounds poll rounds stored new items; $now stories at the end"

rss() { awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$app/status"; }
before=$(rss)
python3 - "$app_port" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for n in range(1000):
    c.request("GET", f"/feed.atom?limit=1000&junk={n}&utm_source=r{n}")
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
echo "resident memory: ${before} MB before, $(rss) MB after 1,000 requests for /feed.atom?limit=1000 with distinct junk parameters"
python3 - "$app_port" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for n in range(1, 1001):
    c.request("GET", f"/feed.atom?limit={n}")
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
cache=$(curl -sf "http://127.0.0.1:$app_port/metrics" | awk '$1 == "tributary_page_cache_bytes" { printf "%d", $2 / 1048576 }')
echo "resident memory: $(rss) MB after 1,000 distinct pages (limit=1 to 1000, about 1.3 GB rendered), $cache MiB of them cached"
