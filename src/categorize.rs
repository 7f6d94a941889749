//! Categories and drop rules: `[[rule]]`s compiled once into a [`Categorizer`]
//! that gives each item its categories, or drops it. A category has a label,
//! shown as first spelled, and a slug it is matched and linked by.

use regex::Regex;

use crate::model::{Item, Labels, Source};

/// A `[[rule]]`: regexes ANDed over an item's fields; adds a category or drops the item.
#[derive(Debug, Clone)]
pub struct Rule {
    pub action: RuleAction,
    pub title: Option<Regex>,
    pub content: Option<Regex>,
    pub link: Option<Regex>,
    pub author: Option<Regex>,
    pub source: Option<Regex>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleAction {
    AddCategory(String),
    Drop,
}

/// What the rules decided about an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// kept, with its categories' labels, each slug once
    Keep(Vec<String>),
    Drop,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Categorizer {
    rules: Vec<Rule>,
}

impl Categorizer {
    pub fn new(rules: Vec<Rule>) -> Categorizer {
        Categorizer { rules }
    }

    /// The item's categories: its source's, then its own (unless the
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
        Verdict::Keep(categories.into_vec())
    }

    /// The labels the operator chose: `sources`' categories, then the rules',
    /// one per slug, the first spelling in the config.
    pub(crate) fn configured_labels(&self, sources: &[Source]) -> Vec<String> {
        configured_labels(sources, &self.rules)
    }
}

/// The labels of the categories `sources` and `rules` name, in config order,
/// one per slug.
pub(crate) fn configured_labels(sources: &[Source], rules: &[Rule]) -> Vec<String> {
    let mut labels = Labels::default();
    for c in sources.iter().flat_map(|s| &s.categories) {
        labels.add(c);
    }
    for rule in rules {
        if let RuleAction::AddCategory(c) = &rule.action {
            labels.add(c);
        }
    }
    labels.into_vec()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::{IdentityMode, MAX_LABEL_CHARS, Person, label, slug};
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
