//! A derived model as the text of a model file: each table with the comment that says where it
//! came from, the guesses and the unmapped as comments at the end. Pure: the same `Derived`
//! gives the same bytes.

use std::fmt::Write as _;

use super::derive::{CallDraft, Derived, NodeDraft, Placed};
use super::fit::{Fit, Shape};
use crate::interop::draft::exact_duration;

impl Derived {
    /// The model file's text.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            comment(&mut out, line);
        }
        let _ = writeln!(out, "name = {}", quote(&self.name));
        let _ = writeln!(out, "zones = {}", list(&self.zones));
        for w in &self.workloads {
            out.push('\n');
            comment(&mut out, &w.origin);
            let _ = writeln!(out, "[workload.{}]", key(&w.name));
            let _ = writeln!(out, "target = {}", quote(&w.target));
            let _ = writeln!(out, "rate = {}", significant(w.rate_per_s));
            let _ = writeln!(
                out,
                "arrival = \"{}\"",
                if w.constant { "constant" } else { "poisson" }
            );
            let _ = writeln!(
                out,
                "timeout = \"{}\"  # a guess (see the end)",
                exact_duration(w.timeout_ns)
            );
        }
        for (name, (node, origin)) in &self.nodes {
            out.push('\n');
            for line in origin {
                comment(&mut out, line);
            }
            write_node(&mut out, name, node);
        }
        self.write_end(&mut out);
        out
    }

    fn write_end(&self, out: &mut String) {
        out.push('\n');
        comment(out, "Guesses (what, why, how to override):");
        for g in &self.guesses {
            comment(out, &format!("- {}: {}; {}", g.what, g.why, g.how));
        }
        if !self.unmapped.is_empty() {
            out.push('\n');
            comment(out, "Not mapped (no counterpart in the model):");
            for u in &self.unmapped {
                comment(out, &format!("- {u}"));
            }
        }
    }
}

fn write_node(out: &mut String, name: &str, node: &NodeDraft) {
    match node {
        NodeDraft::Service(placed) => {
            let _ = writeln!(out, "[service.{}]", key(name));
            write_placed(out, placed);
        }
        NodeDraft::Cache {
            placed,
            hit_ratio,
            backing,
            from,
        } => {
            let _ = writeln!(out, "[cache.{}]", key(name));
            write_placed(out, placed);
            let _ = writeln!(out, "hit_ratio = {}  # {from}", round(*hit_ratio, 4));
            let _ = writeln!(out, "backing = {}", quote(backing));
        }
        NodeDraft::Database { placed, primary } => {
            let _ = writeln!(out, "[database.{}]", key(name));
            write_placed(out, placed);
            let _ = writeln!(out, "primary = {}  # a guess", quote(primary));
        }
        NodeDraft::Queue {
            zones,
            consumer,
            ack,
        } => {
            let _ = writeln!(out, "[queue.{}]", key(name));
            let _ = writeln!(out, "zones = {}", list(zones));
            let _ = writeln!(out, "consumer = {}", quote(consumer));
            if let Some(fit) = ack {
                let _ = writeln!(
                    out,
                    "ack = {}  # {}",
                    dist(fit.shape),
                    fit_note(fit, "publish span durations")
                );
            }
        }
        NodeDraft::External {
            latency,
            error_rate,
        } => {
            let _ = writeln!(out, "[external.{}]", key(name));
            match latency {
                Some(fit) => {
                    let _ = writeln!(
                        out,
                        "latency = {}  # {}",
                        dist(fit.shape),
                        fit_note(fit, "client span durations")
                    );
                }
                None => out.push_str(
                    "latency = { dist = \"constant\", value = \"0s\" }  # no durations seen\n",
                ),
            }
            let _ = writeln!(out, "error_rate = {}", round(*error_rate, 4));
        }
    }
}

fn write_placed(out: &mut String, p: &Placed) {
    let _ = writeln!(out, "zones = {}", list(&p.zones));
    if p.guessed {
        let _ = writeln!(out, "replicas = {}  # a guess", p.replicas);
        let _ = writeln!(
            out,
            "workers = {}  # the most client spans to it open at once (a guess)",
            p.workers
        );
    } else {
        let _ = writeln!(
            out,
            "replicas = {}  # distinct service.instance.id per zone",
            p.replicas
        );
        let _ = writeln!(
            out,
            "workers = {}  # the most spans open at once on one instance (a lower bound)",
            p.workers
        );
    }
    match &p.service_time {
        Some(fit) => {
            let _ = writeln!(
                out,
                "service_time = {}  # {}",
                dist(fit.shape),
                fit_note(fit, "self times")
            );
        }
        None => {
            out.push_str("service_time = { dist = \"constant\", value = \"0s\" }  # no spans\n")
        }
    }
    if p.calls.is_empty() {
        return;
    }
    out.push_str("calls = [\n");
    for call in &p.calls {
        write_call(out, call);
    }
    out.push_str("]\n");
}

