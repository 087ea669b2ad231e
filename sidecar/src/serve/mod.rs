//! `keycard serve`: the HTTP sidecar (`docs/http-api.md`) on hyper 1.x and tokio.
//!
//! The moving parts, one module each: [`routes`] answers requests from the snapshot in
//! [`state`], which `keycard::live` keeps up to date (watching the store and swapping snapshots;
//! the C ABI shares it); [`metrics`] counts; [`decision_log`] writes one line per decision off
//! the request path; [`gate`] answers proxies (nginx `auth_request`, Caddy and Traefik forward
//! auth, Envoy `ext_authz`), and [`grpc`] answers Envoy's gRPC `ext_authz` on `--grpc-listen`.
//! This file binds the listeners (TCP or `unix:` socket), accepts connections, and handles
//! signals: `SIGHUP` reloads, `SIGTERM`/`SIGINT` stop accepting, drain in-flight requests and
//! exit 0.

pub(crate) mod bundle;
mod decision_log;
mod gate;
mod gate_types;
mod grpc;
mod metrics;
mod offload;
mod poller;
mod routes;
mod start_error;
mod state;
mod sts;

use decision_log::DecisionLog;
use gate_types::Peer;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use keycard::live::{Event, Live, Source};
use metrics::Metrics;
use start_error::StartError;
use state::State;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{signal, SignalKind};

/// How long `SIGTERM` waits for in-flight requests before exiting anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// `keycard serve` options.
pub(crate) struct Options {
    pub(crate) policies: Option<PathBuf>,
    pub(crate) listen: String,
    pub(crate) decision_log: Option<PathBuf>,
    pub(crate) decision_log_buffer: usize,
    pub(crate) log_json: bool,
    /// How long a client may take to send a request's headers, and then its body (slowloris).
    pub(crate) client_timeout: Duration,
    /// `--sts-key-file`: the keys that seal session tokens (else a random per-process key).
    pub(crate) sts_key_file: Option<PathBuf>,
    /// `--trusted-proxy`: CIDR blocks whose `X-Forwarded-*` and principal header are believed.
    pub(crate) trusted_proxies: Vec<String>,
    /// `--trust-principal-header`: the header an authenticating proxy sets to the caller's ARN.
    pub(crate) trust_principal_header: Option<String>,
    /// `--bundle-public-key`, `--bundle-insecure-unsigned`: how bundles are verified.
    pub(crate) bundle: crate::bundle_cmd::TrustArgs,
    /// `--bundle-url` and its options.
    pub(crate) poll: bundle::PollArgs,
    /// `--grpc-listen`: where Envoy's gRPC `ext_authz` is served, if anywhere.
    pub(crate) grpc_listen: Option<String>,
}

