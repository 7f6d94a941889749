//! Categories and drop rules: `[[rule]]`s compiled once into a [`Categorizer`]
//! that gives each item its categories, or drops it.

use crate::config::{Rule, RuleAction, normalize_category};
use crate::model::{Item, Source};

/// What the rules decided about an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
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

    /// The item's categories (SPEC §3): its source's, then its own, then those of
    /// every rule that matches, each once; or `Drop` when a drop rule matches.
    pub fn categorize(&self, source: &Source, item: &Item) -> Verdict {
        let mut categories: Vec<String> = Vec::new();
        let mut add = |c: String| {
            if !c.is_empty() && !categories.contains(&c) {
                categories.push(c);
            }
        };
        for c in source.categories.iter().chain(&item.categories) {
            add(normalize_category(c));
        }
        for rule in &self.rules {
            if !matches(rule, source, item) {
                continue;
            }
            match &rule.action {
                RuleAction::Drop => return Verdict::Drop,
                RuleAction::AddCategory(c) => add(c.clone()),
            }
        }
        Verdict::Keep(categories)
    }
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

/// A category's name as it appears in URLs: lowercase letters and digits, with
/// runs of anything else turned into one `-`.
pub fn slug(category: &str) -> String {
    let mut out = String::with_capacity(category.len());
    for c in category.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
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
        }
    }

    fn item(title: &str) -> Item {
        Item {
            guid: None,
            link: Some("https://openai.example/index/x".into()),
            title: Some(title.into()),
            published: None,
            updated: None,
            authors: vec![Person {
                name: Some("Sam".into()),
                email: None,
                uri: None,
            }],
            categories: vec!["Research".into(), "ai".into()],
            summary: None,
            content: Some("<p>about language models</p>".into()),
            enclosures: vec![],
            base: None,
            image: None,
        }
    }

    #[test]
    fn categories_come_from_source_item_and_rules() {
        let c = categorizer(
            "[[rule]]\ncategory = \"LLM\"\ntitle = \"(?i)\\\\bgpt\\\\b\"\n[[rule]]\ncategory = \"never\"\ntitle = \"zzz\"\n",
        );
        assert_eq!(
            c.categorize(&source(), &item("GPT-7 released")),
            Verdict::Keep(vec!["ai".into(), "research".into(), "llm".into()])
        );
        assert_eq!(
            c.categorize(&source(), &item("Other news")),
            Verdict::Keep(vec!["ai".into(), "research".into()])
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
        assert_eq!(slug("Machine Learning"), "machine-learning");
        assert_eq!(slug("  C++ / Rust "), "c-rust");
        assert_eq!(slug("Économie"), "économie");
        assert_eq!(slug("ai"), "ai");
    }
}
