//! Reading stories back: pages, filters, cursors.

use std::path::Path;

use proptest::prelude::*;

use super::*;

/// A copy of a story: its source's id and its categories.
type StoryCopy = (i64, Vec<&'static str>);

/// Stories (a time and their copies) with one to three copies from three
/// sources, in categories a-c; times are few, so ties are common.
fn store_with(stories: &[(i64, Vec<StoryCopy>)]) -> SqliteStore {
    let store = SqliteStore::open(Path::new(":memory:")).unwrap();
    store
        .conn
        .execute_batch(
            "INSERT INTO sources (id, name, url, fetch_url) VALUES
             (1, 'One', 'u', 'u'), (2, 'Two', 'u', 'u'), (3, 'Three', 'u', 'u')",
        )
        .unwrap();
    let mut item = 0;
    for (n, (sort_at, copies)) in stories.iter().enumerate() {
        let story = n as i64 + 1;
        store
            .conn
            .execute(
                "INSERT INTO stories (id, sort_at) VALUES (?1, ?2)",
                params![story, sort_at],
            )
            .unwrap();
        for (source, categories) in copies {
            item += 1;
            store
                .conn
                .execute(
                    "INSERT OR IGNORE INTO items (id, source_id, key, first_seen, sort_at,
                     fingerprint, story_id) VALUES (?1, ?2, ?3, 0, ?4, 0, ?5)",
                    params![item, source, format!("k{story}"), sort_at, story],
                )
                .unwrap();
            for c in categories {
                store
                    .conn
                    .execute(
                        "INSERT OR IGNORE INTO item_categories (slug, item_id)
                         SELECT ?1, id FROM items WHERE id = ?2",
                        params![c, item],
                    )
                    .unwrap();
            }
        }
    }
    store
}

fn copies() -> impl Strategy<Value = Vec<StoryCopy>> {
    let categories = proptest::sample::subsequence(vec!["a", "b", "c"], 0..=3);
    proptest::collection::vec((1..=3i64, categories), 1..=3)
}

fn query() -> impl Strategy<Value = StoryQuery> {
    let source = proptest::option::of(prop_oneof![
        Just("One"),
        Just("Two"),
        Just("Three"),
        Just("Nobody")
    ]);
    let categories = proptest::sample::subsequence(vec!["a", "b", "c", "zz"], 0..=2);
    let limit = proptest::option::of(1..12u32);
    let before = proptest::option::of((0..8i64, 0..40i64));
    (source, categories, limit, before).prop_map(|(source, categories, limit, before)| StoryQuery {
        categories: categories.into_iter().map(String::from).collect(),
        search: None,
        source: source.map(String::from),
        limit,
        before: before.map(|(sort_at, id)| StoryCursor { sort_at, id }),
    })
}

/// Stories dated where outputs cannot follow (an older version stored
/// them) page like any others: each cursor starts after its story.
#[test]
fn pages_walk_past_stories_dated_out_of_range() {
    let long_ago = -5_000_000_000_000; // 1811
    let far_ahead = 300_000_000_000_000; // 11476
    let store = store_with(&[
        (long_ago, vec![(1, vec![])]),
        (long_ago, vec![(2, vec![])]),
        (far_ahead, vec![(1, vec![])]),
        (0, vec![(3, vec![])]),
    ]);
    let mut seen = Vec::new();
    let mut before = None;
    for _ in 0..10 {
        let page = store
            .stories(&StoryQuery {
                limit: Some(1),
                before,
                ..StoryQuery::default()
            })
            .unwrap();
        let Some(story) = page.first() else { break };
        seen.push(story.id);
        before = Some(story.cursor());
    }
    assert_eq!(seen, [3, 4, 2, 1]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Building a page from a filter's index and walking every story give
    /// the same page, and it holds exactly the stories that pass.
    #[test]
    fn both_ways_of_building_a_page_agree(
        stories in proptest::collection::vec((0..8i64, copies()), 0..30),
        q in query(),
    ) {
        let store = store_with(&stories);
        let walked = store.story_page_driven_at(&q, None, -1).unwrap();
        let driven = store.story_page_driven_at(&q, None, i64::MAX).unwrap();
        prop_assert_eq!(&walked, &driven);

        let source = q.source.as_deref().map(|name| match name {
            "One" => 1,
            "Two" => 2,
            "Three" => 3,
            _ => 0,
        });
        let mut expected: Vec<(i64, i64)> = stories
            .iter()
            .enumerate()
            .map(|(n, (at, copies))| (n as i64 + 1, *at, copies))
            .filter(|(id, at, _)| {
                q.before.is_none_or(|c| (*at, *id) < (c.sort_at, c.id))
            })
            .filter(|(_, _, copies)| {
                // `INSERT OR IGNORE` keeps one item per source and story
                let mut kept: Vec<&StoryCopy> = Vec::new();
                for c in copies.iter() {
                    if !kept.iter().any(|k| k.0 == c.0) {
                        kept.push(c);
                    }
                }
                source.is_none_or(|s| kept.iter().any(|c| c.0 == s))
                    && q.categories
                        .iter()
                        .all(|cat| kept.iter().any(|c| c.1.contains(&cat.as_str())))
            })
            .map(|(id, at, _)| (id, at))
            .collect();
        expected.sort_by_key(|&(id, at)| std::cmp::Reverse((at, id)));
        if let Some(limit) = q.limit {
            expected.truncate(limit as usize);
        }
        prop_assert_eq!(walked, expected);
    }
}
