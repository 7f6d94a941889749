//! `file://` sources, which only the operator can name: a regular file read
//! under the size cap, its modification time and size standing in for HTTP
//! validators.

use std::time::SystemTime;

use tokio::io::AsyncReadExt;
use url::Url;

use super::response::inflate_if_gzipped;
use super::{FetchError, FetchOutcome, ResponseMeta};
use crate::model::Validators;

/// Reads a regular file, under `max_body` (the caller applies the timeout). An
/// unchanged file is "not modified" like an unchanged feed.
pub(super) async fn read_file(
    url: &Url,
    validators: &Validators,
    max_body: u64,
) -> Result<FetchOutcome, FetchError> {
    let path = url.to_file_path().map_err(|()| FetchError::File {
        path: url.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a local path"),
    })?;
    let file_error = |source| FetchError::File {
        path: path.display().to_string(),
        source,
    };
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true);
    // Opening a FIFO for reading waits for a writer; non-blocking, it opens at
    // once and is refused below. (Reads of regular files ignore the flag.)
    #[cfg(unix)]
    options.custom_flags(libc::O_NONBLOCK);
    let file = options.open(&path).await.map_err(file_error)?;
    // The type is taken from the open handle, so the path cannot be swapped
    // for a device or FIFO between the check and the read.
    let metadata = file.metadata().await.map_err(file_error)?;
    if !metadata.is_file() {
        return Err(file_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let stamp = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| {
            format!(
                "\"file-{}-{}-{}\"",
                d.as_secs(),
                d.subsec_nanos(),
                metadata.len()
            )
        });
    let meta = |status| ResponseMeta {
        status,
        final_url: url.clone(),
        moved_to: None,
        validators: Validators {
            etag: stamp.clone(),
            last_modified: None,
        },
        fresh_for: None,
    };
    if stamp.is_some() && stamp == validators.etag {
        return Ok(FetchOutcome::NotModified { meta: meta(304) });
    }
    if metadata.len() > max_body {
        return Err(FetchError::TooLarge { limit: max_body });
    }
    let mut body = Vec::with_capacity(metadata.len() as usize);
    file.take(max_body + 1)
        .read_to_end(&mut body)
        .await
        .map_err(file_error)?;
    if body.len() as u64 > max_body {
        return Err(FetchError::TooLarge { limit: max_body });
    }
    Ok(FetchOutcome::Fetched {
        body: inflate_if_gzipped(body, max_body)?,
        meta: meta(200),
    })
}
