#!/usr/bin/env bash
# Poll benchmark beside a peer: a corpus from ../shared/bench/gen_corpus.py served
# by nginx on loopback; tributary's first poll (empty database) and second poll
# (every feed answers 304), then sfeed_update's first poll, ROUNDS times each.
# Prints medians, the ratio to sfeed, peak memory, database size per 100,000 items,
# and tributary run's resident memory once idle. Fails when a first poll stores
# other than the corpus's number of distinct stories.
# Both run 16 fetches at a time (sfeedrc's maxjobs=16; tributary per_host = 16,
# since every feed of the corpus is on one host).
# Needs nginx, sfeed and GNU time (Debian: nginx-light sfeed time).
# Usage: bench/poll.sh [ROUNDS] [FEEDS] [ITEMS]
set -euo pipefail
rounds=${1:-3}
feeds=${2:-1000}
items=${3:-30}
source "$(dirname "$0")/lib.sh"
port=$(free_port); app_port=$(free_port)
serve_corpus "$feeds" "$items" "$port" 1
echo "corpus: $feeds feeds x $items items, $(du -sh "$work/corpus/www" | cut -f1); $(nproc) cores; $rounds rounds"
{
  printf '[storage]\ndatabase = "%s/t.db"\n' "$work"
  printf '[poll]\nper_host = 16\n'
  printf '[server]\nlisten = "127.0.0.1:%s"\n' "$app_port"
  cat "$work/corpus/tributary.toml"
} > "$work/t.toml"
{ printf 'sfeedpath="%s/sfeed"\n' "$work"; cat "$work/corpus/sfeedrc"; } > "$work/sfeedrc"

timed() { /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >"$work/out" 2>/dev/null; cat "$work/time"; }
# CPU seconds the corpus's nginx has used so far (its workers gzip on the fly,
# on the same cores as the poller).
host_cpu() {
  local ticks=0 pid
  for pid in $(pgrep -P "$(cat "$work/corpus/nginx.pid")"); do
    ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
  done
  python3 -c "print(f'{$ticks / $(getconf CLK_TCK):.2f}')"
}
: > "$work/first"; : > "$work/second"; : > "$work/sfeed_first"
for r in $(seq "$rounds"); do
  rm -f "$work"/t.db*
  h0=$(host_cpu)
  read -r s1 m1 u1 k1 < <(timed "$bin" poll --config "$work/t.toml" --json)
  h1=$(host_cpu)
  new=$(tail -1 "$work/out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"]["new"])')
  # Speed counts only with the same stories: as many as the corpus holds.
  python3 - "$work/t.db" "$work/corpus/truth.json" <<'PY'
import json, sqlite3, sys
stories = sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM stories").fetchone()[0]
truth = json.load(open(sys.argv[2]))["distinct_stories"]
if stories != truth:
    sys.exit(f"stories: {stories}, the corpus holds {truth}")
PY
  read -r s2 m2 _ _ < <(timed "$bin" poll --config "$work/t.toml" --json)
  nm=$(tail -1 "$work/out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sources"]["not_modified"])')
  rm -rf "$work/sfeed"
  h2=$(host_cpu)
  read -r s3 m3 u3 k3 < <(timed sfeed_update "$work/sfeedrc")
  h3=$(host_cpu)
  echo "$s1 $m1" >> "$work/first"; echo "$s2 $m2" >> "$work/second"; echo "$s3 $m3" >> "$work/sfeed_first"
  echo "round $r: tributary first $s1 s ($new new, ${m1} KB peak), second $s2 s ($nm not modified, ${m2} KB); sfeed_update first $s3 s (${m3} KB)"
  echo "  CPU seconds, user + system: tributary's first poll $u1 + $k1, nginx meanwhile $(python3 -c "print(f'{$h1 - $h0:.2f}')"); sfeed_update $u3 + $k3 (its curl and parser processes included), nginx meanwhile $(python3 -c "print(f'{$h3 - $h2:.2f}')")"
done
t1=$(cut -d' ' -f1 "$work/first" | median); t2=$(cut -d' ' -f1 "$work/second" | median); sf=$(cut -d' ' -f1 "$work/sfeed_first" | median)
mem=$(cut -d' ' -f2 "$work/first" | sort -n | tail -1)
db_kb=$(du -k "$work/t.db" | cut -f1)
echo "median first poll: tributary $t1 s, sfeed_update $sf s, ratio $(python3 -c "print(f'{$sf / $t1:.1f}x faster')")"
echo "median second poll (all 304): tributary $t2 s"
echo "peak memory, first poll: $((mem / 1024)) MB"
echo "database: $((db_kb / 1024)) MB for $new items, $(python3 -c "print(f'{$db_kb / 1024 * 100000 / $new:.0f}')") MB per 100,000 items"

# Idle daemon: after its first round over every source, resident memory.
rm -f "$work"/t.db*
"$bin" poll --config "$work/t.toml" >/dev/null
"$bin" run --config "$work/t.toml" >/dev/null 2>&1 &
app=$!
wait_healthy "$app_port"
sleep 8
echo "tributary run, idle with $feeds sources: $(awk '/VmRSS/ { printf "%d MB", $2 / 1024 }' /proc/$app/status) resident"
