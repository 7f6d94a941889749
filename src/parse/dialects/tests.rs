use super::*;

fn text(n: &Normalized<'_>) -> String {
    String::from_utf8(n.bytes.to_vec()).unwrap()
}

#[test]
fn feeds_feed_rs_reads_are_left_as_they_are() {
    for doc in [
        &b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title></channel></rss>"[..],
        b"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"html\">t</title></feed>",
        b"{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": [\"<rss>\"]}",
        b"<html><body>not a feed</body></html>",
        b"",
    ] {
        let n = normalize(doc);
        assert!(matches!(n.bytes, Cow::Borrowed(_)));
        assert_eq!((n.format, n.entry_ids), (None, None));
    }
}

#[test]
fn rss_roots_feed_rs_refuses_are_given_a_version_and_lose_their_namespace() {
    for (root, format, fixed) in [
        ("<rss>", Some(FeedFormat::Rss2), "<rss version=\"2.0\">"),
        (
            "<rss version=\"0.94\">",
            Some(FeedFormat::Rss0),
            "<rss version=\"2.0\">",
        ),
        (
            "<rss version=\" 2.0 \">",
            Some(FeedFormat::Rss2),
            "<rss version=\"2.0\">",
        ),
        (
            "<rss version=\"0.91\" xmlns=\"http://backend.userland.com/rss2\">",
            None,
            "<rss version=\"0.91\">",
        ),
        (
            "<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\" version=\"2.0\" \
             xmlns=\"http://backend.userland.com/rss2\">",
            None,
            "<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\" version=\"2.0\">",
        ),
    ] {
        let doc =
            format!("<?xml version=\"1.0\"?>\n{root}<channel><title>t</title></channel></rss>");
        let n = normalize(doc.as_bytes());
        assert_eq!(n.format, format, "{root}");
        assert_eq!(
            text(&n),
            format!("<?xml version=\"1.0\"?>\n{fixed}<channel><title>t</title></channel></rss>")
        );
    }
}

#[test]
fn rss_090_is_put_in_the_rss_1_namespace() {
    let doc = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
               xmlns=\"http://my.netscape.com/rdf/simple/0.9/\"><item><title>a</title>\
               <link>https://example.org/a</link></item></rdf:RDF>";
    let n = normalize(doc.as_bytes());
    assert_eq!(n.format, Some(FeedFormat::Rss0));
    assert!(text(&n).contains("xmlns=\"http://purl.org/rss/1.0/\""));
    assert_eq!(n.entry_ids, Some(vec![None]));
}

#[test]
fn rss_1_items_are_named_by_rdf_about_and_linked_to_it_when_they_have_no_link() {
    let doc = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
               xmlns=\"http://purl.org/rss/1.0/\">\
               <item rdf:about=\"https://example.org/1\"><link>https://example.org/one</link></item>\
               <item rdf:about=\" https://example.org/2?a=1&amp;b=2 \"><title>two</title></item>\
               <item><title>neither: feed-rs drops it</title></item>\
               <item rdf:about=\"https://example.org/4\"/></rdf:RDF>";
    let n = normalize(doc.as_bytes());
    assert_eq!(n.format, None);
    let ids: Vec<Option<&str>> = n
        .entry_ids
        .as_ref()
        .unwrap()
        .iter()
        .map(Option::as_deref)
        .collect();
    assert_eq!(
        ids,
        [
            Some("https://example.org/1"),
            Some("https://example.org/2?a=1&b=2"),
            Some("https://example.org/4")
        ]
    );
    let text = text(&n);
    assert!(
        text.contains("<title>two</title><link>https://example.org/2?a=1&amp;b=2</link></item>")
    );
    assert!(text.contains(
        "<item rdf:about=\"https://example.org/4\"><link>https://example.org/4</link></item>"
    ));
    // Items that all have links are not rewritten.
    let linked = "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
                  xmlns=\"http://purl.org/rss/1.0/\"><item rdf:about=\"a\"><link>b</link></item></rdf:RDF>";
    assert!(matches!(
        normalize(linked.as_bytes()).bytes,
        Cow::Borrowed(_)
    ));
}

#[test]
fn atom_03_becomes_atom_1() {
    let doc = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\
               <feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\">\
               <tagline>t</tagline><copyright>c</copyright><modified>m</modified>\
               <generator url=\"https://example.org/g\">g</generator>\
               <entry><issued>i</issued><created>c</created><author><name>n</name><url>u</url></author>\
               <content type=\"text/html\" mode=\"escaped\">&lt;p&gt;</content></entry></feed>";
    let n = normalize(doc.as_bytes());
    assert_eq!(n.format, Some(FeedFormat::Atom03));
    assert_eq!(
        text(&n),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <feed version=\"0.3\" xmlns=\"http://www.w3.org/2005/Atom\">\
         <subtitle>t</subtitle><rights>c</rights><updated>m</updated>\
         <generator uri=\"https://example.org/g\">g</generator>\
         <entry><published>i</published><author><name>n</name><uri>u</uri></author>\
         <content type=\"html\">&lt;p&gt;</content></entry></feed>"
    );
}

#[test]
fn a_document_in_a_declared_single_byte_encoding_is_rewritten_as_utf8() {
    let doc = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><feed version=\"0.3\">\
                <tagline>Caf\xe9 \x80</tagline></feed>";
    assert_eq!(
        text(&normalize(doc)),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feed version=\"0.3\"><subtitle>Café €</subtitle></feed>"
    );
}

#[test]
fn ill_formed_documents_are_left_to_the_parser() {
    let doc = b"<feed xmlns=\"http://purl.org/atom/ns#\"><tagline>unclosed</feed>";
    let n = normalize(doc);
    assert_eq!(&n.bytes[..], &doc[..]);
    assert_eq!(n.format, Some(FeedFormat::Atom03));
}

#[test]
fn atom_text_constructs_feed_rs_refuses_are_retyped_or_decoded() {
    let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"\">t</title>\
               <entry><title type=\"text/plain\">a</title>\
               <summary type=\"base64\">PGI+YjwvYj4=</summary>\
               <content type=\"application/xhtml+xml\"><div>x</div></content></entry>\
               <entry><content type=\"image/png\">iVBORw0KGgo=</content>\
               <content type=\"html\" src=\"https://example.org/c\">&lt;p&gt;</content></entry></feed>";
    let n = normalize(doc.as_bytes());
    assert_eq!(n.format, None);
    assert_eq!(
        text(&n),
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"text\">t</title>\
         <entry><title type=\"text\">a</title>\
         <summary type=\"text\">&lt;b&gt;b&lt;/b&gt;</summary>\
         <content type=\"xhtml\"><div>x</div></content></entry>\
         <entry><content type=\"html\">&lt;p&gt;</content></entry></feed>"
    );
}

#[test]
fn an_unreadable_xml_base_and_empty_media_text_cost_only_themselves() {
    let doc = "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>\
               <item xml:base=\"https://[::1\"><media:title type=\"text\">t</media:title>\
               <media:description/><media:description type=\"plain\"></media:description>\
               <media:description>kept</media:description></item></channel></rss>";
    assert_eq!(
        text(&normalize(doc.as_bytes())),
        "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>\
         <item><media:title type=\"plain\">t</media:title>\
         <media:description>kept</media:description></item></channel></rss>"
    );
}

mod hostile {
    use proptest::prelude::*;

    use super::super::normalize;
    use crate::parse::prepass::prepare;

    /// Pieces of the dialects the pass rewrites, put together any which way.
    const PIECES: &[&str] = &[
        "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
        "<feed xmlns=\"http://purl.org/atom/ns#\">",
        "<feed version=\"0.3\">",
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\">",
        "<rss xmlns=\"http://backend.userland.com/rss2\">",
        "<entry>",
        "</entry>",
        "<item rdf:about=\"https://example.org/&amp;\">",
        "<item>",
        "</item>",
        "<link>",
        "</link>",
        "<content type=\"text/html\" mode=\"base64\">",
        "<content type=\"multipart/alternative\">",
        "<content src=\"x\" type=\"\">",
        "</content>",
        "<summary type=\"base64\"/>",
        "<media:title xmlns:media=\"http://search.yahoo.com/mrss/\" type=\"x\">",
        "</media:title>",
        "<created>",
        "</created>",
        "<author><url>u</url></author>",
        "<x xml:base=\"http://[\">",
        "</x>",
        "PHA+",
        "&lt;&#1;&nbsp;",
        "<![CDATA[<]]>",
        "\u{feff}",
        "\u{0}",
        "</feed>",
        "</rss>",
    ];

    proptest! {
        #[test]
        fn no_document_makes_the_rewrites_panic(
            picks in prop::collection::vec(0..PIECES.len(), 0..40),
            noise in prop::collection::vec(any::<u8>(), 0..16),
        ) {
            let mut doc: Vec<u8> = picks.iter().flat_map(|i| PIECES[*i].bytes()).collect();
            doc.extend_from_slice(&noise);
            let prepared = prepare(&doc);
            let _ = normalize(&prepared);
            let _ = normalize(&doc);
        }
    }
}
