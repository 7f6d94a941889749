//! The single database writer: a thread that owns the connection and runs the
//! work sent to it in order, so async tasks never block on SQLite and writes
//! never contend with each other.

use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{PollRecord, Store, StoreCounts, StoreError};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A handle to the writer thread; cheap to clone. The thread ends, handing its
/// [`Store`] back, when every handle is dropped and the queued work is done.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    pub fn spawn(mut store: Store) -> (Writer, JoinHandle<Store>) {
        // A small queue: parsed feeds waiting here hold memory.
        let (tx, mut rx) = mpsc::channel::<Job>(16);
        let handle = std::thread::Builder::new()
            .name("tributary-writer".into())
            .spawn(move || {
                while let Some(job) = rx.blocking_recv() {
                    job(&mut store);
                }
                store
            })
            .expect("spawning the writer thread");
        (Writer { tx }, handle)
    }

    /// Runs `work` on the writer's connection; returns its result once done.
    pub async fn with_store<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            let _ = reply.send(work(store));
        });
        self.tx
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)
    }

    /// Stores `record`; returns once it is committed. A record handed over is
    /// committed even if the caller stops waiting.
    pub async fn record(&self, record: PollRecord) -> Result<StoreCounts, StoreError> {
        self.with_store(move |store| store.record_poll(&record))
            .await?
    }
}
