//! The `[server]` section: the address listened on, where self links start,
//! and the limits on what the server keeps and accepts.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::document::unspanned;
use super::problems::Problems;
use super::values::{at_least_one, duration, size};

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub listen: SocketAddr,
    /// where self links start: `base_url` when set, else `http://{listen}/`
    pub base_url: Url,
    /// whether `base_url` was set; when not, it follows the address listened on
    pub base_url_explicit: bool,
    pub title: String,
    pub limit: u32,
    /// bytes of rendered pages kept for repeated requests
    pub cache_size: u64,
    /// client connections served at once; more wait to be accepted
    pub max_connections: usize,
    /// how long a request head may take to arrive, from its first byte
    pub header_timeout: Duration,
    /// how long a connection may move no bytes before it is closed
    pub idle_timeout: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct ServerConfig {
    listen: Spanned<String>,
    base_url: Option<Spanned<String>>,
    title: String,
    limit: Spanned<u32>,
    cache_size: Spanned<String>,
    max_connections: Spanned<u32>,
    header_timeout: Spanned<String>,
    idle_timeout: Spanned<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: unspanned("127.0.0.1:8080"),
            base_url: None,
            title: "Merged feed".to_string(),
            limit: Spanned::new(0..0, 100),
            cache_size: unspanned("64MiB"),
            max_connections: Spanned::new(0..0, 1024),
            header_timeout: unspanned("10s"),
            idle_timeout: unspanned("60s"),
        }
    }
}

impl ServerConfig {
    pub(super) fn build(self, p: &mut Problems) -> Server {
        let (listen, derived) = match listen_address(self.listen.get_ref()) {
            Ok(found) => found,
            Err(e) => {
                p.at(
                    self.listen.span(),
                    format!(
                        "invalid `listen` address {:?}: {e} (write e.g. \"127.0.0.1:8080\" or \"localhost:8080\")",
                        self.listen.get_ref()
                    ),
                );
                let fallback = SocketAddr::from(([127, 0, 0, 1], 0));
                (fallback, base_url_of(&fallback.to_string()))
            }
        };
        let base_url = match &self.base_url {
            None => derived,
            Some(text) => match Url::parse(text.get_ref()) {
                Ok(mut url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                    // Self links are joined onto it, which drops a last segment without '/'.
                    if !url.path().ends_with('/') {
                        url.set_path(&format!("{}/", url.path()));
                    }
                    url
                }
                Ok(_) => {
                    p.at(text.span(), "`base_url` must be an http(s) URL");
                    derived
                }
                Err(e) => {
                    p.at(
                        text.span(),
                        format!("invalid `base_url` {:?}: {e}", text.get_ref()),
                    );
                    derived
                }
            },
        };
        let limit = *self.limit.get_ref();
        if !(1..=1000).contains(&limit) {
            p.at(self.limit.span(), "`limit` must be between 1 and 1000");
        }
        // 0 is allowed: nothing is cached, every request renders.
        let cache_size = size(&self.cache_size, "cache_size", "64MiB", p).unwrap_or(0);
        let max_connections = at_least_one(&self.max_connections, "max_connections", p);
        let header_timeout = duration(&self.header_timeout, "header_timeout", p);
        let idle_timeout = duration(&self.idle_timeout, "idle_timeout", p);
        for (value, key, d) in [
            (&self.header_timeout, "header_timeout", header_timeout),
            (&self.idle_timeout, "idle_timeout", idle_timeout),
        ] {
            if d.is_zero() && humantime::parse_duration(value.get_ref()).is_ok() {
                p.at(value.span(), format!("`{key}` must be longer than 0s"));
            }
        }
        Server {
            listen,
            base_url,
            base_url_explicit: self.base_url.is_some(),
            title: self.title,
            limit,
            cache_size,
            max_connections,
            header_timeout,
            idle_timeout,
        }
    }
}

impl Server {
    /// Where self links start while the server listens at `bound`, the address
    /// it actually bound: `base_url` when set; otherwise the one built from
    /// `listen`, with the port bound (which `listen` leaves to the system when
    /// it says port 0).
    pub(crate) fn base_url_for(&self, bound: SocketAddr) -> Url {
        let mut url = self.base_url.clone();
        if !self.base_url_explicit {
            // An http URL with a host always takes a port.
            let _ = url.set_port(Some(bound.port()));
        }
        url
    }

    /// Whether readers elsewhere could not follow links built from `listen`:
    /// it is an any-address (0.0.0.0, ::) and no `base_url` names the host.
    pub(crate) fn base_url_unreachable(&self) -> bool {
        !self.base_url_explicit && self.listen.ip().is_unspecified()
    }
}

/// The address to listen on, and the base URL built from it as written:
/// an IP address and port, or `localhost:PORT` (bound on 127.0.0.1, linked as
/// localhost). Other names are refused: what they resolve to may change.
fn listen_address(text: &str) -> Result<(SocketAddr, Url), String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok((addr, base_url_of(&addr.to_string())));
    }
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| "expected HOST:PORT".to_string())?;
    if !host.eq_ignore_ascii_case("localhost") {
        return Err("the host must be an IP address or localhost".into());
    }
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{port:?} is not a port number"))?;
    Ok((
        SocketAddr::from(([127, 0, 0, 1], port)),
        base_url_of(&format!("localhost:{port}")),
    ))
}

/// `http://{authority}/`, for an authority made from a parsed address.
fn base_url_of(authority: &str) -> Url {
    Url::parse(&format!("http://{authority}/"))
        // An IP address and port, or localhost and a port, always make a valid URL.
        .unwrap_or_else(|_| Url::parse("http://127.0.0.1/").expect("literal URL"))
}
