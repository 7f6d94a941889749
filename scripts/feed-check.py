#!/usr/bin/env python3
"""Reads feeds back with a parser that is not tributary's own.

Atom and RSS go through Python's feedparser, which must report no error
(bozo == 0) and find entries; JSON Feed is checked against the required parts
of the JSON Feed 1.1 specification. Usage: feed-check.py FILE... (the format
is taken from the extension: .atom, .rss, .json).
"""
import datetime
import json
import sys

import feedparser


def check_xml(path, data, want):
    d = feedparser.parse(data)
    if d.bozo:
        return f"feedparser: {d.bozo_exception}"
    if d.version != want:
        return f"feedparser reads it as {d.version!r}, not {want!r}"
    if not d.entries:
        return "feedparser finds no entries"
    for e in d.entries:
        if not e.get("title") or not e.get("id"):
            return f"an entry without title or id: {e!r:.200}"
    return None


def rfc3339(value):
    datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_json(path, data):
    feed = json.loads(data)
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        return f"version is {feed.get('version')!r}"
    if not isinstance(feed.get("title"), str):
        return "title is missing"
    items = feed.get("items")
    if not isinstance(items, list) or not items:
        return "items is missing or empty"
    ids = set()
    for item in items:
        if not isinstance(item.get("id"), str) or item["id"] in ids:
            return f"item id missing or repeated: {item.get('id')!r}"
        ids.add(item["id"])
        if not isinstance(item.get("content_html"), str) and not isinstance(item.get("content_text"), str):
            return f"item {item['id']} has neither content_html nor content_text"
        for key in ("date_published", "date_modified"):
            if key in item:
                rfc3339(item[key])
        if not all(isinstance(t, str) for t in item.get("tags", [])):
            return f"item {item['id']} has a tag that is not a string"
        for a in item.get("authors", []):
            if not isinstance(a, dict) or not any(k in a for k in ("name", "url", "avatar")):
                return f"item {item['id']} has a malformed author"
        for a in item.get("attachments", []):
            if not isinstance(a.get("url"), str) or not isinstance(a.get("mime_type"), str):
                return f"item {item['id']} has a malformed attachment"
    return None


failures = 0
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    if path.endswith(".atom"):
        problem = check_xml(path, data, "atom10")
    elif path.endswith(".rss"):
        problem = check_xml(path, data, "rss20")
    elif path.endswith(".json"):
        problem = check_json(path, data)
    else:
        problem = "unknown extension"
    if problem:
        failures += 1
        print(f"FAIL {path}: {problem}")
    else:
        print(f"ok   {path}")
print(f"feed-check: {len(sys.argv) - 1 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
