//! Per-item caps on people and categories, applied to every parsed document.

use crate::model::Feed;

/// Categories kept per item, in the feed's order: a hostile item with tens of
/// thousands of subjects must not weigh down every page that shows it.
pub(super) const MAX_ITEM_CATEGORIES: usize = 100;
/// Authors kept per item, and characters kept of each one's name and email.
pub(super) const MAX_AUTHORS: usize = 20;
pub(super) const MAX_PERSON_CHARS: usize = 200;

/// Holds each item to [`MAX_ITEM_CATEGORIES`], [`MAX_AUTHORS`] and
/// [`MAX_PERSON_CHARS`]: no real feed comes near them, and a megabyte-long
/// `<dc:creator>` would otherwise be published in every page of the river.
pub(super) fn bound_people_and_categories(feed: &mut Feed) {
    let cut = |text: &mut Option<String>| {
        if let Some(t) = text
            && let Some((at, _)) = t.char_indices().nth(MAX_PERSON_CHARS)
        {
            t.truncate(at);
        }
    };
    for item in &mut feed.items {
        item.categories.truncate(MAX_ITEM_CATEGORIES);
        item.authors.truncate(MAX_AUTHORS);
        for person in &mut item.authors {
            cut(&mut person.name);
            cut(&mut person.email);
        }
    }
}