/// Runs the sidecar until `SIGTERM` or `SIGINT`; exit 0 after a clean drain, 2 when it cannot start.
pub(crate) fn run(options: Options) -> ExitCode {
    init_tracing(options.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("keycard-http").build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keycard: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(serve(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("keycard: {e}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEYCARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// A bound listener, TCP or Unix.
enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

async fn bind(listen: &str) -> Result<(Listener, String), StartError> {
    if let Some(path) = listen.strip_prefix("unix:") {
        let path = PathBuf::from(path);
        // A socket left behind by an earlier run would make bind fail; anything else is kept.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type())) {
            let _ = std::fs::remove_file(&path);
        }
        let listener =
            UnixListener::bind(&path).map_err(|e| StartError::setup(format!("cannot listen on {listen}"), e))?;
        let shown = format!("unix:{}", path.display());
        return Ok((Listener::Unix(listener, path), shown));
    }
    let listener =
        TcpListener::bind(listen).await.map_err(|e| StartError::setup(format!("cannot listen on {listen}"), e))?;
    let addr = listener.local_addr().map_err(|e| StartError::setup("cannot read the bound address", e))?;
    Ok((Listener::Tcp(listener), format!("http://{addr}")))
}

/// Where the store comes from: the bundle poller, `--policies`, or the embedded default store.
fn store_source(options: &Options, poll: Option<&bundle::Config>) -> Result<Source, StartError> {
    Ok(match (poll, &options.policies) {
        (Some(poll), _) => Source::External(poll.describe()),
        (None, Some(p)) => {
            let p = std::path::absolute(p)
                .map_err(|e| StartError::option("--policies", format!("{}: {e}", p.display())))?;
            crate::source::source_of(Some(&p), &options.bundle).map_err(|e| StartError::option("--policies", e))?
        }
        (None, None) => crate::source::source(None),
    })
}

/// The keys that seal STS session tokens: `--sts-key-file`, else a random per-process key.
fn sts_keys(options: &Options) -> Result<keycard::auth::SealKeys, StartError> {
    match &options.sts_key_file {
        Some(path) => keycard::auth::SealKeys::from_file(path).map_err(|e| StartError::option("--sts-key-file", e)),
        None => keycard::auth::SealKeys::random()
            .map_err(|e| StartError::setup("cannot make an STS key", std::io::Error::other(e.to_string()))),
    }
}

async fn serve(options: Options) -> Result<(), StartError> {
    let poll = bundle::Config::new(&options.poll, &options.bundle)?;
    let source = store_source(&options, poll.as_ref())?;
    let described = crate::source::describe(&source);
    let gate = gate_types::Config::new(&options.trusted_proxies, options.trust_principal_header.as_deref())?;
    let metrics = Arc::new(Metrics::new());
    let log = match &options.decision_log {
        Some(path) => Some(DecisionLog::start(path, options.decision_log_buffer, Arc::clone(&metrics))?),
        None => None,
    };
    let keys = sts_keys(&options)?;
    let (listener, shown) = bind(&options.listen).await?;
    let grpc_listener = match &options.grpc_listen {
        Some(listen) => Some(grpc::bind(listen).await?),
        None => None,
    };
    // The first load runs on the reload thread: /healthz answers at once, /readyz once loaded.
    let published = Arc::new(tokio::sync::Notify::new());
    let config = keycard::live::Config::new().watch(true);
    let live = Live::start(source, observe(config, Arc::clone(&metrics), described.clone(), Arc::clone(&published)))
        .map_err(|e| StartError::setup("cannot start the reloader", e))?;
    let state = Arc::new(State {
        live,
        source: described,
        metrics,
        log,
        client_timeout: options.client_timeout,
        sts: keycard::sts::Sts::new(keys),
        clock_offset_secs: test_clock_offset(),
        gate,
        offload: offload::Offload::new(),
        bundle: poll.as_ref().map(|_| Arc::new(poller::Poller::new())),
    });
    if let (Some(config), Some(poller)) = (poll, &state.bundle) {
        bundle::spawn(Arc::clone(&state), config, Arc::clone(poller));
    }

    let signals = Signals::new()?;

    // The first line on stdout says where to connect (tests and scripts read it), the second
    // where gRPC is served; written at once, and a closed stdout is no reason to stop.
    let mut banner = format!("keycard: listening on {shown}\n");
    let (stop_grpc, grpc_stopped) = tokio::sync::oneshot::channel::<()>();
    let grpc_task = grpc_listener.map(|(grpc_listener, grpc_shown)| {
        banner.push_str(&format!("keycard: grpc listening on {grpc_shown}\n"));
        tracing::info!(listen = %grpc_shown, "gRPC ext_authz served");
        let stop = async move {
            let _ = grpc_stopped.await;
        };
        tokio::spawn(grpc::serve(grpc_listener, Arc::clone(&state), published, stop))
    });
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    }
    tracing::info!(listen = %shown, store = %state.source, heavy_permits = state.offload.permits(), "keycard serve started");

    let graceful = GracefulShutdown::new();
    accept_until_signal(&listener, &state, &graceful, signals).await;
    if let Listener::Unix(_, path) = &listener {
        let _ = std::fs::remove_file(path);
    }
    drop(listener);
    let _ = stop_grpc.send(());
    drain(graceful, grpc_task, &state).await;
    Ok(())
}

/// The signals `keycard serve` handles: `SIGHUP` reloads, `SIGTERM` and `SIGINT` drain.
struct Signals {
    hangup: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, StartError> {
        let hangup = signal(SignalKind::hangup()).map_err(|e| StartError::setup("cannot handle SIGHUP", e))?;
        let terminate = signal(SignalKind::terminate()).map_err(|e| StartError::setup("cannot handle SIGTERM", e))?;
        let interrupt = signal(SignalKind::interrupt()).map_err(|e| StartError::setup("cannot handle SIGINT", e))?;
        Ok(Signals { hangup, terminate, interrupt })
    }
}

/// Accepts connections and serves them until `SIGTERM` or `SIGINT`; `SIGHUP` reloads the store
/// (and wakes the bundle poller).
async fn accept_until_signal(
    listener: &Listener,
    state: &Arc<State>,
    graceful: &GracefulShutdown,
    mut signals: Signals,
) {
    loop {
        tokio::select! {
            accepted = accept(listener) => match accepted {
                Ok(Accepted::Tcp(stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    spawn_connection(stream, Peer::Ip(peer.ip()), state, graceful);
                }
                Ok(Accepted::Unix(stream)) => spawn_connection(stream, Peer::Local, state, graceful),
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = signals.hangup.recv() => {
                tracing::info!("SIGHUP: reloading the store");
                state.live.reload();
                if let Some(poller) = &state.bundle {
                    poller.wake();
                }
            }
            _ = signals.terminate.recv() => { tracing::info!("SIGTERM: draining"); break; }
            _ = signals.interrupt.recv() => { tracing::info!("SIGINT: draining"); break; }
        }
    }
}

/// Waits (at most [`DRAIN_TIMEOUT`]) for in-flight HTTP requests and gRPC calls, then closes the
/// decision log.
async fn drain(
    graceful: GracefulShutdown,
    grpc_task: Option<tokio::task::JoinHandle<Result<(), tonic::transport::Error>>>,
    state: &State,
) {
    let grpc_drained = async {
        if let Some(task) = grpc_task {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "the gRPC server failed"),
                Err(e) => tracing::error!(error = %e, "the gRPC server task failed"),
            }
        }
    };
    tokio::select! {
        ((), ()) = async { tokio::join!(graceful.shutdown(), grpc_drained) } => tracing::info!("in-flight requests drained"),
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("drain timed out after {DRAIN_TIMEOUT:?}"),
    }
    if let Some(log) = &state.log {
        log.close(Duration::from_secs(2));
    }
    tracing::info!("keycard serve stopped");
}

/// `KEYCARD_TEST_CLOCK_OFFSET_SECS`, honoured by debug builds only (tests of expired sessions).
fn test_clock_offset() -> i64 {
    if !cfg!(debug_assertions) {
        return 0;
    }
    std::env::var("KEYCARD_TEST_CLOCK_OFFSET_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// `config` with an observer that counts and logs what the reload thread does; `published` is
/// notified of every new snapshot.
fn observe(
    config: keycard::live::Config,
    metrics: Arc<Metrics>,
    source: String,
    published: Arc<tokio::sync::Notify>,
) -> keycard::live::Config {
    config.observer(move |event: &Event<'_>| match event {
        Event::Published { loaded, took } => {
            let stats = loaded.stats();
            tracing::info!(
                snapshot = loaded.snapshot().id(),
                files = stats.files,
                principals = stats.principals,
                policies = stats.policies,
                statements = stats.statements,
                took_ms = took.as_millis() as u64,
                "snapshot loaded"
            );
            if let Some(b) = loaded.bundle() {
                tracing::info!(revision = %b.revision, verified_by = ?b.verified_by, url = ?b.url, "from bundle");
                if b.verified_by.is_none() {
                    tracing::warn!("{}", crate::bundle_cmd::UNVERIFIED);
                }
            }
            metrics.reloaded(keycard::clock::unix_seconds(loaded.loaded_at()));
            published.notify_one();
        }
        Event::Failed { failure } => {
            for p in failure.error().problems() {
                tracing::error!(source = %source, problem = %p, "store failed to load; keeping the last good snapshot");
            }
            metrics.reload_failed();
        }
        Event::WatchProblem(message) => tracing::warn!(source = %source, "{message}; changes need SIGHUP"),
        _ => {}
    })
}

enum Accepted {
    /// A TCP connection and its peer's address (the gateway's `aws:SourceIp` and proxy trust).
    Tcp(tokio::net::TcpStream, std::net::SocketAddr),
    Unix(tokio::net::UnixStream),
}

async fn accept(listener: &Listener) -> std::io::Result<Accepted> {
    match listener {
        Listener::Tcp(l) => l.accept().await.map(|(s, peer)| Accepted::Tcp(s, peer)),
        Listener::Unix(l, _) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
    }
}

fn spawn_connection<S>(stream: S, peer: Peer, state: &Arc<State>, graceful: &GracefulShutdown)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let state = Arc::clone(state);
    let timeout = state.client_timeout;
    let service = service_fn(move |req| routes::handle(req, Arc::clone(&state), peer));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection ended with an error");
        }
    });
}
