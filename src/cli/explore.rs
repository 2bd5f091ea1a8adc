//! `blastradius explore MODEL`: seeded random search over multi-fault schedules for the
//! failures no single fault explains, each shrunk to a minimal scenario written to `-o DIR`.
//!
//! The library does the search (`analysis::explore`) and the rendering (`report::explore`);
//! this file parses the flags, bounds the search by `--runs` or the wall clock (`--time`),
//! draws the progress bar, and writes and re-checks the scenario files.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::fma::Family;
use super::{Exit, write_stdout};
use crate::analysis::explore::{ExploreOptions, Explorer, Judge, Shrunk, Trial, coverage};
use crate::analysis::fma::FmaOptions;
use crate::model::{Scenario, Topology, load_model, load_scenario, parse_duration};
use crate::report::explore::{
    ExploreDocument, FindingReport, SearchBound, explore_to_json, explore_to_junit,
    explore_to_markdown, explore_to_text,
};
use crate::report::explore_toml::{ScenarioRun, scenario_toml};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExploreFormat {
    Text,
    Json,
    Markdown,
    Junit,
}

#[derive(clap::Args, Debug)]
pub struct ExploreArgs {
    /// The model (TOML).
    pub model: PathBuf,
    /// Hold schedules to this scenario's hypotheses (and its run length, limits and `slow`)
    /// instead of the default budget. Its model must be MODEL.
    #[arg(long, value_name = "SCENARIO")]
    pub hypothesis: Option<PathBuf>,
    /// Default budget: availability may fall at most this far below the control's (0.01 is
    /// one point), during and after the faults.
    #[arg(long, default_value_t = 0.01, conflicts_with = "hypothesis")]
    pub budget_hurt: f64,
    /// Default budget: p99 may rise at most this many percent above the control's.
    #[arg(long, default_value_t = 100.0, conflicts_with = "hypothesis")]
    pub budget_p99: f64,
    /// Faults per schedule: `2..3` or `2`.
    #[arg(long, default_value = "2..3")]
    pub faults: String,
    /// Schedules to try (the reproducible bound). Default 100 unless `--time` is given.
    #[arg(long, conflicts_with = "time")]
    pub runs: Option<u64>,
    /// Try schedules for this long (wall time): what is covered depends on the machine.
    #[arg(long)]
    pub time: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seeds a finding must fail on, from `--seed` (K).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Fault families to draw from (default: all of fma's).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub families: Vec<Family>,
    /// Simulated length of each run (default 5m, or the `--hypothesis` scenario's).
    #[arg(long)]
    pub duration: Option<String>,
    /// Warm-up of each run (default 1m, or the scenario's).
    #[arg(long)]
    pub warmup: Option<String>,
    /// Shortest drawn fault.
    #[arg(long, default_value = "5s")]
    pub min_fault: String,
    /// Longest drawn fault.
    #[arg(long, default_value = "2m")]
    pub max_fault: String,
    /// Largest latency added on an edge (drawn between a tenth of it and all of it).
    #[arg(long, default_value = "1s")]
    pub latency: String,
    /// Largest traffic-spike factor.
    #[arg(long, default_value_t = 3.0)]
    pub spike: f64,
    /// Findings to shrink, the most severe first.
    #[arg(long, default_value_t = 5)]
    pub max_findings: usize,
    /// Studies one shrink may spend.
    #[arg(long, default_value_t = 400)]
    pub max_shrink_studies: u64,
    /// Write each minimal schedule as a scenario file into DIR (created if missing).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ExploreFormat::Text)]
    pub format: ExploreFormat,
}

/// How the search is bounded.
#[derive(Clone, Copy, Debug)]
enum Bound {
    Runs(u64),
    Time(Duration),
}

pub fn explore(args: &ExploreArgs) -> Exit {
    let topology = match load_model(&args.model) {
        Ok(topology) => topology,
        Err(error) => return super::load_failed(&error),
    };
    let scenario = match args.hypothesis.as_deref().map(load_scenario).transpose() {
        Ok(scenario) => scenario,
        Err(error) => return super::load_failed(&error),
    };
    let (options, bound, judge) = match settings(args, &topology, scenario.as_ref()) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("error: {message}");
            return Exit::Usage;
        }
    };
    let explorer = Explorer::new(&args.model, &topology, &options, judge);
    let bar = Bar::new(bound);
    let trials = search(&explorer, bound, &bar);
    let found = explorer.findings(&trials);
    let shrinking: Vec<&Trial> = found.iter().copied().take(options.max_findings).collect();
    bar.shrinking(shrinking.len());
    let shrunk = explorer.shrink_all(&shrinking, &|| bar.shrunk());
    bar.finish();
    let mut doc = ExploreDocument::new(
        &explorer,
        args.model.display().to_string(),
        replay_command(args, &options, trials.len() as u64),
        search_bound(bound),
        coverage(&explorer.entries, &trials),
    );
    doc.not_shrunk = (found.len() - shrinking.len()) as u64;
    let kept = rank(&topology, &shrunk, &mut doc);
    if let Err(message) = write_findings(args, &explorer, &kept, &mut doc) {
        eprintln!("error: {message}");
        return Exit::Internal;
    }
    doc.studies = explorer.studies();
    let text = match args.format {
        ExploreFormat::Text => explore_to_text(&doc),
        ExploreFormat::Json => explore_to_json(&doc),
        ExploreFormat::Markdown => explore_to_markdown(&doc),
        ExploreFormat::Junit => explore_to_junit(&doc),
    };
    if let Err(error) = write_stdout(&text) {
        eprintln!("error: writing the report: {error}");
        return Exit::Internal;
    }
    if doc.findings.is_empty() {
        Exit::Success
    } else {
        Exit::HypothesisFailed
    }
}

