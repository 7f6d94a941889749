//! Atom 0.3 (the 2003 draft, namespace `http://purl.org/atom/ns#`) elements
//! that Atom 1.0 (RFC 4287) renamed; what else differs is in its text
//! constructs (`mode`, MIME `type`s), handled with Atom 1.0's own.

/// What an Atom 0.3 element becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rename {
    /// Kept as it is.
    Same,
    /// Renamed to this Atom 1.0 element.
    To(&'static str),
    /// Left out.
    Drop,
}

/// Where an Atom 0.3 element is, as far as renaming it needs.
#[derive(Debug, Default)]
pub struct Scope {
    /// An `issued` was seen in the feed or entry being read.
    issued: bool,
}

impl Scope {
    /// The Atom 1.0 name of the element `local` whose parent is `parent`.
    pub fn rename(&mut self, local: &str, parent: Option<&str>) -> Rename {
        match (local, parent) {
            ("feed" | "entry", _) => {
                self.issued = false;
                Rename::Same
            }
            // `<tagline>` in the feed: its description.
            ("tagline", _) => Rename::To("subtitle"),
            // `<copyright>`: rights.
            ("copyright", _) => Rename::To("rights"),
            // `<modified>`: the last change, Atom 1.0's `updated`.
            ("modified", _) => Rename::To("updated"),
            // `<issued>`: when it was first made available, Atom 1.0's `published`.
            ("issued", _) => {
                self.issued = true;
                Rename::To("published")
            }
            // `<created>`: when it was written; stands for `published` only when
            // there is no `issued` (one after it overrides it).
            ("created", _) if self.issued => Rename::Drop,
            ("created", _) => Rename::To("published"),
            // `<url>` of an `<author>` or `<contributor>`: Atom 1.0's `uri`.
            ("url", Some("author" | "contributor")) => Rename::To("uri"),
            _ => Rename::Same,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_atom_1_renamed_are_renamed() {
        let mut scope = Scope::default();
        assert_eq!(
            scope.rename("tagline", Some("feed")),
            Rename::To("subtitle")
        );
        assert_eq!(
            scope.rename("copyright", Some("feed")),
            Rename::To("rights")
        );
        assert_eq!(scope.rename("url", Some("author")), Rename::To("uri"));
        assert_eq!(scope.rename("url", Some("feed")), Rename::Same);
        assert_eq!(scope.rename("title", Some("entry")), Rename::Same);
    }

    #[test]
    fn issued_is_published_and_created_only_stands_in_for_it() {
        let mut scope = Scope::default();
        scope.rename("entry", Some("feed"));
        assert_eq!(
            scope.rename("created", Some("entry")),
            Rename::To("published")
        );
        assert_eq!(
            scope.rename("issued", Some("entry")),
            Rename::To("published")
        );
        assert_eq!(scope.rename("created", Some("entry")), Rename::Drop);
        scope.rename("entry", Some("feed"));
        assert_eq!(
            scope.rename("created", Some("entry")),
            Rename::To("published")
        );
    }
}
