//! Categories and drop rules: `[[rule]]`s compiled once into a [`Categorizer`]
//! that gives each item its categories, or drops it. A category has a label,
//! shown as first spelled, and a slug it is matched and linked by (SPEC §3).

use crate::config::{Rule, RuleAction};
use crate::model::{Item, Source};

/// Longest category label kept, in characters: anything longer is a sentence
/// pasted into a category field, not a name to file stories under.
pub const MAX_LABEL_CHARS: usize = 100;
/// Longest slug a category may have, in characters: as long as a `category=`
/// filter or a `/c/{slug}` address may be.
pub const MAX_SLUG_CHARS: usize = 200;

/// What the rules decided about an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// kept, with its categories' labels, each slug once
    Keep(Vec<String>),
    Drop,
}

#[derive(Debug, Clone, Default)]
pub struct Categorizer {
    rules: Vec<Rule>,
}

impl Categorizer {
    pub fn new(rules: Vec<Rule>) -> Categorizer {
        Categorizer { rules }
    }

    /// The item's categories (SPEC §3): its source's, then its own (unless the
    /// source sets `feed_categories = false`), then those of every rule that
    /// matches; one label per slug, the first spelling met; or `Drop` when a
    /// drop rule matches.
    pub fn categorize(&self, source: &Source, item: &Item) -> Verdict {
        let mut categories = Labels::default();
        for c in &source.categories {
            categories.add(c);
        }
        if source.feed_categories {
            for c in &item.categories {
                categories.add(c);
            }
        }
        for rule in &self.rules {
            if !matches(rule, source, item) {
                continue;
            }
            match &rule.action {
                RuleAction::Drop => return Verdict::Drop,
                RuleAction::AddCategory(c) => categories.add(c),
            }
        }
        Verdict::Keep(categories.labels)
    }

    /// The labels the operator chose: `sources`' categories, then the rules',
    /// one per slug, the first spelling in the config.
    pub fn configured_labels(&self, sources: &[Source]) -> Vec<String> {
        configured_labels(sources, &self.rules)
    }
}

/// The labels of the categories `sources` and `rules` name, in config order,
/// one per slug.
pub fn configured_labels(sources: &[Source], rules: &[Rule]) -> Vec<String> {
    let mut labels = Labels::default();
    for c in sources.iter().flat_map(|s| &s.categories) {
        labels.add(c);
    }
    for rule in rules {
        if let RuleAction::AddCategory(c) = &rule.action {
            labels.add(c);
        }
    }
    labels.labels
}

/// Labels collected in order, each slug once.
#[derive(Default)]
pub struct Labels {
    labels: Vec<String>,
    slugs: Vec<String>,
}

