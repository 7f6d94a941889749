//! A few read-only database connections shared by requests. A request waits for
//! a free one without holding a thread, uses it on a blocking thread, and gives
//! it back however the work ends, a panic included: a panic costs its own
//! request and nothing else.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Semaphore;

use super::ServerError;
use crate::store::{Store, StoreError};

pub struct ReaderPool {
    /// one permit per connection in `idle`; a holder takes one connection
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<Box<dyn Store>>>>,
}

impl ReaderPool {
    /// `size` connections to the database at `path`, each `query_only`.
    pub fn open(path: &Path, size: usize) -> Result<ReaderPool, StoreError> {
        let stores = (0..size.max(1))
            .map(|_| crate::store::open_reader(path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ReaderPool {
            permits: Arc::new(Semaphore::new(stores.len())),
            idle: Arc::new(Mutex::new(stores)),
        })
    }

    /// Runs `work` on a free connection, once one is free.
    pub async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Store) -> R + Send + 'static,
    ) -> Result<R, ServerError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServerError::Unavailable("the reader pool is closed"))?;
        let idle = self.idle.clone();
        tokio::task::spawn_blocking(move || {
            let lease = Lease::take(&idle)?;
            let result = work(lease.store());
            // The connection goes back before the permit that lets the next
            // request take it (and on a panic, while unwinding, in that order too).
            drop(lease);
            drop(permit);
            Ok(result)
        })
        .await
        .map_err(ServerError::from_join)?
    }

    /// Runs `work` on a free connection without waiting: `None` when all are
    /// in use. For callers that cannot await (the watchdog).
    pub fn try_run<R>(&self, work: impl FnOnce(&dyn Store) -> R) -> Option<R> {
        let _permit = self.permits.try_acquire().ok()?;
        let lease = Lease::take(&self.idle).ok()?;
        Some(work(lease.store()))
    }
}

/// A connection taken from the pool; back in it when dropped.
struct Lease<'a> {
    idle: &'a Mutex<Vec<Box<dyn Store>>>,
    store: Option<Box<dyn Store>>,
}

impl<'a> Lease<'a> {
    fn take(idle: &'a Mutex<Vec<Box<dyn Store>>>) -> Result<Lease<'a>, ServerError> {
        match lock(idle).pop() {
            Some(store) => Ok(Lease {
                idle,
                store: Some(store),
            }),
            // A permit guarantees a connection; this would be a bug, not a reason to panic.
            None => Err(ServerError::Unavailable("no free database connection")),
        }
    }

    fn store(&self) -> &dyn Store {
        // Set in `take` and only removed in `drop`.
        self.store.as_deref().expect("a lease holds its connection")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            lock(self.idle).push(store);
        }
    }
}

/// Locks `m`, poisoned or not: every value behind the server's mutexes stays
/// valid at every point a panic could leave it (they are only ever replaced or
/// pushed and popped whole), so a panic elsewhere never takes them down.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
