//! The single database writer: a thread that owns the connection and runs the
//! work sent to it in order, so async tasks never block on SQLite and writes
//! never contend with each other. Poll results that queue up while it works are
//! stored in one commit. A panic in one piece of work fails that work alone: the
//! thread goes on with the next.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{PollRecord, Store, StoreCounts, StoreError};

/// Poll results stored in one commit at most.
const MAX_GROUP: usize = 64;

type Reply = oneshot::Sender<Result<StoreCounts, StoreError>>;
/// Work run on the writer's store.
type Work = Box<dyn FnOnce(&mut dyn Store) + Send>;

enum Job {
    Record(Box<PollRecord>, Reply),
    Run(Work),
}

/// A handle to the writer thread; cheap to clone. The thread ends, handing its
/// [`Store`] back, when every handle is dropped and the queued work is done.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    pub fn spawn(mut store: Box<dyn Store>) -> (Writer, JoinHandle<Box<dyn Store>>) {
        // A small queue: parsed feeds waiting here hold memory.
        let (tx, mut rx) = mpsc::channel::<Job>(32);
        let handle = std::thread::Builder::new()
            .name("tributary-writer".into())
            .spawn(move || {
                let mut next = rx.blocking_recv();
                while let Some(job) = next.take() {
                    #[cfg(debug_assertions)]
                    store.apply_test_faults();
                    // Unwind safety: a panic mid-transaction drops the
                    // transaction, which rolls it back, so the connection is
                    // left as it was before the job; the job's reply is dropped
                    // and its caller told.
                    let ran = catch_unwind(AssertUnwindSafe(|| {
                        run_job(&mut *store, &mut rx, job, &mut next)
                    }));
                    if let Err(panic) = ran {
                        tracing::error!(
                            error = panic_message(&*panic),
                            "the database writer panicked; that work is lost, the writer goes on"
                        );
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
        work: impl FnOnce(&mut dyn Store) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Run(Box::new(move |store| {
            let _ = reply.send(work(store));
        }));
        self.tx
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| abandoned())
    }

    /// Queues `record` to be stored; returns once the writer has taken it, with
    /// what tells when it is committed. A record handed over is committed even
    /// if the caller stops waiting.
    pub async fn hand_over(&self, record: PollRecord) -> Result<Handed, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Record(Box::new(record), reply))
            .await
            .map_err(|_| StoreError::WriterGone)?;
        Ok(Handed(answer))
    }
}

/// A record queued to be stored.
pub struct Handed(oneshot::Receiver<Result<StoreCounts, StoreError>>);

impl Handed {
    /// What storing the record changed, once it is committed.
    pub async fn committed(self) -> Result<StoreCounts, StoreError> {
        self.0.await.map_err(|_| abandoned())?
    }
}

/// Runs one job; poll records waiting behind it are stored in the same commit,
/// and the first other job found waiting is left in `next`.
fn run_job(store: &mut dyn Store, rx: &mut mpsc::Receiver<Job>, job: Job, next: &mut Option<Job>) {
    match job {
        Job::Run(work) => work(store),
        Job::Record(record, reply) => {
            let mut group = vec![(record, reply)];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(Job::Record(r, reply)) => group.push((r, reply)),
                    Ok(other) => {
                        *next = Some(other);
                        break;
                    }
                    Err(_) => break,
                }
            }
            let records: Vec<&PollRecord> = group.iter().map(|(r, _)| &**r).collect();
            let results = store.record_polls(&records);
            for ((_, reply), result) in group.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
    }
}

/// The writer dropped a reply without answering: the work panicked.
fn abandoned() -> StoreError {
    StoreError::WriterPanicked("it panicked (see the log)".into())
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_goes_on_after_work_that_panics() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, thread) = Writer::spawn(super::super::open(&dir.path().join("t.db")).unwrap());
        let failed = writer
            .with_store(|_| -> u32 { panic!("a bug in one piece of work") })
            .await;
        assert!(
            matches!(failed, Err(StoreError::WriterPanicked(_))),
            "{failed:?}"
        );
        assert!(writer.with_store(|s| s.ping()).await.unwrap());
        drop(writer);
        assert!(thread.join().is_ok());
    }
}

/// A handle that does not keep the writer running: the HTTP server holds one, so
/// the writer still ends once the daemon has dropped its own handles.
#[derive(Clone)]
pub(crate) struct WeakWriter {
    tx: mpsc::WeakSender<Job>,
}

impl Writer {
    pub(crate) fn downgrade(&self) -> WeakWriter {
        WeakWriter {
            tx: self.tx.downgrade(),
        }
    }
}

impl WeakWriter {
    /// The writer, while some [`Writer`] still keeps it running.
    pub(crate) fn upgrade(&self) -> Option<Writer> {
        self.tx.upgrade().map(|tx| Writer { tx })
    }
}
