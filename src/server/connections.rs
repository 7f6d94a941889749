//! Accepting clients so that no client can hold the server's file descriptors:
//! at most `max_connections` are served at once (more wait in the listen queue),
//! a connection is closed when a request head takes longer than `header_timeout`
//! to arrive (counted from its first byte, or from the accept for the first
//! request) or when it moves no bytes for `idle_timeout`. On shutdown, idle
//! connections close at once and open requests finish.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt as _;

use super::{AppState, router};

/// Bytes a connection buffers: the largest request head it accepts.
const MAX_HEAD: usize = 64 * 1024;

/// How long open requests may take to finish once shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
struct Timeouts {
    header: Duration,
    idle: Duration,
}

/// Serves until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let settings = state.settings();
    let timeouts = Timeouts {
        header: settings.header_timeout,
        idle: settings.idle_timeout,
    };
    let cap = u32::try_from(settings.max_connections.max(1)).unwrap_or(u32::MAX);
    let app = router(state.clone());
    let permits = Arc::new(Semaphore::new(cap as usize));
    let (closing, closing_rx) = watch::channel(());
    // Bumped whenever every place is taken: connections that sit idle between
    // requests then close, so keep-alive connections held open cannot keep new
    // clients out.
    let (full, full_rx) = watch::channel(0u64);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                full.send_modify(|n| *n = n.wrapping_add(1));
                // Until a place frees, clients wait in the kernel's listen
                // queue, costing no descriptor.
                tokio::select! {
                    () = &mut shutdown => break,
                    permit = permits.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break, // never closed
                    },
                }
            }
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let open = Open::new(&state, permit);
        tokio::spawn(serve_connection(
            stream,
            app.clone(),
            timeouts,
            Signals {
                closing: closing_rx.clone(),
                full: full_rx.clone(),
            },
            open,
        ));
    }
    drop(listener);
    drop(closing_rx);
    let _ = closing.send(());
    // Every connection holds a permit until it ends.
    if tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(cap))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
    Ok(())
}

/// An accept that failed: a client that left is nothing; running out of
/// descriptors or memory is logged and waited out instead of retried at once.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What the accept loop tells every connection.
struct Signals {
    /// the server is shutting down
    closing: watch::Receiver<()>,
    /// every place is taken
    full: watch::Receiver<u64>,
}

async fn serve_connection(
    stream: TcpStream,
    app: Router,
    timeouts: Timeouts,
    signals: Signals,
    _open: Open,
) {
    let Signals {
        mut closing,
        mut full,
    } = signals;
    // Only places taken from now on concern this connection.
    full.mark_unchanged();
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = activity.request_started();
            let app = app.clone();
            async move {
                let response = app.oneshot(request.map(Body::new)).await?;
                Ok::<_, Infallible>(response.map(|body| Watching { body, in_flight }))
            }
        })
    };
    let connection = http1::Builder::new()
        // timeouts are kept here, where idle and header waits are told apart
        .header_read_timeout(None)
        // A request head larger than this is refused (431). hyper's default,
        // 400 KiB, times 1024 connections would be 400 MiB of buffers; the
        // longest head this server reads (ten categories, a search) is ~3 KiB.
        .max_buf_size(MAX_HEAD)
        .max_header_size(MAX_HEAD)
        .serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let mut draining = false;
    let mut full_gone = false;
    loop {
        let deadline = activity.deadline(timeouts);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep_until(deadline) => {
                if Instant::now() >= activity.deadline(timeouts) {
                    tracing::debug!("closing a connection that timed out");
                    return;
                }
            }
            _ = closing.changed(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
            changed = full.changed(), if !full_gone => {
                if changed.is_err() {
                    // The accept loop has ended; shutdown is said through `closing`.
                    full_gone = true;
                } else if activity.is_idle() {
                    tracing::debug!("closing an idle connection: every place is taken");
                    return;
                }
            }
        }
    }
}

