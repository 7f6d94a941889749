//! Folding by title: the story a new item joins because it has the same title
//! as one already known, with `title_match` from any source, by default from
//! another source of the item's own site.

use rusqlite::{Connection, params};

use super::StoreError;
use super::stories::FoldPolicy;

/// Words a title needs to fold on its own (within the window); shorter ones
/// ("Standard Ebooks", "Episode 12") fold only with the same publication time.
const TITLE_WORDS: usize = 4;

/// The story an item of `source_id` titled `title` (a [`title_key`]) joins
/// by that title, the nearest in time within the window: with `title_match`,
/// any such story; otherwise one carried by another source of the item's own
/// site (the host of the feeds' home links, see [`crate::model::site_of`]),
/// as a publisher's Atom and JSON feeds are, whose links may differ (a link post
/// pointing at the page it links to in one, at its permalink in the other).
///
/// A title of fewer than four words says too little to fold on: it folds only
/// into a story that another source of the site dated (published, else
/// updated) at the very same millisecond as this item (`dated`), as two formats
/// of one post are.
///
/// Never a story the item's own source already carries: one source showing one
/// title twice in the window ("Open thread for the weekend", a podcast's
/// "Bonus episode: live from the show") means two posts, and the same post
/// seen again is its identity's business, not folding's.
pub(super) fn story_by_title(
    tx: &Connection,
    fold: FoldPolicy,
    source_id: i64,
    title: &str,
    dated: Option<i64>,
    sort_at: i64,
) -> Result<Option<i64>, StoreError> {
    let long = title.split(' ').count() >= TITLE_WORDS;
    if !long && (!fold.same_site_titles || dated.is_none()) {
        return Ok(None);
    }
    let candidates: Vec<i64> = tx
        .prepare_cached(
            "SELECT id FROM stories WHERE title_key = ?1 AND sort_at BETWEEN ?2 AND ?3
             ORDER BY abs(sort_at - ?4), id",
        )?
        .query_map(
            params![
                title,
                sort_at.saturating_sub(fold.title_window_ms),
                sort_at.saturating_add(fold.title_window_ms),
                sort_at
            ],
            |r| r.get(0),
        )?
        .collect::<Result<_, _>>()?;
    if candidates.is_empty() {
        return Ok(None);
    }
    let own_site = site_of_source(tx, source_id)?;
    for story_id in candidates {
        let copies: Vec<(i64, Option<i64>)> = tx
            .prepare_cached(
                "SELECT source_id, coalesce(published, updated) FROM items WHERE story_id = ?1",
            )?
            .query_map([story_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        if copies.iter().any(|(source, _)| *source == source_id) {
            continue;
        }
        if long && fold.title_match {
            return Ok(Some(story_id));
        }
        if !fold.same_site_titles || own_site.is_none() {
            continue;
        }
        for (other, other_dated) in copies {
            if (long || other_dated == dated) && site_of_source(tx, other)? == own_site {
                return Ok(Some(story_id));
            }
        }
    }
    Ok(None)
}

/// The site of a source, from its feed's home link as last read, else from the
/// address it is fetched from; `None` for a local file naming no home page.
fn site_of_source(tx: &Connection, source_id: i64) -> Result<Option<String>, StoreError> {
    let (home, feed): (Option<String>, String) = tx
        .prepare_cached("SELECT site_link, fetch_url FROM sources WHERE id = ?1")?
        .query_row([source_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(crate::model::site_of(home.as_deref(), &feed))
}

/// A title reduced to its words, lowercased and joined by single spaces, for
/// folding by title; `None` for a title without a word.
pub(super) fn title_key(title: &str) -> Option<String> {
    let mut key = String::with_capacity(title.len());
    for word in title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !key.is_empty() {
            key.push(' ');
        }
        if word.is_ascii() {
            key.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            // A word at a time: a final sigma lowercases as such.
            key.push_str(&word.to_lowercase());
        }
    }
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests;
