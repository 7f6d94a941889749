//! Rendered pages kept for repeated requests, within a budget of bytes: each
//! entry costs its body, its key and a fixed overhead. When a new page does not
//! fit, the entries not asked for since the last sweep go first (CLOCK, a cheap
//! stand-in for least-recently-used). A page larger than the whole budget is
//! served but not kept. Each page records the generation (state of the
//! database) it was rendered at; a page of an older generation is still at
//! hand to serve while its successor renders.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use axum::body::Bytes;
use chrono::{DateTime, Utc};

use super::params::Params;

/// Bytes an entry costs besides its body and key: the map slot, the queue
/// slot, the `Rendered` and its ETag.
const ENTRY_OVERHEAD: usize = 256;

/// Which stories a page shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Category(String),
    /// a source, by its configured name
    Source(String),
}

/// What a page is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Atom,
    Rss,
    Json,
    Html,
    /// the page listing every category
    Categories,
    Opml,
}

/// Everything a page's bytes depend on, besides the database and settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub scope: Scope,
    pub kind: Kind,
    pub params: Params,
}

impl PageKey {
    fn weight(&self) -> usize {
        let scope = match &self.scope {
            Scope::All => 0,
            Scope::Category(s) | Scope::Source(s) => s.len(),
        };
        std::mem::size_of::<PageKey>() + scope + self.params.weight()
    }
}

/// A page ready to send.
#[derive(Debug)]
pub struct Rendered {
    pub body: Bytes,
    pub content_type: &'static str,
    pub etag: String,
    pub last_modified: DateTime<Utc>,
}

impl Rendered {
    pub fn new(body: Vec<u8>, content_type: &'static str, last_modified: DateTime<Utc>) -> Self {
        Rendered {
            etag: format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&body)),
            body: Bytes::from(body),
            content_type,
            last_modified,
        }
    }
}

struct Entry {
    page: Arc<Rendered>,
    generation: u64,
    cost: usize,
    /// asked for since the sweep last passed it
    used: bool,
}

pub struct PageCache {
    budget: usize,
    used: usize,
    entries: HashMap<PageKey, Entry>,
    /// every key of `entries` once, in the order the sweep visits them
    order: VecDeque<PageKey>,
}

impl PageCache {
    pub fn new(budget: u64) -> Self {
        PageCache {
            budget: usize::try_from(budget).unwrap_or(usize::MAX),
            used: 0,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The page under `key` if it was rendered at `generation`.
    pub fn get(&mut self, key: &PageKey, generation: u64) -> Option<Arc<Rendered>> {
        self.get_any(key)
            .filter(|(_, g)| *g == generation)
            .map(|(page, _)| page)
    }

    /// The page under `key`, of whatever generation, with that generation.
    pub fn get_any(&mut self, key: &PageKey) -> Option<(Arc<Rendered>, u64)> {
        let entry = self.entries.get_mut(key)?;
        entry.used = true;
        Some((entry.page.clone(), entry.generation))
    }

    /// Keeps `page`, rendered at `generation`, under `key` if it fits the
    /// budget at all, making room.
    pub fn insert(&mut self, key: PageKey, page: Arc<Rendered>, generation: u64) {
        // The key is held twice: in the map and in the sweep's queue.
        let cost = page.body.len() + page.etag.len() + 2 * key.weight() + ENTRY_OVERHEAD;
        if cost > self.budget {
            return;
        }
        if let Some(old) = self.entries.get_mut(&key) {
            self.used = self.used - old.cost + cost;
            *old = Entry {
                page,
                generation,
                cost,
                used: true,
            };
        } else {
            self.used += cost;
            self.entries.insert(
                key.clone(),
                Entry {
                    page,
                    generation,
                    cost,
                    used: false,
                },
            );
            self.order.push_back(key);
        }
        self.shrink_to(self.budget);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.used = 0;
    }

    pub fn set_budget(&mut self, budget: u64) {
        self.budget = usize::try_from(budget).unwrap_or(usize::MAX);
        self.shrink_to(self.budget);
    }

    /// Bytes the entries cost.
    pub fn used(&self) -> usize {
        self.used
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops entries until they cost at most `limit`: each entry asked for
    /// since the last pass gets one more round.
    fn shrink_to(&mut self, limit: usize) {
        while self.used > limit {
            let Some(key) = self.order.pop_front() else {
                // unreachable while `order` and `entries` agree; start over if not
                self.clear();
                return;
            };
            match self.entries.get_mut(&key) {
                Some(entry) if entry.used => {
                    entry.used = false;
                    self.order.push_back(key);
                }
                Some(_) => {
                    if let Some(gone) = self.entries.remove(&key) {
                        self.used -= gone.cost;
                    }
                }
                None => {}
            }
        }
        // A queue that outgrew the map (it cannot, but memory must stay bounded).
        if self.order.len() > 2 * self.entries.len() + 16 {
            self.order.retain(|k| self.entries.contains_key(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> PageKey {
        PageKey {
            scope: Scope::All,
            kind: Kind::Atom,
            params: Params {
                q: Some(format!("junk {n}")),
                ..Params::default()
            },
        }
    }

    fn page(bytes: usize) -> Arc<Rendered> {
        Arc::new(Rendered::new(vec![b'x'; bytes], "text/plain", Utc::now()))
    }

    #[test]
    fn stays_within_its_budget_whatever_is_put_in() {
        let mut cache = PageCache::new(1 << 20);
        for n in 0..10_000 {
            cache.insert(key(n), page(n % 50_000), 1);
            assert!(cache.used() <= 1 << 20, "{} bytes after {n}", cache.used());
        }
        assert!(cache.len() > 10, "it still keeps pages: {}", cache.len());
        assert!(cache.order.len() == cache.len());
    }

    #[test]
    fn a_page_larger_than_the_budget_is_not_kept() {
        let mut cache = PageCache::new(1000);
        cache.insert(key(1), page(2000), 1);
        assert!(cache.get_any(&key(1)).is_none());
        assert_eq!(cache.used(), 0);
    }

    #[test]
    fn pages_asked_for_outlive_pages_that_were_not() {
        let mut cache = PageCache::new(10 * 1400);
        for n in 0..8 {
            cache.insert(key(n), page(1000), 1);
        }
        assert!(cache.get(&key(0), 1).is_some());
        for n in 100..104 {
            cache.insert(key(n), page(1000), 1);
        }
        assert!(cache.get(&key(0), 1).is_some(), "the page in use was kept");
        assert!(cache.get_any(&key(1)).is_none(), "an unused one went first");
    }

    #[test]
    fn a_page_of_an_older_generation_is_only_had_on_request() {
        let mut cache = PageCache::new(1 << 20);
        cache.insert(key(1), page(10), 1);
        assert!(cache.get(&key(1), 2).is_none());
        assert_eq!(cache.get_any(&key(1)).map(|(_, g)| g), Some(1));
        cache.insert(key(1), page(20), 2);
        assert_eq!(cache.get(&key(1), 2).map(|p| p.body.len()), Some(20));
    }

    #[test]
    fn replacing_and_shrinking_keep_the_count_right() {
        let mut cache = PageCache::new(1 << 20);
        cache.insert(key(1), page(1000), 1);
        cache.insert(key(1), page(3000), 2);
        assert_eq!(cache.len(), 1);
        assert!(cache.used() > 3000 && cache.used() < 4000);
        cache.set_budget(100);
        assert_eq!((cache.len(), cache.used()), (0, 0));
        cache.set_budget(0);
        cache.insert(key(2), page(1), 2);
        assert_eq!(cache.len(), 0, "a budget of 0 keeps nothing");
    }
}
