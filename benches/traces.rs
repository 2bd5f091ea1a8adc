//! `import traces` speed and memory: writes an OTLP JSON file of 1,000,000 spans (100,000
//! traces of 10 spans over 5 services, 3 zones, 2 instances each, one request per line of
//! 500 spans, as the Collector's file exporter writes them) and times one import of it —
//! reading, assembling, analysing and deriving the model — on one thread. Prints the spans
//! per second and the most spans held in traces in progress; asserts nothing about time.
//!
//!     cargo bench --bench traces              # 1,000,000 spans
//!     cargo bench --bench traces -- 200000    # another size

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::time::Instant;

use blastradius::interop::traces::{Format, Importer, Options, derive};

const SERVICES: [&str; 5] = ["frontend", "cart", "orders", "recommend", "search"];
const ZONES: [&str; 3] = ["az-a", "az-b", "az-c"];

/// A small deterministic generator (SplitMix64), so the file is the same every run.
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn span(
    out: &mut String,
    trace: u128,
    id: u64,
    parent: u64,
    name: &str,
    kind: u8,
    start: u64,
    end: u64,
    extra: &str,
) {
    let parent = if parent == 0 {
        String::new()
    } else {
        format!("{parent:016x}")
    };
    out.push_str(&format!(
        r#"{{"traceId":"{trace:032x}","spanId":"{id:016x}","parentSpanId":"{parent}","name":"{name}","kind":{kind},"startTimeUnixNano":"{start}","endTimeUnixNano":"{end}","attributes":[{extra}],"status":{{}}}}"#
    ));
}

/// One trace: frontend -> (client) -> each of the other four services, each calling a redis.
fn trace(mix: &mut Mix, t: u64, spans: &mut Vec<(usize, String)>) {
    let trace = (u128::from(mix.next()) << 64) | u128::from(mix.next());
    let zone = (mix.next() % 3) as usize;
    let root = mix.next() | 1;
    let mut now = t + 1_000_000;
    for (s, _) in SERVICES.iter().enumerate().skip(1) {
        let (client, server, redis) = (mix.next() | 1, mix.next() | 1, mix.next() | 1);
        let mut body = String::new();
        span(
            &mut body,
            trace,
            client,
            root,
            "GET",
            3,
            now,
            now + 3_000_000,
            r#"{"key":"server.address","value":{"stringValue":"x"}}"#,
        );
        spans.push((zone * 2, body));
        let mut body = String::new();
        span(
            &mut body,
            trace,
            server,
            client,
            "GET /x",
            2,
            now + 50_000,
            now + 2_950_000,
            "",
        );
        spans.push((s * 6 + zone * 2 + (mix.next() % 2) as usize, body));
        let mut body = String::new();
        span(
            &mut body,
            trace,
            redis,
            server,
            "GET",
            3,
            now + 100_000,
            now + 600_000,
            r#"{"key":"db.system","value":{"stringValue":"redis"}}"#,
        );
        spans.push((s * 6 + zone * 2, body));
        now += 3_000_000;
    }
    let mut body = String::new();
    span(
        &mut body,
        trace,
        root,
        0,
        "GET /checkout",
        2,
        t,
        now + 1_000_000,
        "",
    );
    spans.push((zone * 2, body));
}

fn resource(instance: usize) -> String {
    let (service, zone, i) = (
        SERVICES[instance / 6],
        ZONES[(instance % 6) / 2],
        instance % 2,
    );
    format!(
        r#"{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}},{{"key":"service.instance.id","value":{{"stringValue":"{service}-{zone}-{i}"}}}},{{"key":"cloud.availability_zone","value":{{"stringValue":"{zone}"}}}}]}}"#
    )
}

fn write_file(path: &std::path::Path, spans_wanted: u64) -> u64 {
    let mut out = BufWriter::new(File::create(path).unwrap());
    let mut mix = Mix(18);
    let (mut written, mut t) = (0u64, 1_764_806_400_000_000_000u64);
    let mut batch: Vec<(usize, String)> = Vec::new();
    while written < spans_wanted {
        t += 2_000_000 + mix.next() % 1_000_000;
        trace(&mut mix, t, &mut batch);
        if batch.len() >= 500 || written + batch.len() as u64 >= spans_wanted {
            written += batch.len() as u64;
            batch.sort_by_key(|b| b.0);
            let mut line = String::from(r#"{"resourceSpans":["#);
            for (n, group) in batch.chunk_by(|a, b| a.0 == b.0).enumerate() {
                if n > 0 {
                    line.push(',');
                }
                let bodies: Vec<&str> = group.iter().map(|g| g.1.as_str()).collect();
                line.push_str(&format!(
                    r#"{{"resource":{},"scopeSpans":[{{"spans":[{}]}}]}}"#,
                    resource(group[0].0),
                    bodies.join(",")
                ));
            }
            line.push_str("]}\n");
            out.write_all(line.as_bytes()).unwrap();
            batch.clear();
        }
    }
    out.flush().unwrap();
    written
}

fn main() {
    let spans: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let written = write_file(&path, spans);
    let bytes = std::fs::metadata(&path).unwrap().len();
    let started = Instant::now();
    let mut importer = Importer::new(&Options::default());
    importer
        .read(
            Format::Otlp,
            BufReader::with_capacity(1 << 16, File::open(&path).unwrap()),
            "big.jsonl",
        )
        .unwrap();
    let observed = importer.finish();
    let derived = derive(&observed, &Options::default());
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(observed.spans, written);
    println!(
        "import traces: {written} spans ({:.0} MB of OTLP JSON) in {seconds:.2} s: {:.2} M spans/s, {} nodes, {} traces",
        bytes as f64 / 1e6,
        written as f64 / seconds / 1e6,
        derived.nodes.len(),
        observed.traces
    );
}
