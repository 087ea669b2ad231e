//! The decision log: one JSON line per decision, like a CloudTrail event, written by its own
//! thread so that a slow disk never slows a decision.
//!
//! The request path hands a record to a bounded channel with `try_send`; when the buffer is full
//! the record is dropped and counted (`keycard_decision_log_dropped_total`) instead of waiting.
//! The writer flushes whenever the buffer runs dry, so the file is current when the server idles.

use super::metrics::Metrics;
use super::start_error::StartError;
use keycard::clock::rfc3339;
use keycard::{Answer, Request};
use serde_json::{json, Value};
use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// One decision, as it will be written.
struct Record {
    time: SystemTime,
    principal: Value,
    action: String,
    resource: String,
    answer: Answer,
}

impl Record {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "eventTime": rfc3339(self.time),
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "decision": self.answer.decision().as_str(),
            "snapshot": self.answer.snapshot(),
        });
        if let (Some(e), Value::Object(map)) = (self.answer.explanation(), &mut v) {
            map.insert("matched".into(), serde_json::to_value(e.matched()).unwrap_or(Value::Null));
        }
        v
    }
}

/// The sending half, shared by every request handler.
pub(crate) struct DecisionLog {
    tx: SyncSender<Record>,
    closed: Arc<AtomicBool>,
    writer: Mutex<Option<(JoinHandle<()>, Receiver<()>)>>,
    metrics: Arc<Metrics>,
}

impl DecisionLog {
    /// Starts the writer for `path` (appended to, created if missing) with room for `capacity`
    /// records in flight.
    ///
    /// # Errors
    /// When `path` cannot be a log file (a directory, or its directory does not exist).
    pub(crate) fn start(path: &Path, capacity: usize, metrics: Arc<Metrics>) -> Result<DecisionLog, StartError> {
        let refuse = |message: String| StartError::option("--decision-log", message);
        if path.is_dir() {
            return Err(refuse(format!("{}: is a directory", path.display())));
        }
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !parent.is_dir() {
            return Err(refuse(format!("{}: directory {} does not exist", path.display(), parent.display())));
        }
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let (done_tx, done) = mpsc::sync_channel(1);
        let closed = Arc::new(AtomicBool::new(false));
        let path = path.to_path_buf();
        let (writer_metrics, writer_closed) = (Arc::clone(&metrics), Arc::clone(&closed));
        let writer = std::thread::Builder::new()
            .name("keycard-decision-log".into())
            .spawn(move || {
                write_loop(&path, &rx, &writer_closed, &writer_metrics);
                let _ = done_tx.send(());
            })
            .map_err(|e| StartError::setup("cannot start the decision log thread", e))?;
        Ok(DecisionLog { tx, closed, writer: Mutex::new(Some((writer, done))), metrics })
    }

    /// Queues the record of one decision, or drops it (and counts the drop) if the buffer is full.
    pub(crate) fn record(&self, request: &Request, answer: &Answer) {
        if self.closed.load(Ordering::Relaxed) {
            self.metrics.log_dropped();
            return;
        }
        let record = Record {
            time: SystemTime::now(),
            // A signed request's principal is its signer, whom the answer names.
            principal: answer.principal().map_or_else(|| request.principal_json(), Value::from),
            action: request.action().to_owned(),
            resource: request.resource().to_owned(),
            answer: answer.clone(),
        };
        match self.tx.try_send(record) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.metrics.log_dropped(),
        }
    }

    /// Stops accepting records and waits up to `grace` for the writer to drain and flush.
    pub(crate) fn close(&self, grace: Duration) {
        self.closed.store(true, Ordering::Relaxed);
        let Some((writer, done)) = self.writer.lock().ok().and_then(|mut w| w.take()) else { return };
        match done.recv_timeout(grace) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                let _ = writer.join();
            }
            Err(RecvTimeoutError::Timeout) => {
                tracing::warn!("decision log writer did not finish within {grace:?}; records still buffered are lost");
            }
        }
    }
}

/// How often an idle writer checks whether the log was closed.
const IDLE_POLL: Duration = Duration::from_millis(100);

fn write_loop(path: &PathBuf, rx: &Receiver<Record>, closed: &AtomicBool, metrics: &Metrics) {
    let file = match OpenOptions::new().create(true).append(true).open(path) {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot open the decision log; records are dropped");
            while !closed.load(Ordering::Relaxed) {
                if rx.recv_timeout(IDLE_POLL).is_ok() {
                    metrics.log_write_error();
                }
            }
            return;
        }
    };
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    let mut failing = false;
    loop {
        let record = match rx.try_recv() {
            Ok(r) => r,
            Err(mpsc::TryRecvError::Empty) => {
                let _ = out.flush();
                if closed.load(Ordering::Relaxed) {
                    break;
                }
                match rx.recv_timeout(IDLE_POLL) {
                    Ok(r) => r,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => break,
        };
        let mut line = record.to_json().to_string();
        line.push('\n');
        match out.write_all(line.as_bytes()) {
            Ok(()) => {
                metrics.log_written();
                failing = false;
            }
            Err(e) => {
                metrics.log_write_error();
                if !failing {
                    tracing::error!(path = %path.display(), error = %e, "decision log write failed");
                    failing = true;
                }
            }
        }
    }
    let _ = out.flush();
}
