#!/usr/bin/env bash
# Instructions of one first poll, counted by valgrind's callgrind: a corpus from
# ../shared/bench/gen_corpus.py (seed 1) polled from files, so no network and no
# other process takes part. The count does not move with machine noise, so a
# change shows its cost in one run; the wall-clock figures stay with poll.sh.
# Prints the total, instructions per item, and the inclusive share of the
# poll's main steps.
# Needs valgrind (Debian: valgrind).
# Usage: bench/instructions.sh [FEEDS] [ITEMS]
set -euo pipefail
feeds=${1:-200}
items=${2:-30}
source "$(dirname "$0")/lib.sh"
make_corpus "$work/corpus" "$feeds" "$items" 9 1
cd "$work/corpus"
{
  sed -e 's#url = "http://127.0.0.1:9/#url = "www/#' tributary.toml
  printf '[storage]\ndatabase = "%s/bench.db"\n' "$work"
} > files.toml
valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" poll --config files.toml >"$work/out" 2>"$work/valgrind"
grep -q "$((feeds)) ok" "$work/out" || { cat "$work/out" "$work/valgrind" >&2; exit 1; }
new=$(grep -o '[0-9]* new' "$work/out" | cut -d' ' -f1)
callgrind_annotate --inclusive=yes --threshold=100 "$work/cg.out" >"$work/annotated"
total=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' "$work/annotated")
echo "corpus: $feeds feeds x $items items from files ($new new items)"
echo "instructions: $((total / 1000000)) M in all, $((total / new)) per item"
# Inclusive cost of a function: the first line naming it exactly.
share() {
  awk -v f="$2" -v t="$total" '
    { line = $0; sub(/ \[.*$/, "", line) }
    line ~ ("\\?\\?\\?:" f "$") { gsub(",", "", $1); printf "  %-44s %6d M  %5.1f%%\n", label, $1 / 1e6, 100 * $1 / t; exit }
  ' label="$1" "$work/annotated"
}
share "reading feeds (parse_feed)" 'tributary::parse::parse_feed'
share "  of which feed-rs" 'feed_rs::parser::Parser::parse'
share "  of which the second pass (supplement walk)" 'tributary::parse::supplement::walk::walk'
share "identifying items" 'tributary::identity::identify'
share "storing (write_record)" 'tributary::store::items::write_record'
share "  of which finding or making stories" 'tributary::store::stories::find_or_create_story'
share "  of which filing categories" 'tributary::store::categories::set_categories'
share "SQLite compiling statements" 'sqlite3Prepare'
