# Shared by the bench scripts (sourced, not run): builds the release binary, makes
# a scratch folder that is removed on exit (with every nginx and daemon started in
# it stopped), and serves a generated corpus.
#   here, bench, bin, work   the checkout, ../shared/bench, the binary, the scratch folder
#   app                      set it to a started daemon's pid to have it stopped on exit
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$here/../shared/bench
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin=$here/target/release/tributary
work=$(mktemp -d)
chmod 755 "$work" # nginx workers read it as another user
app=

bench_cleanup() {
  for pid in "$work"/*/nginx.pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null; done
  [ -n "$app" ] && kill "$app" 2>/dev/null
  rm -rf "$work"
}
trap bench_cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# make_corpus DIR FEEDS ITEMS PORT SEED: generates a corpus in DIR whose feeds
# name 127.0.0.1:PORT.
make_corpus() {
  python3 "$bench/gen_corpus.py" "$1" --feeds "$2" --items "$3" --port "$4" --seed "$5" >/dev/null
}

# serve_corpus FEEDS ITEMS PORT SEED: generates $work/corpus and serves it with nginx.
serve_corpus() {
  make_corpus "$work/corpus" "$1" "$2" "$3" "$4"
  bash "$bench/serve.sh" "$work/corpus" "$3" >/dev/null
}

# wait_healthy PORT: until the daemon on PORT answers /healthz (at most 10 s).
wait_healthy() {
  for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.05; done
  return 1
}
