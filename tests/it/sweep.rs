//! Sweeps, fma, sharding and merge.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blastradius::analysis::study;
use blastradius::analysis::sweep::{Estimate, record, summarise};
use blastradius::model::parse_scenario;

fn blastradius(args: &[&str], threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// A short zone-outage scenario of the shop: 40 s simulated, the outage from 15 s to 25 s.
fn short_scenario(dir: &Path) -> PathBuf {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/shop.toml");
    let path = dir.join("sweep.toml");
    let text = format!(
        "name = \"sweep me\"\nmodel = {:?}\nduration = \"40s\"\nwarmup = \"5s\"\nseed = 3\n\n\
         [[fault]]\nkind = \"zone-outage\"\nzone = \"az-a\"\nstart = \"15s\"\nduration = \"10s\"\n\n\
         [[hypothesis]]\nworkload = \"checkout\"\nmetric = \"availability\"\nmin = 0.9\n",
        model.display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    path
}

const GRID: [&str; 6] = [
    "--seeds",
    "3",
    "--set",
    "fault.0.duration=5s,20s",
    "--set",
    "workload.checkout.rate=300,600",
];

fn sweep_args<'a>(scenario: &'a str, format: &'a str) -> Vec<&'a str> {
    let mut args = vec!["sweep", scenario, "--format", format];
    args.extend(GRID);
    args
}

#[test]
fn merged_shards_equal_the_unsharded_sweep_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_scenario(dir.path());
    let scenario = scenario.to_str().unwrap();
    for format in ["json", "text", "csv"] {
        let whole = blastradius(&sweep_args(scenario, format), "2");
        assert_eq!(
            whole.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&whole.stderr)
        );
        // 2 grid parameters x 2 values x 3 seeds = 12 units, split 2, 3 and 5 ways.
        for shards in [2, 3, 5] {
            let mut files = Vec::new();
            for k in 1..=shards {
                let out = dir.path().join(format!("{format}-{k}-of-{shards}.jsonl"));
                let spec = format!("{k}/{shards}");
                let mut args = sweep_args(scenario, format);
                args.extend(["--shard", &spec, "--out", out.to_str().unwrap()]);
                let shard = blastradius(&args, "1");
                assert_eq!(
                    shard.status.code(),
                    Some(0),
                    "{}",
                    String::from_utf8_lossy(&shard.stderr)
                );
                files.push(out);
            }
            // Merge in reverse order: order of files must not matter.
            let mut args = vec!["merge", "--format", format];
            args.extend(files.iter().rev().map(|f| f.to_str().unwrap()));
            let merged = blastradius(&args, "2");
            assert_eq!(
                merged.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&merged.stderr)
            );
            assert_eq!(merged.stdout, whole.stdout, "{format}, {shards} shards");
        }
    }
}

#[test]
fn one_thread_and_two_threads_give_the_same_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_scenario(dir.path());
    let args = sweep_args(scenario.to_str().unwrap(), "json");
    let (one, two) = (blastradius(&args, "1"), blastradius(&args, "2"));
    assert_eq!(one.status.code(), Some(0));
    assert_eq!(one.stdout, two.stdout);
    let summary: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(summary["points"].as_array().unwrap().len(), 4);
    assert_eq!(summary["points"][0]["runs"], 3);
}

#[test]
fn merge_refuses_mismatches_and_names_missing_and_duplicate_units() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_scenario(dir.path());
    let scenario = scenario.to_str().unwrap();
    let shard = |k: &str| {
        let out = dir.path().join(format!("s{}.jsonl", k.replace('/', "-")));
        let mut args = sweep_args(scenario, "json");
        args.extend(["--shard", k, "--out", out.to_str().unwrap()]);
        assert_eq!(blastradius(&args, "1").status.code(), Some(0));
        out
    };
    let (a, b) = (shard("1/2"), shard("2/2"));
    let merge = |files: &[&Path]| {
        let mut args = vec!["merge"];
        args.extend(files.iter().map(|f| f.to_str().unwrap()));
        blastradius(&args, "1")
    };
    let missing = merge(&[&a]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("6 of 12 units are missing: 1, 3, 5, 7, 9, 11")
    );
    let duplicate = merge(&[&a, &a, &b]);
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("appears more than once"));
    let tampered = dir.path().join("tampered.jsonl");
    let text = std::fs::read_to_string(&b).unwrap();
    let first_hash = text
        .split("\"model_hash\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&tampered, text.replace(&first_hash, "0000000000000000")).unwrap();
    let mismatch = merge(&[&a, &tampered]);
    assert_eq!(mismatch.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&mismatch.stderr).contains("disagree on model hash"));
    let garbage = dir.path().join("garbage.jsonl");
    std::fs::write(&garbage, "{not json}\n").unwrap();
    let bad = merge(&[&garbage]);
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("garbage.jsonl:1:2: not a blastradius unit record: key must be a string")
    );
}

