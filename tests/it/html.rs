//! The HTML report (self-contained, deterministic, well formed, complete) and the JSON
//! journal, on short scenarios of the shop model.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn blastradius(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// The shop for 30 s: az-a down from 12 s to 20 s (less than the database's 30 s failover, so
/// the availability hypothesis fails during the outage), or no fault at all. The bound leaves
/// room for the requests in flight when the outage starts, counted in the window before.
fn scenario(dir: &Path, name: &str, outage: bool) -> PathBuf {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/shop.toml");
    let mut text = format!(
        "name = \"{name}\"\nmodel = {:?}\nduration = \"30s\"\nwarmup = \"5s\"\nseed = 7\n",
        model.display().to_string()
    );
    if outage {
        text.push_str(
            "\n[[fault]]\nkind = \"zone-outage\"\nzone = \"az-a\"\nstart = \"12s\"\nduration = \"8s\"\n",
        );
    }
    text.push_str(
        "\n[[hypothesis]]\nworkload = \"checkout\"\nmetric = \"availability\"\nmin = 0.99\n\
         \n[[hypothesis]]\nworkload = \"checkout\"\nmetric = \"p99\"\nmax = \"1s\"\n",
    );
    let path = dir.join(format!("{}.toml", name.replace(' ', "-")));
    std::fs::write(&path, text).expect("temp file");
    path
}

fn html(paths: &[&Path]) -> String {
    let mut args = vec!["run", "--format", "html"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let output = blastradius(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// Every tag closed in order; `<!...>`, self-closed tags and the void elements stand alone.
fn assert_balanced(html: &str) {
    const VOID: [&str; 6] = ["meta", "br", "hr", "img", "link", "input"];
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>').expect("every tag ends");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name.trim()), "closing </{name}>");
            continue;
        }
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
            "tag <{tag}>"
        );
        if !tag.ends_with('/') && !VOID.contains(&name) {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
}

#[test]
fn html_is_one_deterministic_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let outage = scenario(dir.path(), "short outage", true);
    let steady = scenario(dir.path(), "short steady", false);
    let first = html(&[&outage, &steady]);
    let second = html(&[&outage, &steady]);
    assert!(first == second, "two runs give different HTML");

    assert!(first.starts_with("<!DOCTYPE html>"));
    assert_eq!(first.matches("<html").count(), 1, "one page");
    assert_eq!(first.matches("<section class=\"scenario\"").count(), 2);
    for forbidden in ["<script", "http://", "https://", "@import", "<link", "<img"] {
        assert!(!first.contains(forbidden), "the page contains {forbidden}");
    }
    // Per scenario: a timeline and a latency chart per workload, and the graph.
    assert_eq!(first.matches("<svg").count(), 2 * 3);
    assert_eq!(first.matches("class=\"chart timeline\"").count(), 2);
    assert_eq!(first.matches("class=\"chart latency\"").count(), 2);
    assert_eq!(first.matches("class=\"chart graph\"").count(), 2);
    assert!(first.contains("FAILED"), "the outage's verdict");
    assert!(first.contains("PASSED"), "the steady state's verdict");
    assert!(first.contains("short outage") && first.contains("short steady"));
    assert!(
        first.contains("Workload checkout"),
        "the workload has a section"
    );
    for name in [
        "api",
        "sessions",
        "orders-db",
        "payments",
        "az-a",
        "az-b",
        "az-c",
    ] {
        assert!(first.contains(&format!(">{name}<")), "{name} is shown");
    }
    assert!(first.contains("zone-outage · az-a"), "the fault is named");
    assert_balanced(&first);
}

#[test]
fn json_has_a_chaos_toolkit_journal() {
    let dir = tempfile::tempdir().unwrap();
    let outage = scenario(dir.path(), "short outage", true);
    let output = blastradius(&["run", outage.to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let journal = &doc["journal"];
    assert_eq!(journal["status"], "failed");
    assert_eq!(journal["deviated"], true);
    let states = &journal["steady_states"];
    for window in ["before", "during", "after"] {
        let probes = states[window]["probes"].as_array().expect("probes");
        assert_eq!(probes.len(), 2, "{window}: a probe per hypothesis");
        for probe in probes {
            assert_eq!(probe["activity"]["type"], "probe");
            assert!(probe["activity"]["tolerance"]["bounds"].is_string());
            assert!(probe["output"].is_number(), "{window}: measured");
            assert!(probe["tolerance_met"].is_boolean());
        }
    }
    assert_eq!(states["before"]["steady_state_met"], true);
    assert_eq!(states["during"]["steady_state_met"], false);
    let availability = &states["during"]["probes"][0];
    assert_eq!(availability["activity"]["name"], "checkout availability");
    assert_eq!(availability["activity"]["tolerance"]["min"], 0.99);
    assert_eq!(availability["activity"]["tolerance"]["unit"], "fraction");
    assert_eq!(availability["tolerance_met"], false);
    assert!(availability["output"].as_f64().unwrap() < 0.99);
    let p99 = &states["during"]["probes"][1];
    assert_eq!(p99["activity"]["tolerance"]["max"], 1e9);
    assert_eq!(p99["tolerance_met"], true);
}

#[test]
fn a_run_without_faults_completes_its_journal() {
    let dir = tempfile::tempdir().unwrap();
    let steady = scenario(dir.path(), "short steady", false);
    let output = blastradius(&["run", steady.to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let journal = &doc["journal"];
    assert_eq!(journal["status"], "completed");
    assert_eq!(journal["deviated"], false);
    assert_eq!(journal["steady_states"]["before"]["steady_state_met"], true);
    assert!(journal["steady_states"]["during"].is_null());
    assert!(journal["steady_states"]["after"].is_null());
}

#[test]
fn mechanisms_show_in_the_html_report_when_the_model_has_them() {
    // The breaker scenario: its edge's counts appear, escaped, in a Mechanisms section; the
    // plain shop has no mechanism of the kind, and no such section.
    let with = html(&[Path::new("scenarios/retry-storm-circuit-breaker.toml")]);
    assert_balanced(&with);
    let section = with
        .split("<h2>Mechanisms</h2>")
        .nth(1)
        .expect("a Mechanisms section");
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains("api -&gt; backend (circuit_breaker)"),
        "{section}"
    );
    assert!(section.contains("breaker opened"), "{section}");
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = html(&[&scenario(dir.path(), "plain", false)]);
    assert!(!plain.contains("<h2>Mechanisms</h2>"));
}
