//! OPML 2.0 of the configured sources, folders by first category, each with
//! its site (`htmlUrl`) when its feed named one. Only sources read over http(s)
//! are listed: a local file's path means nothing to another reader and is not
//! published.

use std::collections::HashMap;

use quick_xml::escape::escape;

use crate::model::Source;
use crate::render::xml_text;

/// `site_links` maps source names to the home link their feed last gave.
pub(crate) fn render_opml(
    title: &str,
    sources: &[Source],
    site_links: &HashMap<String, String>,
) -> Vec<u8> {
    let sources: Vec<&Source> = sources.iter().filter(|s| is_remote(s)).collect();
    let attr = |s: &str| escape(xml_text(s).as_ref()).into_owned();
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    out.push_str(&format!(
        "  <head>\n    <title>{}</title>\n  </head>\n  <body>\n",
        attr(title)
    ));
    let outline = |s: &&Source, indent: &str| {
        format!(
            "{indent}<outline type=\"rss\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{url}\"{site}{cats}/>\n",
            name = attr(&s.name),
            url = attr(&crate::redact::shown_url(&s.url)),
            // OPML 2.0 `htmlUrl`: the site's page, only when it is a web page.
            site = site_links
                .get(&s.name)
                .and_then(|l| crate::sanitize::safe_url(l))
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .map(|u| format!(" htmlUrl=\"{}\"", attr(u.as_str())))
                .unwrap_or_default(),
            cats = if s.categories.is_empty() {
                String::new()
            } else {
                format!(" category=\"{}\"", attr(&s.categories.join(",")))
            },
        )
    };
    let mut folders: Vec<&str> = Vec::new();
    for s in &sources {
        if let Some(c) = s.categories.first()
            && !folders.contains(&c.as_str())
        {
            folders.push(c);
        }
    }
    for folder in &folders {
        out.push_str(&format!(
            "    <outline text=\"{0}\" title=\"{0}\">\n",
            attr(folder)
        ));
        for s in sources
            .iter()
            .filter(|s| s.categories.first().map(String::as_str) == Some(folder))
        {
            out.push_str(&outline(s, "      "));
        }
        out.push_str("    </outline>\n");
    }
    for s in sources.iter().filter(|s| s.categories.is_empty()) {
        out.push_str(&outline(s, "    "));
    }
    out.push_str("  </body>\n</opml>\n");
    out.into_bytes()
}

/// Whether `source` is read over http(s), and so may appear in OPML.
pub(crate) fn is_remote(source: &Source) -> bool {
    matches!(source.url.scheme(), "http" | "https")
}
