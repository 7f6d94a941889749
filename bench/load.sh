#!/usr/bin/env bash
# /feed.atom under load while tributary writes: the daemon starts on an empty
# database over a 1,000-feed corpus (its first poll stores 30,000 items) and polls
# again every 2 s, while `wrk --latency -t2 -c32 -d${SECS}s` asks for /feed.atom.
# Prints wrk's latency percentiles, errors and the daemon's poll log lines.
# Needs nginx and wrk (Debian: nginx-light wrk).
# Usage: bench/load.sh [SECS] [FEEDS]
set -euo pipefail
secs=${1:-10}
feeds=${2:-1000}
source "$(dirname "$0")/lib.sh"
feeds_port=$(free_port); app_port=$(free_port)
serve_corpus "$feeds" 30 "$feeds_port" 11
{
  printf '[storage]\ndatabase = "%s/t.db"\n' "$work"
  printf '[poll]\nschedule = "*/2 * * * * *"\nper_host = 16\n'
  printf '[server]\nlisten = "127.0.0.1:%s"\nbase_url = "http://127.0.0.1:%s/"\n' "$app_port" "$app_port"
  cat "$work/corpus/tributary.toml"
} > "$work/t.toml"
RUST_LOG=info "$bin" run --config "$work/t.toml" >/dev/null 2>"$work/daemon.log" &
app=$!
wait_healthy "$app_port"
wrk --latency -t2 -c32 -d"${secs}s" "http://127.0.0.1:$app_port/feed.atom"
echo "--- poll rounds while wrk ran:"
grep "poll round done" "$work/daemon.log" | sed 's/^[^ ]* *//' | head -8