/// The search: every run at once for `--runs`, batches until the time is up for `--time`.
fn search(explorer: &Explorer<'_>, bound: Bound, bar: &Bar) -> Vec<Trial> {
    let tick = |t: &Trial| bar.ran(t);
    match bound {
        Bound::Runs(n) => explorer.search(0..n, &tick),
        Bound::Time(limit) => {
            // A fixed batch size, so a search stopped at N schedules is `--runs N`'s.
            const BATCH: u64 = 16;
            let started = Instant::now();
            let mut trials = Vec::new();
            while started.elapsed() < limit {
                let from = trials.len() as u64;
                trials.extend(explorer.search(from..from + BATCH, &tick));
            }
            trials
        }
    }
}

/// Shrunk findings that reproduced, ranked by the harm the found schedule did, each minimal
/// schedule once.
fn rank<'s>(
    topology: &Topology,
    shrunk: &'s [Shrunk],
    doc: &mut ExploreDocument,
) -> Vec<&'s Shrunk> {
    let mut kept: Vec<&Shrunk> = Vec::new();
    for s in shrunk {
        if !s.reproducible {
            doc.not_reproducible += 1;
        } else if kept
            .iter()
            .any(|k| k.minimal.signature(topology) == s.minimal.signature(topology))
        {
            doc.duplicates += 1;
        } else {
            kept.push(s);
        }
    }
    doc.findings = kept
        .iter()
        .enumerate()
        .map(|(i, s)| FindingReport::new(topology, i + 1, s))
        .collect();
    kept
}

/// Renders each finding's scenario, checks that it loads and still fails through the loader,
/// and writes it into `-o DIR`.
fn write_findings(
    args: &ExploreArgs,
    explorer: &Explorer<'_>,
    kept: &[&Shrunk],
    doc: &mut ExploreDocument,
) -> Result<(), String> {
    let dir = args.out.clone();
    if let Some(dir) = &dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let model = match &dir {
        Some(dir) => relative_to(dir, &args.model)?,
        None => args.model.display().to_string(),
    };
    let folder = dir.clone().unwrap_or_else(|| PathBuf::from("."));
    for (i, shrunk) in kept.iter().enumerate() {
        let name = format!("explore {}: {}", i + 1, doc.findings[i].faults.join(" + "));
        let run = ScenarioRun {
            name: &name,
            model: &model,
            duration_ns: explorer.options.fma.duration_ns,
            warmup_ns: explorer.options.fma.warmup_ns,
            seed: explorer.options.seed,
        };
        let comments = doc.findings[i].comments(doc);
        let text = scenario_toml(
            explorer.topology,
            &run,
            &comments,
            &shrunk.minimal.faults,
            &explorer.judge.hypotheses,
        );
        let path = folder.join(file_name(i + 1, &shrunk.minimal, explorer.topology));
        reproduces(&path, &text)?;
        if dir.is_some() {
            std::fs::write(&path, &text).map_err(|e| format!("writing {}: {e}", path.display()))?;
            doc.findings[i].file = Some(path.display().to_string());
        }
        doc.findings[i].scenario = text;
    }
    Ok(())
}

/// The written scenario must load and fail under `run` as it did in the search: a finding
/// that does not reproduce from its file is a bug here, not a result.
fn reproduces(path: &Path, text: &str) -> Result<(), String> {
    let parsed = crate::model::parse_scenario(path, text, |m| std::fs::read_to_string(m));
    let scenario = parsed.map_err(|d| {
        format!(
            "internal: the scenario written for {} does not load:\n{}",
            path.display(),
            d.render(false)
        )
    })?;
    let study = crate::analysis::study(&scenario.0);
    if study.analysis.verdict != crate::analysis::Verdict::Failed {
        return Err(format!(
            "internal: the scenario written for {} passes when loaded back",
            path.display()
        ));
    }
    Ok(())
}

