//! The single database writer: a thread that owns the connection and runs the
//! work sent to it in order, so async tasks never block on SQLite and writes
//! never contend with each other. Poll results that queue up while it works are
//! stored in one commit.

use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{PollRecord, Store, StoreCounts, StoreError};

/// Poll results stored in one commit at most.
const MAX_GROUP: usize = 64;

type Reply = oneshot::Sender<Result<StoreCounts, StoreError>>;

enum Job {
    Record(Box<PollRecord>, Reply),
    Run(Box<dyn FnOnce(&mut Store) + Send>),
}

/// A handle to the writer thread; cheap to clone. The thread ends, handing its
/// [`Store`] back, when every handle is dropped and the queued work is done.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    pub fn spawn(mut store: Store) -> (Writer, JoinHandle<Store>) {
        // A small queue: parsed feeds waiting here hold memory.
        let (tx, mut rx) = mpsc::channel::<Job>(32);
        let handle = std::thread::Builder::new()
            .name("tributary-writer".into())
            .spawn(move || {
                let mut next = rx.blocking_recv();
                while let Some(job) = next.take() {
                    match job {
                        Job::Run(work) => work(&mut store),
                        Job::Record(record, reply) => {
                            let mut group = vec![(record, reply)];
                            while group.len() < MAX_GROUP {
                                match rx.try_recv() {
                                    Ok(Job::Record(r, reply)) => group.push((r, reply)),
                                    Ok(other) => {
                                        next = Some(other);
                                        break;
                                    }
                                    Err(_) => break,
                                }
                            }
                            let records: Vec<&PollRecord> =
                                group.iter().map(|(r, _)| &**r).collect();
                            let results = store.record_polls(&records);
                            for ((_, reply), result) in group.into_iter().zip(results) {
                                let _ = reply.send(result);
                            }
                        }
                    }
                    if next.is_none() {
                        next = rx.blocking_recv();
                    }
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
        let job = Job::Run(Box::new(move |store| {
            let _ = reply.send(work(store));
        }));
        self.tx
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)
    }

    /// Stores `record`; returns once it is committed. A record handed over is
    /// committed even if the caller stops waiting.
    pub async fn record(&self, record: PollRecord) -> Result<StoreCounts, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Record(Box::new(record), reply))
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// A handle that does not keep the writer running: the HTTP server holds one, so
/// the writer still ends once the daemon has dropped its own handles.
#[derive(Clone)]
pub struct WeakWriter {
    tx: mpsc::WeakSender<Job>,
}

impl Writer {
    pub fn downgrade(&self) -> WeakWriter {
        WeakWriter {
            tx: self.tx.downgrade(),
        }
    }
}

impl WeakWriter {
    /// The writer, while some [`Writer`] still keeps it running.
    pub fn upgrade(&self) -> Option<Writer> {
        self.tx.upgrade().map(|tx| Writer { tx })
    }
}
