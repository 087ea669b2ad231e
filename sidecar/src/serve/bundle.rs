//! `keycard serve --bundle-url URL`: a fleet of sidecars served from one signed bundle.
//!
//! Every sidecar is a stateless replica that polls one URL (any static server: nginx, S3 or GCS
//! presigned URLs, a CDN in front of an artifact store); no keycard talks to another. One task
//! per server:
//! 1. at start, a bundle cached by an earlier run (`--bundle-cache DIR`) is verified with today's
//!    keys and served at once, whether or not the bundle server is up;
//! 2. then, every `--bundle-poll` (with ±10 % jitter, so a fleet does not poll in step), a `GET`
//!    with `If-None-Match`: a `304` does nothing more;
//! 3. a `200` is read into memory (at most `--bundle-max-bytes`), then opened (signature, manifest
//!    hashes, structure: `keycard::bundle::open`), loaded and compiled off the async threads,
//!    and only then published through the same atomic swap as a file store
//!    ([`keycard::live::Live::publish`]) and written to the cache (temporary file + rename);
//! 4. any failure keeps the last good snapshot, is logged, counted
//!    (`keycard_bundle_polls_total{result="failed"}`) and shown as `/v1/snapshot`'s `lastError`;
//!    the next poll backs off exponentially (×2 per failure, up to 16 polls or 5 minutes).
//!
//! The HTTP client is hyper's one-connection client over TCP, or TLS through rustls (ring) with
//! the platform's roots or `--bundle-ca-file`'s. Redirects are not followed.

use super::poller::Poller;
use super::start_error::StartError;
use super::state::State;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{ETAG, HOST, IF_NONE_MATCH, USER_AGENT};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use keycard::bundle::{self, BundleInfo, Limits, Trust};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// How long one poll (connect, TLS, request, whole body) may take.
const POLL_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest back-off after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The cached bundle and its metadata, inside `--bundle-cache`.
const CACHE_BUNDLE: &str = "bundle.tar.gz";
const CACHE_META: &str = "bundle.json";

/// `keycard serve`'s options for a bundle server.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct PollArgs {
    /// Serve the bundle at URL (http or https), polled for new revisions, instead of --policies.
    /// Needs --bundle-public-key (or --bundle-insecure-unsigned).
    #[arg(long, value_name = "URL", conflicts_with = "policies")]
    pub(crate) bundle_url: Option<String>,
    /// How often to poll --bundle-url (±10 % jitter): e.g. 30s, 500ms, 5m.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) bundle_poll: Duration,
    /// Keep the last good bundle in DIR, and serve it at start until the server answers.
    #[arg(long, value_name = "DIR")]
    pub(crate) bundle_cache: Option<PathBuf>,
    /// Trust only the CA certificates (PEM) in FILE for an https --bundle-url, instead of the
    /// platform's roots.
    #[arg(long, value_name = "FILE")]
    pub(crate) bundle_ca_file: Option<PathBuf>,
    /// The largest bundle accepted, in bytes (downloaded; decompressed: 16 times this).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub(crate) bundle_max_bytes: u64,
}

/// `30s`, `500ms`, `5m`, `1h`, or plain seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number.parse().map_err(|_| format!("{text:?} is not a duration (e.g. 30s, 500ms, 5m)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} is not a positive duration"))
}

/// A bundle server to poll, checked at start.
pub(crate) struct Config {
    url: String,
    uri: Uri,
    host: String,
    port: u16,
    tls: Option<tokio_rustls::TlsConnector>,
    trust: Trust,
    poll: Duration,
    cache: Option<PathBuf>,
    limits: Limits,
}

impl Config {
    /// The poller `args` describe, if any (`--bundle-url`): the URL is parsed, the keys and the
    /// CA file are read now, so that a mistake stops the server at start.
    pub(crate) fn new(args: &PollArgs, trust: &crate::bundle_cmd::TrustArgs) -> Result<Option<Config>, StartError> {
        let Some(url) = &args.bundle_url else { return Ok(None) };
        let bad_url = |message: &dyn std::fmt::Display| StartError::option("--bundle-url", format!("{url}: {message}"));
        let uri: Uri = url.parse().map_err(|e| bad_url(&e))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad_url(&"not an http:// or https:// URL")),
        };
        let host = uri.host().ok_or_else(|| bad_url(&"no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let trust = trust.trust().map_err(|e| StartError::option("--bundle-public-key", e))?.ok_or_else(|| {
            StartError::option("--bundle-url", "needs --bundle-public-key PEM (or --bundle-insecure-unsigned)")
        })?;
        let tls = if https { Some(tls_connector(args.bundle_ca_file.as_deref())?) } else { None };
        if let Some(dir) = &args.bundle_cache {
            std::fs::create_dir_all(dir)
                .map_err(|e| StartError::option("--bundle-cache", format!("{}: {e}", dir.display())))?;
        }
        let max = args.bundle_max_bytes;
        Ok(Some(Config {
            url: url.clone(),
            uri,
            host,
            port,
            tls,
            trust,
            poll: args.bundle_poll,
            cache: args.bundle_cache.clone(),
            limits: Limits { max_compressed: max, max_uncompressed: max.saturating_mul(16), ..Limits::default() },
        }))
    }

    /// How the source is named in `/v1/snapshot` and logs.
    pub(crate) fn describe(&self) -> String {
        format!("bundle {}", self.url)
    }
}

