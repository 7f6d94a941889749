#!/usr/bin/env python3
"""How much of a captured corpus tributary reads: runs `tributary inspect` on
every feed of INDEX.tsv (default ../shared/corpora/realworld, read in place)
and prints, as one JSON line, the feeds read, their items, and how many items
have a title, a link, a date, an author, text and categories. With a second
argument, also writes each feed's item count there (null: not read), so two
builds can be compared feed by feed.
Usage: scripts/corpus-fields.py TRIBUTARY_BINARY [COUNTS_OUT.json] [CORPUS_DIR]"""
import csv
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
binary = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else None
root = sys.argv[3] if len(sys.argv) > 3 else os.path.join(here, "..", "..", "shared", "corpora", "realworld")
with open(os.path.join(root, "INDEX.tsv"), newline="") as f:
    rows = list(csv.DictReader(f, delimiter="\t"))
total = dict.fromkeys(["feeds", "items", "title", "link", "date", "author", "text", "categories"], 0)
counts = {}
for row in rows:
    done = subprocess.run([binary, "inspect", os.path.join(root, row["path"])], capture_output=True)
    if done.returncode != 0:
        counts[row["path"]] = None
        continue
    items = json.loads(done.stdout)["items"]
    counts[row["path"]] = len(items)
    total["feeds"] += 1
    total["items"] += len(items)
    for i in items:
        total["title"] += bool(i["title"])
        total["link"] += bool(i["link"])
        total["date"] += bool(i["published"] or i["updated"])
        total["author"] += bool(i["authors"])
        total["text"] += bool(i["summary"] or i["content"])
        total["categories"] += bool(i["categories"])
print(json.dumps(total))
if out:
    with open(out, "w") as f:
        json.dump(counts, f, indent=0)
