//! The deployment examples under `examples/` (docs/operations.md) cannot rot: the Kubernetes
//! ConfigMap's store is laid out as a ConfigMap volume (`..data` links) and loaded by
//! `keycard validate` and by `keycard serve` started with the Deployment's own arguments; its
//! probe paths, ports and scrape settings must be the ones the server answers on; the alert
//! rules may only name metrics the server exports; the systemd unit may only pass flags
//! `keycard serve` takes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{temp_dir, Server, KEYCARD};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// The YAML document `examples/<path>`, which must be of `kind`.
fn one(path: &str, kind: &str) -> Value {
    let text = std::fs::read_to_string(examples().join(path)).unwrap();
    let doc: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(doc["kind"], kind, "{path}");
    doc
}

/// Writes the ConfigMap's data the way the kubelet mounts it: the files in a timestamped
/// directory, `..data` linking to it, and one link per key through `..data`.
fn mount_configmap(configmap: &Value, dir: &Path) {
    let data = configmap["data"].as_object().unwrap();
    assert!(!data.is_empty());
    let real = dir.join("..2026_12_02_06_00_00.000000001");
    std::fs::create_dir_all(&real).unwrap();
    for (key, value) in data {
        std::fs::write(real.join(key), value.as_str().unwrap()).unwrap();
        std::os::unix::fs::symlink(Path::new("..data").join(key), dir.join(key)).unwrap();
    }
    std::os::unix::fs::symlink(real.file_name().unwrap(), dir.join("..data")).unwrap();
}

/// The value after `flag` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