fn tls_connector(ca_file: Option<&Path>) -> Result<tokio_rustls::TlsConnector, StartError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|e| StartError::option("--bundle-ca-file", format!("{}: {e}", path.display())))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StartError::option(
                    "--bundle-ca-file",
                    format!("{}: no usable CA certificate", path.display()),
                ));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::warn!(error = %e, "reading the platform's CA certificates");
            }
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(StartError::option("--bundle-ca-file", "missing: no CA certificates found on this system"));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StartError::setup("TLS", std::io::Error::other(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// What the poller remembers between polls.
#[derive(Default)]
struct Current {
    /// The ETag to send with `If-None-Match`.
    etag: Option<String>,
    /// The SHA-256 of the bundle serving now (a server without ETags costs a download, not a
    /// recompile).
    digest: Option<Vec<u8>>,
    /// The connection kept alive between polls.
    connection: Option<Connection>,
}

/// Starts the poller on the runtime: the cache first, then the polls.
pub(crate) fn spawn(state: Arc<State>, config: Config, poller: Arc<Poller>) {
    tokio::spawn(async move {
        let config = Arc::new(config);
        let mut current = Current::default();
        if config.cache.is_some() {
            let (state2, config2) = (Arc::clone(&state), Arc::clone(&config));
            match tokio::task::spawn_blocking(move || from_cache(&state2, &config2)).await {
                Ok(Some(c)) => current = c,
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "loading the cached bundle failed"),
            }
        }
        let mut failures: u32 = 0;
        loop {
            let result = poll_once(&state, &config, &poller, &mut current).await;
            let delay = match result {
                Ok(()) => {
                    failures = 0;
                    config.poll
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    poller.failed.fetch_add(1, Relaxed);
                    state.live.fail(e.into_load_error(&config.url));
                    backoff(config.poll, failures)
                }
            };
            tokio::select! {
                () = tokio::time::sleep(jitter(delay)) => {}
                () = poller.wake.notified() => {}
            }
        }
    });
}

/// The wait after `failures` failures in a row: the poll interval doubled per failure, at most
/// 16 intervals or [`MAX_BACKOFF`] (whichever is longer than the interval).
fn backoff(poll: Duration, failures: u32) -> Duration {
    let cap = poll.saturating_mul(16).min(MAX_BACKOFF.max(poll));
    poll.saturating_mul(1u32 << failures.saturating_sub(1).min(16)).min(cap)
}

/// `d` times a random factor in [0.9, 1.1).
fn jitter(d: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(d.as_nanos() as u64);
    let unit = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
    d.mul_f64(0.9 + 0.2 * unit)
}

/// Why a poll published nothing: what `last_error` (and `/v1/snapshot`) then says.
#[derive(Debug)]
enum PollError {
    /// The bundle server could not be reached, or answered something other than a bundle.
    Fetch(String),
    /// No complete answer within [`POLL_TIMEOUT`].
    Timeout,
    /// The bundle is refused: its signature, manifest or limits.
    Bundle(bundle::BundleError),
    /// The bundle opened, but its store does not load: every problem, with file and pointer.
    Store(keycard::LoadError),
    /// The loading task failed.
    Internal(String),
}

impl PollError {
    /// As a load error of the bundle at `url`, keeping a store's own problems as they are.
    fn into_load_error(self, url: &str) -> keycard::LoadError {
        let read = |message: String| bundle::BundleError::Read(message).into_load_error(url);
        match self {
            PollError::Fetch(message) | PollError::Internal(message) => read(message),
            PollError::Timeout => read(format!("no complete answer within {POLL_TIMEOUT:?}")),
            PollError::Bundle(e) => e.into_load_error(url),
            PollError::Store(e) => e,
        }
    }
}

/// One poll: `Ok` when nothing needed doing or a new bundle is published; `Err` says why not.
async fn poll_once(
    state: &Arc<State>,
    config: &Arc<Config>,
    poller: &Poller,
    current: &mut Current,
) -> Result<(), PollError> {
    let fetched = tokio::time::timeout(POLL_TIMEOUT, fetch(config, current.etag.as_deref(), &mut current.connection))
        .await
        .map_err(|_| PollError::Timeout)?
        .map_err(PollError::Fetch)?;
    let Some((bytes, etag)) = fetched else {
        poller.not_modified.fetch_add(1, Relaxed);
        state.live.clear_error();
        return Ok(());
    };
    let digest = ring_digest(&bytes);
    if current.digest.as_deref() == Some(digest.as_slice()) {
        poller.unchanged.fetch_add(1, Relaxed);
        current.etag = etag;
        state.live.clear_error();
        return Ok(());
    }
    let (state2, config2, etag2) = (Arc::clone(state), Arc::clone(config), etag.clone());
    let revision = tokio::task::spawn_blocking(move || install(&state2, &config2, &bytes, etag2.as_deref()))
        .await
        .map_err(|e| PollError::Internal(format!("internal error: {e}")))??;
    tracing::info!(url = %config.url, revision = %revision, etag = ?etag, "bundle published");
    poller.updated.fetch_add(1, Relaxed);
    current.etag = etag;
    current.digest = Some(digest);
    Ok(())
}

fn ring_digest(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().to_vec()
}

/// Opens, loads, compiles and publishes a downloaded bundle, then caches it; its revision.
fn install(state: &State, config: &Config, bytes: &[u8], etag: Option<&str>) -> Result<String, PollError> {
    let opened = bundle::open(bytes, &config.trust, &config.limits).map_err(PollError::Bundle)?;
    let (store, mut info) = opened.into_store().map_err(PollError::Store)?;
    info.url = Some(config.url.clone());
    info.etag = etag.map(str::to_owned);
    let revision = info.revision.clone();
    state.live.publish(store, Some(info));
    if let Some(dir) = &config.cache {
        if let Err(e) = save_cache(dir, bytes, &config.url, etag) {
            tracing::warn!(cache = %dir.display(), error = %e, "cannot cache the bundle");
        }
    }
    Ok(revision)
}

/// Writes the bundle, then its metadata (so a crash in between never pairs a new ETag with an
/// old bundle), each through a temporary file and a rename.
fn save_cache(dir: &Path, bytes: &[u8], url: &str, etag: Option<&str>) -> std::io::Result<()> {
    crate::bundle_cmd::write_atomically(&dir.join(CACHE_BUNDLE), bytes, 0o644)?;
    let meta = serde_json::json!({"url": url, "etag": etag}).to_string();
    crate::bundle_cmd::write_atomically(&dir.join(CACHE_META), meta.as_bytes(), 0o644)
}

/// Serves the cached bundle, verified with today's keys; what the poller then remembers.
fn from_cache(state: &State, config: &Config) -> Option<Current> {
    let dir = config.cache.as_ref()?;
    let path = dir.join(CACHE_BUNDLE);
    if !path.exists() {
        return None;
    }
    let shown = path.display().to_string();
    let bytes = match bundle::read_limited(&path, config.limits.max_compressed) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(cache = %shown, error = %e, "cannot read the cached bundle");
            return None;
        }
    };
    let opened = match bundle::open(&bytes, &config.trust, &config.limits) {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(cache = %shown, error = %e, "the cached bundle is refused; waiting for the server");
            return None;
        }
    };
    let (store, mut info) = match opened.into_store() {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(cache = %shown, error = %e, "the cached bundle does not load; waiting for the server");
            return None;
        }
    };
    // The ETag is worth sending only to the URL that gave it.
    let meta: serde_json::Value =
        std::fs::read(dir.join(CACHE_META)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let etag =
        (meta["url"].as_str() == Some(config.url.as_str())).then(|| meta["etag"].as_str().map(str::to_owned)).flatten();
    info = BundleInfo { url: meta["url"].as_str().map(str::to_owned), etag: etag.clone(), ..info };
    tracing::info!(cache = %shown, revision = %info.revision, "serving the cached bundle");
    state.live.publish(store, Some(info));
    Some(Current { etag, digest: Some(ring_digest(&bytes)), connection: None })
}

