#!/usr/bin/env bash
# Runs `tributary inspect` over every feed of a captured corpus (default:
# ../shared/corpora/realworld, read in place). Every well-formed feed must parse;
# no ill-formed one may crash tributary (exit 1 with a reason is the right answer),
# and no document may make it print a panic message or a backtrace.
# Then, for ../shared/corpora/miniflux-encoding, every EXPECTED.tsv row that names a
# decoded string ('contains "X"' or 'channel title "X"') must show it.
# Usage: scripts/corpus-check.sh [TRIBUTARY_BINARY] [CORPUS_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/target/debug/tributary}
corpus=${2:-$here/../shared/corpora/realworld}
index=$corpus/INDEX.tsv
[ -f "$index" ] || { echo "corpus-check: no $index" >&2; exit 1; }

# Columns, by name, so the index can grow.
col() { head -1 "$index" | tr '\t' '\n' | grep -nx "$1" | cut -d: -f1; }
path_col=$(col path); ok_col=$(col xml_or_json_wellformed)

parsed=0 rejected=0 failures=0
while IFS=$'\t' read -r path wellformed; do
  file=$corpus/$path
  set +e
  RUST_BACKTRACE=1 "$bin" inspect "$file" >/dev/null 2>/tmp/corpus-check.err
  code=$?
  set -e
  if grep -qE 'panicked|stack backtrace' /tmp/corpus-check.err; then
    echo "FAIL a panic was printed on $path: $(head -c 300 /tmp/corpus-check.err)"
    failures=$((failures + 1))
  elif [ "$wellformed" = yes ] && [ $code -ne 0 ]; then
    echo "FAIL well-formed feed did not parse: $path: $(head -c 300 /tmp/corpus-check.err)"
    failures=$((failures + 1))
  elif [ $code -ne 0 ] && [ $code -ne 1 ]; then
    echo "FAIL crash (exit $code) on $path: $(head -c 300 /tmp/corpus-check.err)"
    failures=$((failures + 1))
  elif [ $code -eq 0 ]; then
    parsed=$((parsed + 1))
  else
    rejected=$((rejected + 1))
    echo "rejected (ill-formed, as expected): $path: $(head -1 /tmp/corpus-check.err)"
  fi
done < <(tail -n +2 "$index" | cut -f"$path_col","$ok_col")

encodings=$here/../shared/corpora/miniflux-encoding
decoded=0
if [ -f "$encodings/EXPECTED.tsv" ]; then
  while IFS=$'\t' read -r path expected; do
    want=$(printf '%s' "$expected" | sed -nE 's/^(contains|channel title) "([^"]*)".*/\2/p')
    [ -n "$want" ] || continue
    if "$bin" inspect "$encodings/$path" 2>&1 | grep -qF "$want"; then
      decoded=$((decoded + 1))
    else
      echo "FAIL $path does not decode to \"$want\""
      failures=$((failures + 1))
    fi
  done < <(tail -n +2 "$encodings/EXPECTED.tsv" | cut -f1,2)
fi

echo "corpus-check: $parsed parsed, $rejected rejected with a reason, $decoded encodings decoded, $failures failed"
[ "$failures" -eq 0 ]
