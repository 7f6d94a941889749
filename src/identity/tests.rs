//! The identity ladder: guid, canonical link, content hash, and the entry ids
//! an item lends.

use super::*;
use crate::model::{publisher_entry_id, usable_entry_id};

#[test]
fn publisher_ids_usable_as_entry_ids() {
    let usable = [
        "https://site.example/?p=12",
        "http://scripting.com/2024/01/01.html#a1",
        "tag:blogger.com,1999:blog-1.post-2",
        "tag:github.com,2008:Repository/1/v1.0",
        "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        "yt:video:lyHNREviqqM",
        "https://例え.example/記事",
    ];
    let not_usable = [
        "",
        "1234",
        "post-42",
        "/2024/01/a",
        "user/posts/a/index.md",
        "t3_abc:",
        "c:/path",
        "http:no-slashes",
        "https://",
        "https:///path",
        "https://site.example/a b",
        "tag:x,2024:a\tb",
        "urn:x<y>",
        "urn:x:\u{202E}evil",
        "https://site.example/a\u{200B}b",
        "tag:x,2024:\u{FFFF}",
        "tag:x,2024:a\u{85}",
        "javascript:alert(1)",
        "DATA:text/plain,x",
        "mailto:me@site.example",
        "file:///etc/passwd",
        "9p:x",
    ];
    for id in usable {
        assert!(usable_entry_id(id), "{id} should be usable");
    }
    for id in not_usable {
        assert!(!usable_entry_id(id), "{id:?} should not be usable");
    }
    assert!(!usable_entry_id(&format!(
        "tag:x,2024:{}",
        "a".repeat(1024)
    )));
}

#[test]
fn only_an_item_known_by_its_guid_lends_it_as_entry_id() {
    let items = vec![
        item(Some("https://e.com/?p=1"), Some("https://e.com/1"), "A"),
        item(Some("42"), Some("https://e.com/2"), "B"),
    ];
    let by_guid = identify(items.clone(), IdentityMode::Auto);
    let ids: Vec<Option<&str>> = by_guid.iter().map(publisher_entry_id).collect();
    assert_eq!(ids, [Some("https://e.com/?p=1"), None]);
    // A source that says its guids are not to be trusted lends none.
    let by_link = identify(items, IdentityMode::Link);
    assert!(by_link.iter().all(|i| publisher_entry_id(i).is_none()));
    // Nor does a feed whose guids repeat.
    let repeated: Vec<Item> = (0..4)
        .map(|i| {
            item(
                Some("https://e.com/same"),
                Some(&format!("https://e.com/{i}")),
                "t",
            )
        })
        .collect();
    let stepped = identify(repeated, IdentityMode::Auto);
    assert!(stepped.iter().all(|i| publisher_entry_id(i).is_none()));
}

fn item(guid: Option<&str>, link: Option<&str>, title: &str) -> Item {
    Item {
        guid: guid.map(str::to_string),
        link: link.map(str::to_string),
        title: Some(title.to_string()),
        authors: vec![],
        categories: vec![],
        content: Some(format!("<p>{title}</p>")),
        enclosures: vec![],
        ..Item::default()
    }
}

fn keys(items: Vec<Item>, mode: IdentityMode) -> Vec<String> {
    identify(items, mode).into_iter().map(|i| i.key).collect()
}

#[test]
fn guids_are_used_when_unique() {
    let k = keys(
        vec![
            item(Some("1"), Some("https://e.com/a"), "A"),
            item(Some("2"), None, "B"),
        ],
        IdentityMode::Auto,
    );
    assert_eq!(k, ["g:1", "g:2"]);
}

#[test]
fn a_shared_guid_steps_down_to_links() {
    let items: Vec<Item> = (0..10)
        .map(|i| item(Some("same"), Some(&format!("https://e.com/{i}")), "t"))
        .collect();
    let k = keys(items, IdentityMode::Auto);
    assert_eq!(k.len(), 10);
    assert!(k.iter().all(|k| k.starts_with("l:")), "{k:?}");
}

#[test]
fn no_guid_no_link_uses_content_hash_stably() {
    let items = || vec![item(None, None, "A"), item(None, None, "B")];
    let first = keys(items(), IdentityMode::Auto);
    assert!(first.iter().all(|k| k.starts_with("h:")));
    assert_ne!(first[0], first[1]);
    assert_eq!(first, keys(items(), IdentityMode::Auto));
}

#[test]
fn a_rare_repeat_keeps_guids_and_only_the_repeat_steps_down() {
    let mut items: Vec<Item> = (0..40)
        .map(|i| {
            item(
                Some(&i.to_string()),
                Some(&format!("https://e.com/{i}")),
                "t",
            )
        })
        .collect();
    items.push(item(Some("0"), Some("https://e.com/other"), "t"));
    let k = keys(items, IdentityMode::Auto);
    assert_eq!(k.len(), 41);
    assert_eq!(k[40], "l:https://e.com/other");
    assert!(k[..40].iter().all(|k| k.starts_with("g:")));
}

#[test]
fn only_links_unique_in_the_document_and_below_the_root_name_stories() {
    let items = vec![
        item(Some("1"), Some("https://e.com/"), "A"),
        item(Some("2"), Some("https://e.com/same"), "B"),
        item(Some("3"), Some("https://e.com/same?utm_source=x"), "C"),
        item(Some("4"), Some("https://e.com/own"), "D"),
    ];
    let story_links: Vec<Option<String>> = identify(items, IdentityMode::Auto)
        .into_iter()
        .map(|i| i.story_link)
        .collect();
    assert_eq!(
        story_links,
        [None, None, None, Some("https://e.com/own".to_string())]
    );
}

#[test]
fn an_exact_duplicate_is_kept_once() {
    let k = keys(
        vec![item(None, None, "A"), item(None, None, "A")],
        IdentityMode::Auto,
    );
    assert_eq!(k.len(), 1);
}

#[test]
fn override_modes_pick_their_level() {
    let items = || vec![item(Some("1"), Some("https://e.com/a?utm_source=x"), "A")];
    assert_eq!(keys(items(), IdentityMode::Guid), ["g:1"]);
    assert_eq!(keys(items(), IdentityMode::Link), ["l:https://e.com/a"]);
    assert!(keys(items(), IdentityMode::Content)[0].starts_with("h:"));
}
