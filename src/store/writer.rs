//! The single database writer: a thread that owns the connection and stores poll
//! results in the order they arrive, so async tasks never block on SQLite.

use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{PollRecord, Store, StoreCounts, StoreError};

type Reply = oneshot::Sender<Result<StoreCounts, StoreError>>;

/// A handle to the writer thread; cheap to clone. The thread ends, handing its
/// [`Store`] back, when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<(PollRecord, Reply)>,
}

impl Writer {
    pub fn spawn(mut store: Store) -> (Writer, JoinHandle<Store>) {
        // A small queue: parsed feeds waiting here hold memory.
        let (tx, mut rx) = mpsc::channel::<(PollRecord, Reply)>(16);
        let handle = std::thread::Builder::new()
            .name("tributary-writer".into())
            .spawn(move || {
                while let Some((record, reply)) = rx.blocking_recv() {
                    let _ = reply.send(store.record_poll(&record));
                }
                store
            })
            .expect("spawning the writer thread");
        (Writer { tx }, handle)
    }

    /// Stores `record`; returns once it is committed.
    pub async fn record(&self, record: PollRecord) -> Result<StoreCounts, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((record, reply))
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}
