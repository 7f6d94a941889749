//! Text cut to a length for a summary or a title, at a word boundary.

/// `text` cut to at most `max_chars` characters, then `ellipsis`. The cut falls
/// at a word boundary (the last white space that fits), its trailing white space
/// and `,;:` dropped; only a word longer than half of `max_chars` (a URL, text in
/// a script written without spaces) is cut inside, between two characters a
/// reader sees as two (never before a combining mark or inside an emoji
/// sequence or flag).
pub fn shorten(text: String, max_chars: usize, ellipsis: &str) -> String {
    let Some((end, _)) = text.char_indices().nth(max_chars) else {
        return text;
    };
    let head = &text[..end];
    let cut = if text[end..].starts_with(char::is_whitespace) {
        head
    } else {
        match head.rfind(char::is_whitespace) {
            Some(space) if head[..space].chars().count() >= max_chars / 2 => &head[..space],
            _ => &head[..character_boundary(&text, end)],
        }
    };
    let cut = cut.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'));
    format!("{cut}{ellipsis}")
}

/// The last byte offset at or before `at` (a char boundary of `text`) that does
/// not split what a reader sees as one character: not before a combining mark, a
/// variation selector, an emoji modifier or a zero-width joiner, not after a
/// joiner, and not between the two regional indicators of a flag.
fn character_boundary(text: &str, mut at: usize) -> usize {
    let continues = |c: char| {
        matches!(c,
            '\u{300}'..='\u{36f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}'
            | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}' | '\u{fe00}'..='\u{fe0f}'
            | '\u{200d}' | '\u{1f3fb}'..='\u{1f3ff}' | '\u{e0020}'..='\u{e007f}')
    };
    let regional = |c: char| ('\u{1f1e6}'..='\u{1f1ff}').contains(&c);
    while let Some(before) = text[..at].chars().next_back() {
        let after = text[at..].chars().next();
        if after.is_some_and(continues) || before == '\u{200d}' {
            at -= before.len_utf8();
            continue;
        }
        if after.is_some_and(regional) && regional(before) {
            // Flags pair up from the start of a run of regional indicators.
            let run = text[..at]
                .chars()
                .rev()
                .take_while(|c| regional(*c))
                .count();
            if run % 2 == 1 {
                at -= before.len_utf8();
            }
        }
        break;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_cut_at_a_word_boundary() {
        let cases = [
            // (text, max_chars, shortened)
            ("The quick brown fox jumps", 12, "The quick…"),
            ("The quick brown fox jumps", 15, "The quick brown…"),
            ("The quick brown fox jumps", 25, "The quick brown fox jumps"),
            ("First, second, third", 9, "First…"),
            ("Ein Übergrößenträger läuft", 24, "Ein Übergrößenträger…"),
            ("Ünïcödé wörds ärë çüt", 16, "Ünïcödé wörds…"),
        ];
        for (text, max, want) in cases {
            assert_eq!(shorten(text.into(), max, "…"), want, "{text:?} to {max}");
        }
    }

    #[test]
    fn a_word_longer_than_the_room_is_cut_between_characters() {
        let url = "see https://example.org/a/very/long/path/to/a/page";
        assert_eq!(shorten(url.into(), 20, "…"), "see https://example.…");
        // Japanese is written without spaces: any character boundary will do.
        assert_eq!(shorten("日本語の文章です".into(), 4, "…"), "日本語の…");
        // An accent written as a combining mark stays on its letter.
        assert_eq!(shorten("Cafe\u{301}s".into(), 4, "…"), "Caf…");
        // Emoji sequences and flags stay whole.
        assert_eq!(shorten("👍🏽👍🏽".into(), 1, "…"), "…");
        assert_eq!(shorten("👨\u{200d}👩\u{200d}👧x".into(), 2, "…"), "…");
        assert_eq!(shorten("🇫🇷🇩🇪🇯🇵".into(), 3, "…"), "🇫🇷…");
        assert_eq!(shorten("🇫🇷🇩🇪🇯🇵".into(), 4, "…"), "🇫🇷🇩🇪…");
    }
}