fn write_call(out: &mut String, c: &CallDraft) {
    let _ = writeln!(out, "  # {}", c.origin.replace('\n', " "));
    let mut keys = vec![
        format!("to = {}", quote(&c.to)),
        format!("timeout = \"{}\"", exact_duration(c.timeout_ns)),
    ];
    if c.probability < 0.9995 {
        keys.push(format!("probability = {}", round(c.probability, 3)));
    }
    if c.retries > 0 {
        keys.push(format!("retries = {}", c.retries));
        keys.push(format!(
            "backoff = \"{}\"",
            exact_duration(three_figures(c.backoff_ns))
        ));
        keys.push("jitter = \"none\"".to_string());
    }
    if c.optional {
        keys.push("optional = true".to_string());
    }
    let _ = writeln!(out, "  {{ {} }},", keys.join(", "));
}

/// A distribution as the model writes it, durations at three significant figures.
fn dist(shape: Shape) -> String {
    let d = |ns: u64| exact_duration(three_figures(ns));
    match shape {
        Shape::Constant { value_ns } => {
            format!("{{ dist = \"constant\", value = \"{}\" }}", d(value_ns))
        }
        Shape::Exponential { mean_ns } => {
            format!("{{ dist = \"exponential\", mean = \"{}\" }}", d(mean_ns))
        }
        Shape::Lognormal { median_ns, p99_ns } => {
            let (median, p99) = (three_figures(median_ns), three_figures(p99_ns));
            // Rounding may make them equal; a lognormal needs p99 above its median.
            let p99 = if p99 <= median { median + 1 } else { p99 };
            format!(
                "{{ dist = \"lognormal\", median = \"{}\", p99 = \"{}\" }}",
                exact_duration(median),
                exact_duration(p99)
            )
        }
    }
}

fn fit_note(fit: &Fit, of: &str) -> String {
    let others: Vec<String> = fit
        .alternatives
        .iter()
        .map(|(n, e)| format!("{n} {:.1}%", e * 100.0))
        .collect();
    format!(
        "{} of {} {of}: median {}, p99 {}; fit error {:.1}% ({})",
        fit.shape.name(),
        fit.samples,
        exact_duration(three_figures(fit.median_ns)),
        exact_duration(three_figures(fit.p99_ns)),
        fit.error * 100.0,
        if others.is_empty() {
            "the only candidate".to_string()
        } else {
            others.join(", ")
        }
    )
}

/// `ns` rounded to three significant figures (a model reads better in "2.03ms" than in
/// "2031457ns", and 0.05 % is far inside what traces can tell).
pub fn three_figures(ns: u64) -> u64 {
    let mut scale = 1u64;
    while ns / scale >= 1000 {
        scale *= 10;
    }
    ((ns + scale / 2) / scale) * scale
}

fn significant(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let digits = (4 - libm::floor(libm::log10(x.abs())) as i32 - 1).max(0) as usize;
    let text = format!("{x:.digits$}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

fn round(x: f64, decimals: i32) -> String {
    let scale = libm::pow(10.0, f64::from(decimals));
    let value = libm::round(x * scale) / scale;
    let text = format!("{value}");
    if text.contains('.') || text.contains('e') {
        text
    } else {
        format!("{text}.0")
    }
}

fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A table key: bare when it can be, quoted otherwise.
fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        name.to_string()
    } else {
        quote(name)
    }
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", quoted.join(", "))
}

fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "# {}", line.trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_readably_and_exactly_enough() {
        assert_eq!(three_figures(2_031_457), 2_030_000);
        assert_eq!(three_figures(999), 999);
        assert_eq!(three_figures(1_999_999), 2_000_000);
        assert_eq!(significant(1.666_666), "1.667");
        assert_eq!(significant(40.0), "40.00");
        assert_eq!(significant(1234.6), "1235.0");
        assert_eq!(round(0.5, 3), "0.5");
        assert_eq!(round(1.0, 3), "1.0");
        assert_eq!(key("users-db"), "users-db");
        assert_eq!(key("a.b"), "\"a.b\"");
    }
}
