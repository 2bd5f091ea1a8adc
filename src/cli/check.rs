//! `blastradius check PATH...`: the CI gate. Finds every scenario under the paths, simulates
//! them in parallel, prints a concise summary (or GitHub annotations, or Markdown), writes
//! JUnit XML and the GitHub step summary when asked, and compares with a baseline.
//!
//! Exit codes: 0 every scenario passes the gate, 1 one fails it (a hypothesis failed, or a
//! result is worse than the baseline), 2 no scenario found, 3 invalid input (every diagnostic
//! printed to stderr first), 4 I/O. `--update-baseline` rewrites the baseline and exits 0.

use std::io::{IsTerminal, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use super::{Exit, write_stdout};
use crate::analysis::{Baseline, Findings, Headline, Tolerance, compare, study};
use crate::model::{Scenario, load_scenario};
use crate::report::{
    BaselineStatus, CheckEntry, CheckReport, JunitTiming, annotations, check_markdown, check_text,
    diagnostic_annotations, step_summary, to_junit,
};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Scenario files, or folders searched recursively for `*.toml` scenarios (model files,
    /// without a `model` key, are skipped there).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Summary format on stdout: `github` prints workflow-command annotations and, when
    /// GITHUB_STEP_SUMMARY is set, appends a Markdown summary to that file.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Write a JUnit XML report to this file: a suite per scenario, a case per hypothesis.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Put timestamps and durations in the JUnit report (it is then no longer byte-stable).
    #[arg(long, requires = "junit")]
    pub junit_timestamps: bool,
    /// Compare with this baseline (JSON); fail when a result is worse beyond the tolerance.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Rewrite the baseline with these results, and exit 0.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// With a baseline: a scenario missing from it fails the gate.
    #[arg(long, requires = "baseline")]
    pub strict: bool,
    /// Absolute tolerance on shares (net share hurt, availability): 0.01 is one point.
    #[arg(long, value_name = "SHARE", default_value = "0.01", value_parser = parse_share)]
    pub tolerance: f64,
    /// Relative tolerance on durations (p99, recovery time): `10%` or `0.1`.
    #[arg(long, value_name = "PERCENT", default_value = "10%", value_parser = parse_relative)]
    pub latency_tolerance: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Markdown,
    Github,
}

fn parse_share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("expected a share between 0 and 1, found `{text}`")),
    }
}

fn parse_relative(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|v| v / 100.0),
        None => text.parse::<f64>(),
    };
    match value {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!(
            "expected a percentage like `10%` or `0.1`, found `{text}`"
        )),
    }
}

pub fn check(args: &CheckArgs) -> Exit {
    let files = match find_scenarios(&args.paths) {
        Ok(files) => files,
        Err(exit) => return exit,
    };
    if files.is_empty() {
        eprintln!("error: no scenario files found under the paths given");
        return Exit::Usage;
    }
    let scenarios = match load_all(&files, args.format) {
        Ok(scenarios) => scenarios,
        Err(exit) => return exit,
    };
    let baseline = match &args.baseline {
        Some(path) => match read_baseline(path, args.update_baseline) {
            Ok(baseline) => Some((path.as_path(), baseline)),
            Err(exit) => return exit,
        },
        None => None,
    };
    let started = SystemTime::now();
    let clock = Instant::now();
    let results = simulate(&scenarios);
    let total = clock.elapsed();
    let tolerance = Tolerance {
        share: args.tolerance,
        duration: args.latency_tolerance,
    };
    let keys: Vec<Option<String>> = scenarios
        .iter()
        .map(|s| {
            baseline
                .as_ref()
                .map(|(path, _)| baseline_key(&s.path, path))
        })
        .collect();
    let entries = scenarios
        .iter()
        .zip(&results)
        .zip(&keys)
        .map(|((scenario, result), key)| CheckEntry {
            document: result.document.clone(),
            topology: &scenario.topology,
            baseline: status(
                baseline.as_ref().map(|(_, b)| b),
                key.as_deref(),
                &result.headline,
                tolerance,
            ),
        })
        .collect();
    let report = CheckReport {
        entries,
        baseline_file: args.baseline.as_ref().map(|p| p.display().to_string()),
        strict: args.strict,
    };
    let mut exit = if report.failed() && !args.update_baseline {
        Exit::HypothesisFailed
    } else {
        Exit::Success
    };
    let timing = args.junit_timestamps.then(|| JunitTiming {
        started: chrono::DateTime::<chrono::Utc>::from(started).fixed_offset(),
        total,
        scenarios: results.iter().map(|r| r.elapsed).collect(),
    });
    let outputs = [
        write_outputs(args, &report, timing.as_ref()),
        match baseline {
            Some((path, old)) if args.update_baseline => write_baseline(path, old, &keys, &results),
            _ => Ok(()),
        },
    ];
    if outputs.iter().any(Result::is_err) {
        exit = Exit::Internal;
    }
    exit
}