/// A connection counted open: its place under the cap, and in the gauge.
struct Open {
    state: Arc<AppState>,
    _permit: OwnedSemaphorePermit,
}

impl Open {
    fn new(state: &Arc<AppState>, permit: OwnedSemaphorePermit) -> Open {
        state.connections.fetch_add(1, Relaxed);
        Open {
            state: state.clone(),
            _permit: permit,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.state.connections.fetch_sub(1, Relaxed);
    }
}

/// What a connection did last, in milliseconds since it was accepted.
struct Activity {
    start: Instant,
    /// when bytes last moved either way, or a request started or ended
    last_io: AtomicU64,
    /// when the head of the next request began to arrive; `NONE` while none has
    head_since: AtomicU64,
    in_flight: AtomicU32,
}

const NONE: u64 = u64::MAX;

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_io: AtomicU64::new(0),
            // The first request's head is due from the accept: a client that
            // connects and says nothing is closed as soon as one that trickles.
            head_since: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn read(&self) {
        self.read_at(self.now());
    }

    fn read_at(&self, now: u64) {
        self.last_io.fetch_max(now, Relaxed);
        if self.in_flight.load(Relaxed) == 0 {
            let _ = self
                .head_since
                .compare_exchange(NONE, now, Relaxed, Relaxed);
        }
    }

    fn wrote(&self) {
        self.last_io.fetch_max(self.now(), Relaxed);
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        self.request_started_at(self.now())
    }

    fn request_started_at(self: &Arc<Self>, now: u64) -> InFlight {
        self.in_flight.fetch_add(1, Relaxed);
        self.head_since.store(NONE, Relaxed);
        self.last_io.fetch_max(now, Relaxed);
        InFlight(self.clone())
    }

    /// Whether the connection waits for a request without having received any
    /// of it: between keep-alive requests, or silent for a second since it
    /// was accepted (a request just sent may not have been read yet).
    fn is_idle(&self) -> bool {
        self.in_flight.load(Relaxed) == 0
            && (self.head_since.load(Relaxed) == NONE
                || (self.last_io.load(Relaxed) == 0 && self.now() >= 1000))
    }

    /// When the connection is to be closed unless something happens first.
    fn deadline(&self, t: Timeouts) -> Instant {
        self.start + Duration::from_millis(self.deadline_ms(t))
    }

    fn deadline_ms(&self, t: Timeouts) -> u64 {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 4);
        let idle = self.last_io.load(Relaxed).saturating_add(ms(t.idle));
        let head = self.head_since.load(Relaxed);
        if head == NONE || self.in_flight.load(Relaxed) > 0 {
            return idle;
        }
        idle.min(head.saturating_add(ms(t.header)))
    }
}

/// A request being answered; ends when its response body is dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.wrote();
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// A response body that marks its request done when dropped.
struct Watching {
    body: Body,
    #[allow(dead_code)] // held for its Drop
    in_flight: InFlight,
}

impl HttpBody for Watching {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The client's socket, noting in `activity` when bytes move.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read();
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header: Duration::from_secs(10),
        idle: Duration::from_secs(60),
    };

    #[test]
    fn deadlines_follow_what_the_connection_does() {
        let a = Arc::new(Activity::new());
        // a new connection owes its first request head
        assert_eq!(a.deadline_ms(T), 10_000);
        a.read_at(3_000);
        assert_eq!(a.deadline_ms(T), 10_000, "trickling buys no time");
        let request = a.request_started_at(3_000);
        assert_eq!(
            a.deadline_ms(T),
            63_000,
            "a request runs under the idle timeout"
        );
        a.read_at(8_000); // the next request's bytes while this one runs
        drop(request);
        assert_eq!(
            a.deadline_ms(T),
            68_000,
            "between requests: the idle timeout"
        );
        a.read_at(28_000);
        assert_eq!(
            a.deadline_ms(T),
            38_000,
            "a head that began is due within the header timeout"
        );
    }
}