#[test]
fn the_kubernetes_example_runs_as_written() {
    let configmap = one("kubernetes/configmap.yaml", "ConfigMap");
    let deployment = one("kubernetes/deployment.yaml", "Deployment");
    let pod = &deployment["spec"]["template"];
    let spec = &pod["spec"];
    let keycard = spec["initContainers"]
        .as_array()
        .into_iter()
        .chain(spec["containers"].as_array())
        .flatten()
        .find(|c| c["name"] == "keycard")
        .expect("a container named keycard");
    let args: Vec<String> =
        keycard["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
    assert_eq!(args[0], "serve");

    // The store is the ConfigMap, mounted where --policies says.
    let policies = flag(&args, "--policies").unwrap();
    let mount = keycard["volumeMounts"].as_array().unwrap().iter().find(|m| m["mountPath"] == policies).unwrap();
    let volume = spec["volumes"].as_array().unwrap().iter().find(|v| v["name"] == mount["name"]).unwrap();
    assert_eq!(volume["configMap"]["name"], configmap["metadata"]["name"]);

    // Ports: --listen, the container port, the probes, the scrape annotations, the PodMonitor.
    let listen = flag(&args, "--listen").unwrap();
    let port: u64 = listen.rsplit_once(':').unwrap().1.parse().unwrap();
    let container_port = &keycard["ports"][0];
    assert_eq!(container_port["containerPort"], port);
    let port_name = container_port["name"].as_str().unwrap();
    for (probe, path) in [("startupProbe", "/readyz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &keycard[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        assert!(get["port"] == port_name || get["port"] == port, "{probe} port {}", get["port"]);
    }
    let annotations = &pod["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/port"], port.to_string());
    assert_eq!(annotations["prometheus.io/path"], "/metrics");
    let monitor = one("kubernetes/podmonitor.yaml", "PodMonitor");
    assert_eq!(monitor["spec"]["podMetricsEndpoints"][0]["port"], port_name);
    assert_eq!(monitor["spec"]["podMetricsEndpoints"][0]["path"], "/metrics");
    assert_eq!(monitor["spec"]["selector"], deployment["spec"]["selector"]);
    let policy = one("kubernetes/networkpolicy.yaml", "NetworkPolicy");
    assert_eq!(policy["spec"]["podSelector"], deployment["spec"]["selector"]);
    for resource in one("kubernetes/kustomization.yaml", "Kustomization")["resources"].as_array().unwrap() {
        assert!(examples().join("kubernetes").join(resource.as_str().unwrap()).is_file(), "{resource}");
    }

    // The ConfigMap's store loads.
    let dir = temp_dir("examples-k8s");
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    mount_configmap(&configmap, &store);
    let out = Command::new(KEYCARD).args(["validate", "--policies"]).arg(&store).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("2 files"), "{stdout}");

    // keycard serve with the Deployment's arguments (the paths moved into the temp dir, the
    // address to a free loopback port) answers the probes, the scrape, and decisions.
    let mut serve_args: Vec<String> = Vec::new();
    let mut rest = args[1..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--listen" => {
                rest.next();
            }
            "--policies" => {
                rest.next();
                serve_args.extend([a.clone(), store.display().to_string()]);
            }
            "--decision-log" => {
                rest.next();
                serve_args.extend([a.clone(), dir.join("decisions.jsonl").display().to_string()]);
            }
            _ => serve_args.push(a.clone()),
        }
    }
    let refs: Vec<&str> = serve_args.iter().map(String::as_str).collect();
    let server = Server::start("examples-k8s", &refs);
    server.wait_ready();
    for path in ["/readyz", "/healthz", "/metrics"] {
        assert_eq!(server.get(path).status, 200, "{path}");
    }
    let metrics = server.get("/metrics").text();
    let alerts = one("kubernetes/alerts.yaml", "PrometheusRule");
    for rule in alerts["spec"]["groups"][0]["rules"].as_array().unwrap() {
        let expr = rule["expr"].as_str().unwrap();
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with("keycard_"))
        {
            assert!(metrics.contains(&format!("\n{word}")), "alert {}: no metric {word}", rule["alert"]);
        }
    }
    let ask = |who: &str, action: &str, https: bool| {
        let body = format!(
            r#"{{"principal": "arn:aws:iam::111122223333:user/staff/{who}", "action": "documents:{action}",
                "resource": "arn:aws:documents:::team/billing/invoices.csv", "context": {{"aws:SecureTransport": {https}}}}}"#
        );
        let r = server.post("/v1/authorize", &body);
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["decision"].as_str().unwrap().to_owned()
    };
    assert_eq!(ask("dana", "PutDocument", true), "allowed");
    assert_eq!(ask("eli", "PutDocument", true), "implicitDeny");
    assert_eq!(ask("eli", "GetDocument", true), "allowed");
    assert_eq!(ask("eli", "GetDocument", false), "explicitDeny");
    server.wait_for("the decision log", |_| {
        std::fs::read_to_string(dir.join("decisions.jsonl")).is_ok_and(|t| t.lines().count() == 4)
    });
}

#[test]
fn the_systemd_unit_passes_only_flags_keycard_serve_takes() {
    let unit = std::fs::read_to_string(examples().join("systemd/keycard.service")).unwrap();
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
    let words: Vec<&str> = exec.split_whitespace().collect();
    assert!(words[0].ends_with("/keycard"), "{exec}");
    assert_eq!(words[1], "serve");
    let help = Command::new(KEYCARD).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let flags: Vec<&&str> = words.iter().filter(|w| w.starts_with("--")).collect();
    assert!(flags.len() >= 3, "{exec}");
    for f in flags {
        assert!(help.contains(&format!("{f} ")), "keycard serve takes no {f}:\n{help}");
    }
    assert!(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"));
}

/// The fenced `json` blocks of a Markdown file.
fn json_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```json") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_json_example_of_docs_store_md_is_a_store_that_loads() {
    let markdown = std::fs::read_to_string(examples().join("../docs/store.md")).unwrap();
    let blocks = json_blocks(&markdown);
    assert!(blocks.len() >= 7, "{} json blocks", blocks.len());
    let dir = temp_dir("examples-store-md");
    for (i, block) in blocks.iter().enumerate() {
        let file = dir.join(format!("example-{i}.json"));
        std::fs::write(&file, block).unwrap();
        let out = Command::new(KEYCARD).args(["validate", "--policies"]).arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "docs/store.md, json block {}: {}{}\n{block}",
            i + 1,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