/// A scenario's simulated results.
struct Checked {
    document: Findings,
    headline: Headline,
    elapsed: Duration,
}

/// Studies every scenario in parallel, collected in input order; a progress bar on stderr
/// when it is a terminal.
fn simulate(scenarios: &[Scenario]) -> Vec<Checked> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(scenarios.len() as u64);
        let style = ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} scenarios, ETA {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        ProgressBar::hidden()
    };
    let results = scenarios
        .par_iter()
        .map(|scenario| {
            let clock = Instant::now();
            let study = study(scenario);
            let checked = Checked {
                document: Findings::new(scenario, &study),
                headline: Headline::of(scenario, &study),
                elapsed: clock.elapsed(),
            };
            bar.inc(1);
            checked
        })
        .collect();
    bar.finish_and_clear();
    results
}

fn status(
    baseline: Option<&Baseline>,
    key: Option<&str>,
    headline: &Headline,
    tolerance: Tolerance,
) -> BaselineStatus {
    let (Some(baseline), Some(key)) = (baseline, key) else {
        return BaselineStatus::NotUsed;
    };
    match baseline.scenarios.get(key) {
        Some(old) => BaselineStatus::Compared {
            key: key.to_string(),
            comparison: compare(old, headline, tolerance),
        },
        None => BaselineStatus::Missing {
            key: key.to_string(),
        },
    }
}

/// Stdout in the chosen format, the JUnit file, the step summary. Every failure is reported.
fn write_outputs(
    args: &CheckArgs,
    report: &CheckReport<'_>,
    timing: Option<&JunitTiming>,
) -> Result<(), ()> {
    let mut ok = true;
    let stdout = match args.format {
        CheckFormat::Text => check_text(report),
        CheckFormat::Markdown => check_markdown(report),
        // The human text is fenced so nothing in it runs as a workflow command; the
        // annotations after it are commands on purpose.
        CheckFormat::Github => format!(
            "{}{}",
            crate::report::escape::github_fence(&check_text(report)),
            annotations(report)
        ),
    };
    if let Err(error) = write_stdout(&stdout) {
        eprintln!("error: writing the summary: {error}");
        ok = false;
    }
    if let Some(path) = &args.junit {
        ok &= write_file(path, &to_junit(report, timing), "the JUnit report");
    }
    if args.format == CheckFormat::Github
        && let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
    {
        ok &= append_file(Path::new(&path), &step_summary(report));
    }
    if ok { Ok(()) } else { Err(()) }
}

fn write_file(path: &Path, text: &str, what: &str) -> bool {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Err(error) = std::fs::create_dir_all(parent) {
            eprintln!("error: cannot create {}: {error}", parent.display());
            return false;
        }
    }
    match std::fs::write(path, text) {
        Ok(()) => true,
        Err(error) => {
            eprintln!("error: cannot write {what} to {}: {error}", path.display());
            false
        }
    }
}

fn append_file(path: &Path, text: &str) -> bool {
    let result = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()));
    match result {
        Ok(()) => true,
        Err(error) => {
            eprintln!(
                "error: cannot append the step summary to {}: {error}",
                path.display()
            );
            false
        }
    }
}

/// Every scenario under the paths: files as given, folders walked recursively in sorted order
/// (hidden entries and symbolic links to folders skipped). Each file at most once.
fn find_scenarios(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Exit> {
    let mut found = Vec::new();
    let mut failed = false;
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => failed |= walk(path, &mut found).is_err(),
            Ok(_) => found.push(path.clone()),
            Err(error) => {
                eprintln!("error: cannot read {}: {error}", path.display());
                failed = true;
            }
        }
    }
    if failed {
        return Err(Exit::Internal);
    }
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|path| seen.insert(path.canonicalize().unwrap_or_else(|_| path.clone())));
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), ()> {
    let read = std::fs::read_dir(dir).and_then(|entries| entries.collect::<Result<Vec<_>, _>>());
    let mut entries = match read {
        Ok(entries) => entries,
        Err(error) => {
            eprintln!("error: cannot read the folder {}: {error}", dir.display());
            return Err(());
        }
    };
    entries.sort_by_key(|e| e.file_name());
    let mut result = Ok(());
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            result = result.and(walk(&path, found));
        } else if path.extension().is_some_and(|e| e == "toml")
            && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
            && is_scenario(&path)
        {
            found.push(path);
        }
    }
    result
}

/// A TOML file is a scenario unless it parses and has no `model` key (then it is a model, or
/// some other TOML file). A file that does not parse is kept, so its errors are reported.
fn is_scenario(path: &Path) -> bool {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str::<toml::Table>(&text).map_or(true, |t| t.contains_key("model")),
        Err(_) => true,
    }
}