#[test]
fn merge_streams_a_large_shard_and_names_a_malformed_line_deep_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.jsonl");
    let zones = [
        FMA_ZONES,
        &["--shard", "1/1", "--out", small.to_str().unwrap()],
    ]
    .concat();
    assert_eq!(blastradius(&zones, "2").status.code(), Some(0));
    // 6 candidates, 1 seed: copied as if each had been run with 2,000 seeds, 12,000 records.
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&small)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seeds = 2_000u64;
    let total = records.len() as u64 * seeds;
    let mut lines = Vec::new();
    for (p, record) in records.iter().enumerate() {
        for s in 0..seeds {
            let mut copy = record.clone();
            copy["unit"] = (p as u64 * seeds + s).into();
            copy["units_total"] = total.into();
            lines.push(serde_json::to_string(&copy).unwrap());
        }
    }
    let big = dir.path().join("big.jsonl");
    std::fs::write(&big, lines.join("\n") + "\n").unwrap();
    let merged = blastradius(&["merge", "--format", "json", big.to_str().unwrap()], "1");
    assert_eq!(
        merged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(summary["units"], total);
    assert_eq!(summary["points"][0]["runs"], seeds);

    // Line 9,871 (1-based) broken at its `passed` value: reported by line and column.
    let broken = 9_870;
    let at = lines[broken].find("\"passed\":").unwrap() + "\"passed\":".len();
    lines[broken].replace_range(at..at + 1, "?");
    std::fs::write(&big, lines.join("\n") + "\n").unwrap();
    let bad = blastradius(&["merge", big.to_str().unwrap()], "1");
    assert_eq!(bad.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    let expected = format!("big.jsonl:9871:{}: not a blastradius unit record", at + 1);
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn merged_fma_shards_equal_the_unsharded_fma_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = ["--seeds", "2"];
    for format in ["text", "json"] {
        let whole = blastradius(&[FMA_ZONES, &seeds, &["--format", format]].concat(), "2");
        assert_eq!(whole.status.code(), Some(0));
        let mut args = vec!["merge", "--format", format];
        let files: Vec<String> = (1..=3)
            .map(|k| {
                let out = dir.path().join(format!("{format}-{k}.jsonl"));
                let out = out.to_str().unwrap().to_string();
                let shard = format!("{k}/3");
                let run = [FMA_ZONES, &seeds, &["--shard", &shard, "--out", &out]].concat();
                assert_eq!(blastradius(&run, "1").status.code(), Some(0));
                out
            })
            .collect();
        args.extend(files.iter().rev().map(String::as_str));
        let merged = blastradius(&args, "2");
        assert_eq!(merged.status.code(), Some(0));
        assert_eq!(merged.stdout, whole.stdout, "{format}");
    }
}

#[test]
fn confidence_intervals_have_their_stated_coverage() {
    // A service calling an external that fails 20% of calls, nothing retried: each run's
    // availability is a binomial proportion with mean exactly 0.8, runs are independent (one
    // seed each), so a 95% t-interval over 8 runs should cover 0.8 in about 95% of sweeps.
    // 80 sweeps: covered ~ Binomial(80, 0.95), mean 76, sd 1.95; accept >= 70 (3 sd) and
    // reject a badly calibrated interval (e.g. a z-interval on 8 runs covers ~92%, a
    // half-width interval ~66%).
    let model = "name = \"coin\"\nzones = [\"z\"]\n[workload.w]\ntarget = \"s\"\nrate = 200\n\
                 [service.s]\nzones = [\"z\"]\nworkers = 64\nservice_time = { dist = \"constant\", value = \"1ms\" }\n\
                 calls = [{ to = \"x\" }]\n[external.x]\nlatency = { dist = \"constant\", value = \"1ms\" }\nerror_rate = 0.2\n";
    let scenario = "name = \"coin\"\nmodel = \"m.toml\"\nduration = \"2s\"\nseed = 1\n";
    let base = parse_scenario(Path::new("s.toml"), scenario, |_| Ok(model.to_string()))
        .unwrap()
        .0;
    let mut covered = 0;
    let sweeps = 80;
    for sweep in 0..sweeps {
        let records: Vec<_> = (0..8u64)
            .map(|i| {
                let mut s = base.clone();
                s.seed = 1_000 + sweep * 8 + i;
                record("sweep", &s, &study(&s), ("m", "s"), i, 8, Vec::new())
            })
            .collect();
        let summary = summarise(records).unwrap();
        let estimate: Estimate = summary.points[0].workloads["w"].availability.unwrap();
        if estimate.ci95_low <= 0.8 && 0.8 <= estimate.ci95_high {
            covered += 1;
        }
    }
    assert!(
        covered >= 70,
        "95% intervals covered the true value in only {covered} of {sweeps} sweeps"
    );
}

/// fma of the shop's zone outages, short runs: 40 s outages in 2 min.
const FMA_ZONES: &[&str] = &[
    "fma",
    "models/shop.toml",
    "--families",
    "zone",
    "--duration",
    "2m",
    "--warmup",
    "20s",
    "--fault-start",
    "40s",
    "--fault-duration",
    "40s",
];

#[test]
fn fma_ranks_the_outage_of_the_primary_database_zone_above_the_others() {
    let output = blastradius(&[FMA_ZONES, &["--format", "json"]].concat(), "2");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let share = |zone: &str| {
        let label = format!("zone-outage {zone}");
        let point = summary["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["point"][0][1] == label.as_str())
            .unwrap_or_else(|| panic!("{label} not enumerated"));
        point["blast_net_share"]["mean"].as_f64().unwrap()
    };
    // orders-db's primary is in az-a with a 30 s failover: its outage fails every zone's
    // requests for 30 s; az-b and az-c hold only replicas the balancer routes around.
    let (a, b, c) = (share("az-a"), share("az-b"), share("az-c"));
    assert!(
        a > 10.0 * b.max(c).max(0.001),
        "az-a {a}, az-b {b}, az-c {c}"
    );
    let text = blastradius(FMA_ZONES, "2");
    let text = String::from_utf8(text.stdout).unwrap();
    let first_row = text.lines().nth(3).unwrap();
    assert!(
        first_row.contains("zone-outage az-a") && first_row.contains("LEAKED"),
        "{text}"
    );
}

/// fma of the shop's zone and node faults, short runs: 20 s faults in 1 min.
const FMA_ZONES_AND_NODES: &[&str] = &[
    "fma",
    "models/shop.toml",
    "--families",
    "zone,node",
    "--duration",
    "1m",
    "--warmup",
    "10s",
    "--fault-start",
    "20s",
    "--fault-duration",
    "20s",
];

#[test]
fn fma_judges_zonal_shifts_and_single_replica_crashes_and_says_why_others_have_none() {
    let text = blastradius(FMA_ZONES_AND_NODES, "2");
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8(text.stdout).unwrap();
    let row = |label: &str| -> &str {
        text.lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("{label} not in\n{text}"))
    };
    // A zonal shift's boundary is the zone it empties; a crash of one replica, its zone.
    for label in [
        "zonal-shift az-a",
        "zonal-shift az-c",
        "crash api (1 of 6 replicas)",
    ] {
        let row = row(label);
        assert!(row.contains("contained") || row.contains("LEAKED"), "{row}");
        assert!(!row.contains("n/a"), "{row}");
    }
    // Every replica of api: the node fails as a whole, not a zone.
    assert!(row("crash api (all replicas)").contains("n/a: it acts on every replica of the node"));
    assert!(!text.contains("not zonal"), "{text}");

    let json = blastradius(&[FMA_ZONES_AND_NODES, &["--format", "json"]].concat(), "2");
    let summary: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let point = |label: &str| {
        summary["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["point"][0][1] == label)
            .unwrap_or_else(|| panic!("{label} not enumerated"))
            .clone()
    };
    let all = point("crash api (all replicas)");
    assert_eq!(all["contained_rate"], serde_json::Value::Null);
    assert_eq!(all["no_boundary"], "whole_node");
    let shift = point("zonal-shift az-b");
    assert!(shift["contained_rate"].is_f64(), "{shift}");
    assert!(shift.get("no_boundary").is_none(), "{shift}");
}

#[test]
fn sweep_reports_bad_parameters_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_scenario(dir.path());
    let scenario = scenario.to_str().unwrap();
    let bad_path = blastradius(&["sweep", scenario, "--set", "workload.nope.rate=5"], "1");
    assert_eq!(bad_path.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bad_path.stderr).contains("no `nope` under `workload`"));
    let bad_value = blastradius(&["sweep", scenario, "--set", "fault.0.duration=soon"], "1");
    assert_eq!(bad_value.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bad_value.stderr).contains("fault.0.duration=soon"));
    let bad_shard = blastradius(&["sweep", scenario, "--shard", "4/3"], "1");
    assert_eq!(bad_shard.status.code(), Some(2));
}