/// What a `GET` brings: `None` for `304 Not Modified`, else the body and its ETag.
type Fetched = Option<(Vec<u8>, Option<String>)>;

/// A kept-alive connection to the bundle server: a `304` poll then costs one small request,
/// not a TCP (and TLS) handshake.
pub(crate) struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One `GET`, on the kept connection when it is still open (retried once on a new connection
/// if the server closed it meanwhile); the connection is kept only after a complete exchange.
async fn fetch(config: &Config, etag: Option<&str>, kept: &mut Option<Connection>) -> Result<Fetched, String> {
    if let Some(mut conn) = kept.take() {
        if conn.sender.ready().await.is_ok() {
            match exchange(config, &mut conn.sender, etag).await {
                Ok(fetched) => {
                    *kept = Some(conn);
                    return Ok(fetched);
                }
                // The server closed the idle connection as the request went out: a new one.
                Err(Refused::Unsent(_)) => {}
                Err(Refused::Answer(e)) => return Err(e),
            }
        }
    }
    let mut conn = connect(config).await?;
    let fetched = exchange(config, &mut conn.sender, etag).await.map_err(Refused::into_message)?;
    *kept = Some(conn);
    Ok(fetched)
}

/// A new connection: TCP, TLS when https, the HTTP/1.1 handshake.
async fn connect(config: &Config) -> Result<Connection, String> {
    let tcp = TcpStream::connect((config.host.as_str(), config.port))
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", config.host, config.port))?;
    let _ = tcp.set_nodelay(true);
    match &config.tls {
        Some(tls) => {
            let name = rustls::pki_types::ServerName::try_from(config.host.clone())
                .map_err(|e| format!("{}: not a TLS server name: {e}", config.host))?;
            let stream = tls.connect(name, tcp).await.map_err(|e| format!("TLS with {}: {e}", config.host))?;
            handshake(TokioIo::new(stream)).await
        }
        None => handshake(TokioIo::new(tcp)).await,
    }
}

async fn handshake<IO>(io: IO) -> Result<Connection, String>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    let task = tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "bundle server connection ended");
        }
    });
    Ok(Connection { sender, task })
}

