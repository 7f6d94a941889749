#!/usr/bin/env bash
# Folding over a captured corpus: polls every feed of INDEX.tsv (default:
# ../shared/corpora/realworld, read in place as file:// sources, never copied)
# once into a fresh database with the default [dedup] settings, then reports
# stories, items, items folded by link and by same-site title, and lists every
# fold by title (title, both sources, their sites, both links) so that a person
# can read them for false folds. Also counts same titles of two sites in the
# window that stay apart (what `title_match = true` would fold).
# A local file's site is its feed's home link's host (none when it names none).
# Usage: bench/folding.sh [TRIBUTARY_BINARY] [CORPUS_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/target/debug/tributary}
corpus=$(cd "${2:-$here/../shared/corpora/realworld}" && pwd)
index=$corpus/INDEX.tsv
[ -f "$index" ] || { echo "folding: no $index" >&2; exit 1; }
[ -x "$bin" ] || { echo "folding: no binary at $bin (cargo build first)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One source per row of the index, named by its path there.
python3 - "$index" "$corpus" "$work" > "$work/t.toml" <<'EOF'
import csv, json, pathlib, sys
index, corpus, work = sys.argv[1:]
print(f'[storage]\ndatabase = {json.dumps(work + "/t.db")}\n')
with open(index, newline="") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        url = pathlib.Path(corpus, row["path"]).as_uri()
        print(f'[[source]]\nname = {json.dumps(row["path"])}\nurl = {json.dumps(url)}\n')
EOF
summary=$("$bin" poll --config "$work/t.toml" --json 2>/dev/null | tail -1)
echo "poll: $summary"

python3 - "$work/t.db" "$summary" <<'EOF'
import json, sqlite3, sys
from urllib.parse import urlsplit

db = sqlite3.connect(sys.argv[1])
summary = json.loads(sys.argv[2])
WINDOW_MS = 48 * 3600 * 1000  # the default title_window

def site(home, feed):
    # As tributary names a source's site: the home link's host, else the feed's.
    for link in (home, feed):
        parts = urlsplit(link or "")
        if parts.scheme in ("http", "https") and parts.hostname:
            host = parts.hostname.rstrip(".").lower()
            return host[4:] if host.startswith("www.") else host
    return None

sources = {sid: (name, site(home, url)) for sid, name, home, url in
           db.execute("SELECT id, name, site_link, fetch_url FROM sources")}
stories = db.execute("SELECT count(*) FROM stories").fetchone()[0]
items = db.execute("SELECT count(*) FROM items").fetchone()[0]

# Replays each story's copies in the order they were stored: a copy from a source
# the story did not have yet was folded, by link when its canonical link is the
# one the story is known by, else by title.
by_link, by_title = 0, []
rows = db.execute("""SELECT s.id, s.link_key, i.source_id, i.canonical_link, i.link, i.title
                     FROM items i JOIN stories s ON s.id = i.story_id ORDER BY s.id, i.id""")
first, seen = {}, {}
for story, link_key, source, canonical, link, title in rows:
    if story not in first:
        first[story] = (source, link, title)
        seen[story] = {source}
        continue
    if source in seen[story]:
        continue
    seen[story].add(source)
    if link_key is not None and canonical == link_key:
        by_link += 1
    else:
        by_title.append((first[story], (source, link, title)))

# Same titles of two sources in the window that stayed apart, within one site
# (short titles dated differently, or a feed's own repeats) and across sites
# (what `title_match = true` would fold when four words or more).
def key(title):
    return " ".join("".join(c.lower() if c.isalnum() else " " for c in title or "").split())
primaries = db.execute("""SELECT s.id, s.sort_at, i.source_id, i.title FROM stories s
                          JOIN items i ON i.id = coalesce(s.primary_item_id,
                               (SELECT min(id) FROM items WHERE story_id = s.id))""").fetchall()
by_key = {}
for story, at, source, title in primaries:
    if key(title):
        by_key.setdefault(key(title), []).append((at, source, title))
same_site_apart, other_site_apart = [], 0
for group in by_key.values():
    for a in range(len(group)):
        for b in range(a):
            (at1, s1, t1), (at2, s2, _) = group[a], group[b]
            if s1 == s2 or abs(at1 - at2) > WINDOW_MS:
                continue
            if sources[s1][1] == sources[s2][1]:
                same_site_apart.append((t1, sorted((sources[s1][0], sources[s2][0]))))
            elif len(key(t1).split()) >= 4:
                other_site_apart += 1

short = sum(1 for (_, _, t1), _ in by_title if len(key(t1).split()) < 4)
print(f"stories: {stories}")
print(f"items: {items}")
print(f"folded by link: {by_link}")
print(f"folded by same-site title: {len(by_title)} ({short} of them titles under four words, dated alike)")
print(f"poll reported folded: {summary['items']['folded']} (by link + by title: {by_link + len(by_title)})")
print(f"same titles of one site in the window, kept apart: {len(same_site_apart)}")
for title, names in sorted(same_site_apart):
    print(f"  {title}  ({names[0]} / {names[1]})")
print(f"same titles (four words or more) of two sites in the window, kept apart: {other_site_apart}")
print()
print("every fold by title (title; each copy's source [site] and link):")
listing = []
for copy1, copy2 in by_title:
    copies = sorted((sources[sid][0], sources[sid][1], link, title) for sid, link, title in (copy1, copy2))
    listing.append((copies[0][1] or "", copies[0][3] or "", copies))
for site, title, copies in sorted(listing):
    print()
    print(f"  title: {title}")
    for name, host, link, other_title in copies:
        if other_title != title:
            print(f"         {other_title}")
    for name, host, link, _ in copies:
        print(f"  {name} [{host}]\n    {link}")
EOF