/// Loads every scenario, printing the diagnostics of all the invalid ones (and annotations
/// for them in the `github` format) before giving up.
fn load_all(files: &[PathBuf], format: CheckFormat) -> Result<Vec<Scenario>, Exit> {
    let mut scenarios = Vec::new();
    let mut exit = None;
    let mut annotations = String::new();
    for path in files {
        match load_scenario(path) {
            Ok(scenario) => scenarios.push(scenario),
            Err(error) => {
                let message = format!("{}\n", error.to_string().trim_end());
                // GitHub reads workflow commands on stderr too: the diagnostics quote the
                // user's file, so in that format they are fenced.
                if format == CheckFormat::Github {
                    eprint!("{}", crate::report::escape::github_fence(&message));
                } else {
                    eprint!("{message}");
                }
                if let Some(diagnostics) = error.diagnostics() {
                    annotations.push_str(&diagnostic_annotations(diagnostics));
                }
                exit = Some(Exit::with_load(exit, Exit::of_load(&error)));
            }
        }
    }
    if format == CheckFormat::Github && !annotations.is_empty() {
        let _ = write_stdout(&annotations);
    }
    match exit {
        Some(exit) => Err(exit),
        None => Ok(scenarios),
    }
}

/// Reads the baseline; a missing file is an empty baseline only when it is about to be written.
fn read_baseline(path: &Path, updating: bool) -> Result<Baseline, Exit> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if updating && error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Baseline::default());
        }
        Err(error) => {
            eprintln!(
                "error: cannot read the baseline {}: {error}",
                path.display()
            );
            return Err(Exit::Internal);
        }
    };
    Baseline::from_json(&text).map_err(|error| {
        eprintln!(
            "error: the baseline {} is not a blastradius baseline: {error}",
            path.display()
        );
        Exit::InvalidInput
    })
}

/// Writes the new baseline: the scenarios checked replace their entries; entries of scenarios
/// not checked are kept while their file exists, dropped when it is gone.
fn write_baseline(
    path: &Path,
    old: Baseline,
    keys: &[Option<String>],
    results: &[Checked],
) -> Result<(), ()> {
    let dir = baseline_dir(path);
    let mut new = Baseline::default();
    let mut dropped = 0;
    for (key, headline) in old.scenarios {
        if dir.join(&key).is_file() {
            new.scenarios.insert(key, headline);
        } else {
            dropped += 1;
        }
    }
    for (key, result) in keys.iter().zip(results) {
        let key = key.clone().expect("a key per scenario with a baseline");
        new.scenarios.insert(key, result.headline.clone());
    }
    if !write_file(path, &new.to_json(), "the baseline") {
        return Err(());
    }
    let mut message = format!(
        "wrote the baseline {}: {} scenario{}",
        path.display(),
        new.scenarios.len(),
        if new.scenarios.len() == 1 { "" } else { "s" }
    );
    if dropped > 0 {
        message.push_str(&format!(", {dropped} removed (their files are gone)"));
    }
    eprintln!("{message}");
    Ok(())
}

fn baseline_dir(baseline: &Path) -> PathBuf {
    match baseline.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The baseline's key for a scenario: its path relative to the baseline file's folder, with
/// `/` separators, so the key does not depend on the folder `check` runs from.
fn baseline_key(scenario: &Path, baseline: &Path) -> String {
    let dir = baseline_dir(baseline);
    let (Ok(file), Ok(dir)) = (scenario.canonicalize(), dir.canonicalize()) else {
        return slashes(scenario.components());
    };
    relative(&file, &dir)
}

/// `file` relative to `dir`, both absolute: `..` for each of `dir`'s components past the
/// common prefix, then the rest of `file`.
fn relative(file: &Path, dir: &Path) -> String {
    let f: Vec<Component<'_>> = file.components().collect();
    let d: Vec<Component<'_>> = dir.components().collect();
    let common = f.iter().zip(&d).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); d.len() - common];
    parts.extend(
        f[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

fn slashes<'a>(components: impl Iterator<Item = Component<'a>>) -> String {
    components
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_relative_to_the_baseline_folder() {
        let key = |f: &str, d: &str| relative(Path::new(f), Path::new(d));
        assert_eq!(key("/r/scenarios/a.toml", "/r/scenarios"), "a.toml");
        assert_eq!(key("/r/scenarios/x/a.toml", "/r"), "scenarios/x/a.toml");
        assert_eq!(key("/r/scenarios/a.toml", "/r/ci"), "../scenarios/a.toml");
    }

    #[test]
    fn tolerances_parse_as_documented() {
        assert_eq!(parse_relative("10%"), Ok(0.1));
        assert_eq!(parse_relative("0.25"), Ok(0.25));
        assert!(parse_relative("-5%").is_err());
        assert_eq!(parse_share("0.01"), Ok(0.01));
        assert!(parse_share("2").is_err());
    }
}