impl Labels {
    /// Adds `raw` as a label unless it is none or its slug is already there.
    pub fn add(&mut self, raw: &str) {
        let Some(label) = label(raw) else { return };
        let slug = slug(&label);
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
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect();
    let label = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let slug_chars = slug(&label).chars().count();
    (slug_chars > 0 && slug_chars <= MAX_SLUG_CHARS && label.chars().count() <= MAX_LABEL_CHARS)
        .then_some(label)
}

/// Every matcher the rule has must hold (AND); a matcher on a field the item
/// lacks does not hold.
fn matches(rule: &Rule, source: &Source, item: &Item) -> bool {
    let field = |re: &Option<regex::Regex>, values: &[Option<&str>]| match re {
        None => true,
        Some(re) => values.iter().flatten().any(|v| re.is_match(v)),
    };
    let authors: Vec<Option<&str>> = item.authors.iter().map(|a| a.name.as_deref()).collect();
    field(&rule.title, &[item.title.as_deref()])
        && field(
            &rule.content,
            &[item.content.as_deref(), item.summary.as_deref()],
        )
        && field(&rule.link, &[item.link.as_deref()])
        && field(&rule.author, &authors)
        && field(&rule.source, &[Some(source.name.as_str())])
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
    use crate::config::Config;
    use crate::model::{IdentityMode, Person};
    use std::path::Path;

    fn categorizer(rules: &str) -> Categorizer {
        Categorizer::new(Config::from_str(rules, Path::new("t.toml")).unwrap().rules)
    }

    fn source() -> Source {
        Source {
            name: "OpenAI News".into(),
            url: url::Url::parse("https://openai.example/rss.xml").unwrap(),
            categories: vec!["ai".into()],
            schedule: None,
            identity: IdentityMode::Auto,
            feed_categories: true,
        }
    }

    fn item(title: &str) -> Item {
        Item {
            link: Some("https://openai.example/index/x".into()),
            title: Some(title.into()),
            authors: vec![Person {
                name: Some("Sam".into()),
                email: None,
                uri: None,
            }],
            categories: vec!["Research".into(), "ai".into()],
            content: Some("<p>about language models</p>".into()),
            enclosures: vec![],
            ..Item::default()
        }
    }

    #[test]
    fn categories_come_from_source_item_and_rules() {
        let c = categorizer(
            "[[rule]]\ncategory = \"LLM\"\ntitle = \"(?i)\\\\bgpt\\\\b\"\n[[rule]]\ncategory = \"never\"\ntitle = \"zzz\"\n",
        );
        assert_eq!(
            c.categorize(&source(), &item("GPT-7 released")),
            Verdict::Keep(vec!["ai".into(), "Research".into(), "LLM".into()])
        );
        assert_eq!(
            c.categorize(&source(), &item("Other news")),
            Verdict::Keep(vec!["ai".into(), "Research".into()])
        );
    }

    #[test]
    fn spellings_of_one_category_are_one_category_shown_as_first_met() {
        let c = categorizer("[[rule]]\ncategory = \"machine  learning\"\ntitle = \"GPT\"\n");
        let mut story = item("GPT");
        story.categories = [
            "Machine Learning",
            " machine\tlearning ",
            "MACHINE-LEARNING",
            "AI",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            c.categorize(&source(), &story),
            Verdict::Keep(vec!["ai".into(), "Machine Learning".into()])
        );
    }

    #[test]
    fn a_source_may_ignore_the_categories_its_feed_gives() {
        let c = categorizer("[[rule]]\ncategory = \"LLM\"\ntitle = \"GPT\"\n");
        let quiet = Source {
            feed_categories: false,
            ..source()
        };
        assert_eq!(
            c.categorize(&quiet, &item("GPT-7")),
            Verdict::Keep(vec!["ai".into(), "LLM".into()])
        );
    }

    #[test]
    fn labels_keep_the_publishers_spelling_and_drop_what_names_nothing() {
        let cases = [
            ("Machine Learning", Some("Machine Learning")),
            ("  Machine \n\u{a0} Learning\t", Some("Machine Learning")),
            ("C++", Some("C++")),
            ("Économie", Some("Économie")),
            ("في العمق", Some("في العمق")),
            ("bell\u{7}ed", Some("belled")),
            ("", None),
            ("   ", None),
            ("!!!", None),
            ("—", None),
        ];
        for (raw, want) in cases {
            assert_eq!(label(raw).as_deref(), want, "{raw:?}");
        }
        let long = "word ".repeat(MAX_LABEL_CHARS / 5 + 1);
        assert_eq!(label(&long), None);
        assert_eq!(
            label(&format!("c{}", "+".repeat(60))),
            None,
            "slug too long"
        );
    }

    #[test]
    fn configured_labels_keep_config_order_one_per_slug() {
        let config = Config::from_str(
            "[[source]]\nname = \"a\"\nurl = \"https://a.example/\"\ncategories = [\"AI\", \"Rust\"]\n\
             [[source]]\nname = \"b\"\nurl = \"https://b.example/\"\ncategories = [\"ai\", \"Go\"]\n\
             [[rule]]\ncategory = \"rust\"\ntitle = \"x\"\n[[rule]]\ncategory = \"Machine Learning\"\ntitle = \"y\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        assert_eq!(
            configured_labels(&config.sources, &config.rules),
            ["AI", "Rust", "Go", "Machine Learning"]
        );
    }

    #[test]
    fn matchers_are_anded() {
        let c = categorizer(
            "[[rule]]\ncategory = \"x\"\ntitle = \"GPT\"\nauthor = \"^Sam$\"\nsource = \"^OpenAI\"\ncontent = \"language\"\nlink = \"/index/\"\n[[rule]]\ncategory = \"y\"\ntitle = \"GPT\"\nauthor = \"^Ann$\"\n",
        );
        let Verdict::Keep(cats) = c.categorize(&source(), &item("GPT")) else {
            panic!("kept")
        };
        assert!(cats.contains(&"x".to_string()));
        assert!(!cats.contains(&"y".to_string()));
    }

    #[test]
    fn a_drop_rule_drops() {
        let c = categorizer("[[rule]]\ndrop = true\ntitle = \"(?i)sponsored\"\n");
        assert_eq!(
            c.categorize(&source(), &item("SPONSORED: a VPN")),
            Verdict::Drop
        );
        assert!(matches!(
            c.categorize(&source(), &item("News")),
            Verdict::Keep(_)
        ));
    }

    #[test]
    fn slugs() {
        let cases = [
            ("Machine Learning", "machine-learning"),
            ("  Machine   learning ", "machine-learning"),
            ("  C++ / Rust ", "c-plus-plus-rust"),
            ("C++", "c-plus-plus"),
            ("C", "c"),
            ("C#", "c-sharp"),
            ("F#", "f-sharp"),
            ("Google+", "google-plus"),
            ("#rust", "rust"),
            ("a + b", "a-b"),
            ("Économie", "économie"),
            ("ai", "ai"),
            ("-- x --", "x"),
        ];
        for (name, want) in cases {
            assert_eq!(slug(name), want, "{name:?}");
        }
    }
}