/// `finding-1-latency-api-sessions-crash-orders-db.toml`.
fn file_name(
    rank: usize,
    schedule: &crate::analysis::explore::Schedule,
    topology: &Topology,
) -> String {
    let words: Vec<String> = schedule
        .faults
        .iter()
        .map(|f| {
            let kind = f.kind.as_str();
            let target = crate::analysis::explore::describe(topology, f);
            let target = target.split(' ').nth(1).unwrap_or_default().to_string();
            format!("{kind}-{target}")
        })
        .collect();
    let mut slug = String::new();
    for c in words.join("-").chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && slug.ends_with('-')) {
            slug.push(c);
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(80).collect();
    format!("finding-{rank}-{slug}.toml")
}

/// `model` as a path relative to `dir`, for the scenario's `model` key.
fn relative_to(dir: &Path, model: &Path) -> Result<String, String> {
    let canonical =
        |p: &Path| std::fs::canonicalize(p).map_err(|e| format!("resolving {}: {e}", p.display()));
    let (dir, model) = (canonical(dir)?, canonical(model)?);
    let common = dir
        .components()
        .zip(model.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in dir.components().skip(common) {
        out.push("..");
    }
    for part in model.components().skip(common) {
        out.push(part);
    }
    Ok(out.to_string_lossy().replace('\\', "/"))
}

/// Options, bound and judge from the flags (and the `--hypothesis` scenario).
fn settings(
    args: &ExploreArgs,
    topology: &Topology,
    scenario: Option<&Scenario>,
) -> Result<(ExploreOptions, Bound, Judge), String> {
    let duration = |flag: &str, text: &str| {
        parse_duration(text).map_err(|e| format!("--{flag} `{text}`: {e}"))
    };
    let run_length = |flag: &str, given: &Option<String>, of_scenario: Option<u64>, default| match (
        given,
        of_scenario,
    ) {
        (Some(text), _) => duration(flag, text),
        (None, Some(ns)) => Ok(ns),
        (None, None) => duration(flag, default),
    };
    let judge = match scenario {
        Some(s) => judge_of(args, s)?,
        None => {
            if !(0.0..=1.0).contains(&args.budget_hurt) || !(args.budget_p99 >= 0.0) {
                return Err("--budget-hurt must be in [0, 1] and --budget-p99 at least 0".into());
            }
            Judge::budget(topology, args.budget_hurt, args.budget_p99 / 100.0)
        }
    };
    let (min_faults, max_faults) = fault_counts(&args.faults)?;
    let fma = FmaOptions {
        duration_ns: run_length(
            "duration",
            &args.duration,
            scenario.map(|s| s.duration_ns),
            "5m",
        )?,
        warmup_ns: run_length("warmup", &args.warmup, scenario.map(|s| s.warmup_ns), "1m")?,
        added_latency_ns: duration("latency", &args.latency)?,
        spike_factor: args.spike,
        // Explore times its faults itself: the catalogue's start and duration stay zero.
        ..super::fma::with_families(&args.families)
    };
    let options = ExploreOptions {
        min_fault_ns: duration("min-fault", &args.min_fault)?,
        max_fault_ns: duration("max-fault", &args.max_fault)?,
        fma,
        min_faults,
        max_faults,
        seed: args.seed,
        seeds: args.seeds,
        amplification: 1.5,
        max_findings: args.max_findings,
        max_shrink_studies: args.max_shrink_studies,
    };
    check(&options)?;
    let bound = match (&args.time, args.runs) {
        (Some(text), _) => Bound::Time(Duration::from_nanos(duration("time", text)?)),
        (None, runs) => Bound::Runs(runs.unwrap_or(100)),
    };
    Ok((options, bound, judge))
}

fn check(options: &ExploreOptions) -> Result<(), String> {
    let fma = &options.fma;
    if fma.warmup_ns >= fma.duration_ns {
        return Err("the warm-up must be shorter than --duration".into());
    }
    if options.min_fault_ns < 1_000_000_000 || options.min_fault_ns > options.max_fault_ns {
        return Err("--min-fault must be at least 1s and at most --max-fault".into());
    }
    if options.max_fault_ns > fma.duration_ns - fma.warmup_ns {
        return Err("--max-fault must fit between the warm-up and the end of --duration".into());
    }
    if !(fma.spike_factor.is_finite() && fma.spike_factor > 1.0) || options.seeds == 0 {
        return Err("--spike must be above 1 and --seeds at least 1".into());
    }
    if fma.added_latency_ns < 1_000_000 {
        return Err("--latency must be at least 1ms".into());
    }
    Ok(())
}

/// `2..3` or `2`: between 2 and 5 faults per schedule.
fn fault_counts(text: &str) -> Result<(usize, usize), String> {
    let number = |t: &str| {
        t.trim()
            .parse::<usize>()
            .map_err(|_| format!("--faults `{text}`: expected N or N..M (e.g. 2..3)"))
    };
    let (low, high) = match text.split_once("..") {
        Some((a, b)) => (number(a)?, number(b.trim_start_matches('='))?),
        None => (number(text)?, number(text)?),
    };
    if low < 2 || high < low || high > 5 {
        return Err(format!(
            "--faults `{text}`: between 2 and 5 faults, the smaller first (single faults are `fma`'s)"
        ));
    }
    Ok((low, high))
}

/// The judge of a `--hypothesis` scenario: its hypotheses, limits and slow threshold.
fn judge_of(args: &ExploreArgs, scenario: &Scenario) -> Result<Judge, String> {
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(&scenario.model_path, &args.model) {
        return Err(format!(
            "--hypothesis {}: its model is {}, not {}",
            scenario.path.display(),
            scenario.model_path.display(),
            args.model.display()
        ));
    }
    if scenario.hypotheses.is_empty() {
        return Err(format!(
            "--hypothesis {}: the scenario has no [[hypothesis]] to hold schedules to",
            scenario.path.display()
        ));
    }
    Ok(Judge {
        hypotheses: scenario.hypotheses.clone(),
        limits: scenario.limits,
        slow_threshold_ns: scenario.slow_threshold_ns,
    })
}

/// The command that repeats this search exactly (under `--time`, as `--runs` of what ran).
fn replay_command(args: &ExploreArgs, options: &ExploreOptions, runs: u64) -> String {
    let mut out = format!(
        "blastradius explore {} --runs {runs} --seed {} --seeds {} --faults {}..{}",
        args.model.display(),
        options.seed,
        options.seeds,
        options.min_faults,
        options.max_faults
    );
    if let Some(h) = &args.hypothesis {
        out.push_str(&format!(" --hypothesis {}", h.display()));
    } else if args.budget_hurt != 0.01 || args.budget_p99 != 100.0 {
        out.push_str(&format!(
            " --budget-hurt {} --budget-p99 {}",
            args.budget_hurt, args.budget_p99
        ));
    }
    if !args.families.is_empty() {
        let names: Vec<String> = args.families.iter().map(|f| f.name()).collect();
        out.push_str(&format!(" --families {}", names.join(",")));
    }
    let flags = [("duration", &args.duration), ("warmup", &args.warmup)];
    for (flag, value) in flags {
        if let Some(v) = value {
            out.push_str(&format!(" --{flag} {v}"));
        }
    }
    for (flag, value, default) in [
        ("min-fault", &args.min_fault, "5s"),
        ("max-fault", &args.max_fault, "2m"),
        ("latency", &args.latency, "1s"),
    ] {
        if value != default {
            out.push_str(&format!(" --{flag} {value}"));
        }
    }
    if args.spike != 3.0 {
        out.push_str(&format!(" --spike {}", args.spike));
    }
    out
}

fn search_bound(bound: Bound) -> SearchBound {
    match bound {
        Bound::Runs(n) => SearchBound {
            mode: "runs",
            limit: n,
            reproducible: true,
        },
        Bound::Time(t) => SearchBound {
            mode: "time",
            limit: t.as_nanos() as u64,
            reproducible: false,
        },
    }
}

/// The progress bar on stderr, only on a terminal: runs done, failures found, shrinking.
struct Bar {
    bar: ProgressBar,
    failures: std::sync::atomic::AtomicU64,
}

impl Bar {
    fn new(bound: Bound) -> Bar {
        let bar = if !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let (bar, template) = match bound {
                Bound::Runs(n) => (
                    ProgressBar::new(n),
                    "{bar:40} {pos}/{len} runs  {msg}  eta {eta}",
                ),
                Bound::Time(_) => (
                    ProgressBar::new_spinner(),
                    "{spinner} {pos} runs  {msg}  {elapsed}",
                ),
            };
            let style =
                ProgressStyle::with_template(template).expect("a constant template is valid");
            bar.set_style(style);
            bar
        };
        Bar {
            bar,
            failures: Default::default(),
        }
    }

    fn ran(&self, trial: &Trial) {
        use std::sync::atomic::Ordering;
        if !trial.outcome.pass {
            let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
            self.bar.set_message(format!("{n} failures"));
        }
        self.bar.inc(1);
    }

    fn shrinking(&self, findings: usize) {
        if self.bar.is_hidden() {
            return;
        }
        let template = "{bar:40} {pos}/{len} findings shrunk  {msg}  {elapsed}";
        let style = ProgressStyle::with_template(template).expect("a constant template is valid");
        self.bar.set_style(style);
        self.bar.set_length(findings as u64);
        self.bar.set_position(0);
        self.bar
            .set_message("drop, align, shorten, lower, merge zones");
    }

    fn shrunk(&self) {
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