/// Why an exchange failed: before any answer (worth one retry on a new connection), or after.
enum Refused {
    Unsent(String),
    Answer(String),
}

impl Refused {
    fn into_message(self) -> String {
        match self {
            Refused::Unsent(m) | Refused::Answer(m) => m,
        }
    }
}

/// The request and its whole answer, within the size limit.
async fn exchange(
    config: &Config,
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    etag: Option<&str>,
) -> Result<Fetched, Refused> {
    let response = send(config, sender, etag).await.map_err(Refused::Unsent)?;
    read_answer(config, response).await.map_err(Refused::Answer)
}

async fn send(
    config: &Config,
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    etag: Option<&str>,
) -> Result<hyper::Response<hyper::body::Incoming>, String> {
    let path = config.uri.path_and_query().map_or("/", |p| p.as_str());
    let authority = config.uri.authority().map_or(config.host.as_str(), |a| a.as_str());
    let mut request =
        Request::get(path).header(HOST, authority).header(USER_AGENT, concat!("keycard/", env!("CARGO_PKG_VERSION")));
    if let Some(etag) = etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    let request = request.body(Empty::new()).map_err(|e| format!("cannot build the request: {e}"))?;
    sender.send_request(request).await.map_err(|e| format!("HTTP: {e}"))
}

async fn read_answer(config: &Config, response: hyper::Response<hyper::body::Incoming>) -> Result<Fetched, String> {
    match response.status() {
        StatusCode::NOT_MODIFIED => return Ok(None),
        StatusCode::OK => {}
        s => return Err(format!("HTTP {s} from the bundle server (redirects are not followed)")),
    }
    let etag = response.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let max = config.limits.max_compressed;
    let declared = response
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|&n| n > max) {
        return Err(format!("bundle too large: {n} bytes, over the limit of {max} (--bundle-max-bytes)"));
    }
    let mut body = response.into_body();
    let mut bytes = Vec::with_capacity(usize::try_from(declared.unwrap_or(0)).unwrap_or(0));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("download cut short: {e}"))?;
        if let Some(data) = frame.data_ref() {
            if (bytes.len() + data.len()) as u64 > max {
                return Err(format!("bundle too large: over the limit of {max} bytes (--bundle-max-bytes)"));
            }
            bytes.extend_from_slice(data);
        }
    }
    if let Some(n) = declared.filter(|&n| n != bytes.len() as u64) {
        return Err(format!("download cut short: {} of {n} bytes", bytes.len()));
    }
    Ok(Some((bytes, etag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("3d").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let poll = Duration::from_secs(30);
        assert_eq!(backoff(poll, 1), poll);
        assert_eq!(backoff(poll, 2), Duration::from_secs(60));
        assert_eq!(backoff(poll, 4), Duration::from_secs(240));
        assert_eq!(backoff(poll, 5), MAX_BACKOFF);
        assert_eq!(backoff(poll, 40), MAX_BACKOFF);
        let fast = Duration::from_millis(100);
        assert_eq!(backoff(fast, 40), Duration::from_millis(1600));
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(9) && d < Duration::from_secs(11), "{d:?}");
        }
    }
}
