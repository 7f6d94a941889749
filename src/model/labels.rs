//! Category names: the label shown (the publisher's spelling, tidied) and the
//! slug a category is matched and linked by.

/// Longest category label kept, in characters: anything longer is a sentence
/// pasted into a category field, not a name to file stories under.
pub const MAX_LABEL_CHARS: usize = 100;
/// Longest slug a category may have, in characters: as long as a `category=`
/// filter or a `/c/{slug}` address may be.
pub const MAX_SLUG_CHARS: usize = 200;

/// Labels collected in order, each slug once.
#[derive(Default)]
pub struct Labels {
    labels: Vec<String>,
    slugs: Vec<String>,
}

impl Labels {
    /// Adds `raw` as a label unless it is none or its slug is already there.
    pub fn add(&mut self, raw: &str) {
        let Some((label, slug)) = label_and_slug(raw) else {
            return;
        };
        if !self.slugs.contains(&slug) {
            self.slugs.push(slug);
            self.labels.push(label);
        }
    }

    pub fn into_vec(self) -> Vec<String> {
        self.labels
    }
}

/// A category's label as shown: the publisher's spelling with white space
/// trimmed and each run of it made one space, control characters removed.
/// `None` when it has nothing to name it by (no letter or digit) or is too
/// long to be a name.
pub fn label(raw: &str) -> Option<String> {
    label_and_slug(raw).map(|(label, _)| label)
}

/// [`label`], with its [`slug`].
fn label_and_slug(raw: &str) -> Option<(String, String)> {
    // Most labels are written tidily: then they are taken as they are.
    let tidy = !raw.starts_with(' ')
        && !raw.ends_with(' ')
        && !raw.contains("  ")
        && !raw
            .chars()
            .any(|c| c.is_control() || (c.is_whitespace() && c != ' '));
    let label = if tidy {
        raw.to_string()
    } else {
        let cleaned: String = raw
            .chars()
            .filter(|c| !c.is_control() || c.is_whitespace())
            .collect();
        cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let slug = slug(&label);
    let slug_chars = slug.chars().count();
    (slug_chars > 0 && slug_chars <= MAX_SLUG_CHARS && label.chars().count() <= MAX_LABEL_CHARS)
        .then_some((label, slug))
}

/// A name as it appears in URLs and is matched by: lowercase letters and
/// digits, with runs of anything else turned into one `-`. A `+` or `#` that
/// ends a word is part of the name ("C++", "C#", "F#", "Google+") and is
/// spelled out, so C++ is not C; elsewhere ("#rust", "a + b") it separates.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    // whether a `-` goes before the next letter or digit
    let mut separate = false;
    // whether the last character was a letter or digit, or a sign spelled out
    let (mut after_word, mut after_sign) = (false, false);
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if separate && !out.is_empty() {
                out.push('-');
            }
            out.push(c);
            (separate, after_word, after_sign) = (false, true, false);
        } else if matches!(c, '+' | '#') && (after_word || after_sign) {
            out.push('-');
            out.push_str(if c == '+' { "plus" } else { "sharp" });
            (separate, after_word, after_sign) = (true, false, true);
        } else {
            (separate, after_word, after_sign) = (true, false, false);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_tidied_whether_or_not_they_come_tidy() {
        let cases = [
            ("Machine Learning", Some("Machine Learning")),
            ("  Machine \t\n Learning ", Some("Machine Learning")),
            ("Machine\u{a0}Learning", Some("Machine Learning")),
            ("Mach\u{0}ine\u{7f} Learning", Some("Machine Learning")),
            ("C++", Some("C++")),
            ("---", None),
            ("", None),
            (" ", None),
        ];
        for (raw, want) in cases {
            assert_eq!(label(raw).as_deref(), want, "{raw:?}");
        }
        let long = "word ".repeat(30);
        assert_eq!(label(&long), None, "over {MAX_LABEL_CHARS} characters");
        let mut labels = Labels::default();
        for raw in ["Rust", " rust ", "RUST", "Go", "", "go"] {
            labels.add(raw);
        }
        assert_eq!(labels.into_vec(), ["Rust", "Go"]);
    }
}
