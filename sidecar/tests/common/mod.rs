//! Test harness for the `keycard` binary (its temp dirs), and for `keycard serve`: starts the real binary on an ephemeral loopback port, and
//! talks to it with a minimal HTTP/1.1 keep-alive client over `std::net::TcpStream`, so the tests
//! exercise exactly what a client on the wire sees.

#![allow(dead_code)]

pub mod tools;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const KEYCARD: &str = env!("CARGO_BIN_EXE_keycard");

/// A fresh, empty directory under the system temp dir, unique to this test process and `name`.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keycard-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `keycard serve`; killed on drop.
pub struct Server {
    pub child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    pub stderr_path: PathBuf,
}

impl Server {
    /// Starts `keycard serve --listen 127.0.0.1:0 ARGS...` and reads the address it bound.
    pub fn start(name: &str, args: &[&str]) -> Server {
        let stderr_path = std::env::temp_dir().join(format!("keycard-serve-{name}-{}.log", std::process::id()));
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut child = Command::new(KEYCARD)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("KEYCARD_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("keycard: listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}: {}", read(&stderr_path)))
            .to_owned();
        Server { child, addr, stderr_path }
    }

    pub fn connect(&self) -> Client {
        Client::connect(&self.addr)
    }

    /// One request on a new connection.
    pub fn get(&self, path: &str) -> Response {
        self.connect().request("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &str) -> Response {
        self.connect().request("POST", path, Some(body.as_bytes()))
    }

    /// Waits until `/readyz` answers 200.
    pub fn wait_ready(&self) {
        self.wait_for("ready", |s| s.get("/readyz").status == 200);
    }

    /// Polls `cond` every 20 ms for up to 20 s.
    pub fn wait_for(&self, what: &str, mut cond: impl FnMut(&Server) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if cond(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {what}; server log:\n{}", self.log());
    }

    /// The snapshot id serving now.
    pub fn snapshot_id(&self) -> Option<String> {
        self.get("/v1/snapshot").json()["snapshot"].as_str().map(str::to_owned)
    }

    /// One metric's value (a line `NAME VALUE` of /metrics, NAME with its labels).
    pub fn metric(&self, name: &str) -> f64 {
        let text = self.get("/metrics").text();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([&format!("-{sig}"), &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success());
    }

    pub fn log(&self) -> String {
        read(&self.stderr_path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    pub fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        stream.set_nodelay(true).unwrap();
        Client { stream: BufReader::new(stream) }
    }

    pub fn request(&mut self, method: &str, path: &str, body: Option<&[u8]>) -> Response {
        self.try_request(method, path, body).unwrap()
    }

    pub fn try_request(&mut self, method: &str, path: &str, body: Option<&[u8]>) -> std::io::Result<Response> {
        self.try_request_with(method, path, &[], body)
    }

    /// A request with extra header lines (a name may repeat: each pair is one line).
    pub fn request_with(&mut self, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        self.try_request_with(method, path, headers, None).unwrap()
    }

    pub fn try_request_with(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> std::io::Result<Response> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: keycard\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            head.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.unwrap_or_default());
        self.send_raw(&bytes)?;
        self.read_response_to(method)
    }

    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.get_mut().write_all(bytes)
    }

    /// Whether the server has read every byte sent on this connection: its end's receive queue
    /// (Linux's `/proc/net/tcp`) is empty. Tells a test that the server has a request in hand
    /// without sleeping.
    pub fn server_has_read_everything(&self) -> bool {
        let s = self.stream.get_ref();
        let (client, server) = (s.local_addr().unwrap().port(), s.peer_addr().unwrap().port());
        let port = |addr: &str| addr.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        table.lines().skip(1).any(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.len() > 4
                && port(f[1]) == Some(server)
                && port(f[2]) == Some(client)
                && f[4].split(':').nth(1).is_some_and(|rx| u64::from_str_radix(rx, 16) == Ok(0))
        })
    }

    pub fn read_response(&mut self) -> std::io::Result<Response> {
        self.read_response_to("GET")
    }

    /// Reads the response to a `method` request (a `HEAD` response has no body, whatever its
    /// `Content-Length` says).
    pub fn read_response_to(&mut self, method: &str) -> std::io::Result<Response> {
        let mut status_line = String::new();
        if self.stream.read_line(&mut status_line)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let len = if method == "HEAD" { 0 } else { len };
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body)?;
        Ok(Response { status, headers, body })
    }
}

/// The default store's `alice`, reading a report from the office (allowed) or from elsewhere
/// (explicitly denied by the office-IP policy).
pub fn alice_reads(source_ip: &str) -> String {
    format!(
        r#"{{"principal": "arn:aws:iam::111122223333:user/dev/alice", "action": "s3:GetObject",
            "resource": "arn:aws:s3:::example-reports/2026/q1.csv",
            "context": {{"aws:SourceIp": "{source_ip}", "aws:SecureTransport": true}}}}"#
    )
}
