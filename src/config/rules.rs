//! The `[[rule]]` tables: matchers and an action, built into
//! [`Rule`]s for the categorizer.

use std::ops::Range;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::problems::Problems;
use super::sources::category_label;
use crate::categorize::{Rule, RuleAction};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleConfig {
    category: Option<Spanned<String>>,
    drop: Option<Spanned<bool>>,
    title: Option<Spanned<String>>,
    content: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
}

impl RuleConfig {
    pub(super) fn build(self, span: Range<usize>, p: &mut Problems) -> Option<Rule> {
        let mut ok = true;
        let mut regex = |field: &Option<Spanned<String>>, key: &str| {
            let f = field.as_ref()?;
            match Regex::new(f.get_ref()) {
                Ok(r) => Some(r),
                Err(e) => {
                    let msg = e.to_string().replace('\n', " ");
                    p.at(f.span(), format!("invalid regex for `{key}`: {msg}"));
                    ok = false;
                    None
                }
            }
        };
        let rule = Rule {
            action: RuleAction::Drop,
            title: regex(&self.title, "title"),
            content: regex(&self.content, "content"),
            link: regex(&self.link, "link"),
            author: regex(&self.author, "author"),
            source: regex(&self.source, "source"),
        };
        let anchor = span;
        let drop = self.drop.as_ref().is_some_and(|d| *d.get_ref());
        let matchers = [
            &self.title,
            &self.content,
            &self.link,
            &self.author,
            &self.source,
        ];
        if matchers.iter().all(|m| m.is_none()) {
            p.at(
                anchor.clone(),
                "a rule needs at least one of title, content, link, author, source",
            );
            ok = false;
        }
        let action = match (&self.category, drop) {
            (Some(c), false) => match category_label(c, p) {
                Some(label) => RuleAction::AddCategory(label),
                None => {
                    ok = false;
                    RuleAction::Drop
                }
            },
            (None, true) => RuleAction::Drop,
            (Some(c), true) => {
                p.at(
                    c.span(),
                    "a rule either adds a `category` or sets `drop = true`, not both",
                );
                ok = false;
                RuleAction::Drop
            }
            (None, false) => {
                p.at(anchor, "a rule needs `category = \"...\"` or `drop = true`");
                ok = false;
                RuleAction::Drop
            }
        };
        ok.then_some(Rule { action, ..rule })
    }
}
