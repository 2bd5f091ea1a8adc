//! Every file in `tests/broken` fails to load as invalid input, and the rendered diagnostics
//! name the file, line and column of the first error and say what was wrong.
//!
//! Each broken file starts with comment lines: `# expect: <substring>` (one or more, each must
//! appear in the rendered text), `# at: <line>:<col>` (the first error), and optionally
//! `# errors: <n>` (exactly that many errors, for files with several mistakes).

use std::path::{Path, PathBuf};

use blastradius::model::{load_model, load_scenario, parse_model};

struct Expectations {
    substrings: Vec<String>,
    at: String,
    errors: Option<usize>,
}

fn expectations(text: &str, path: &Path) -> Expectations {
    let values = |prefix: &str| -> Vec<String> {
        text.lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .map(|rest| rest.trim().to_string())
            .collect()
    };
    let substrings = values("# expect: ");
    assert!(
        !substrings.is_empty(),
        "{} has no `# expect:` line",
        path.display()
    );
    let at = values("# at: ").into_iter().next();
    let at = at.unwrap_or_else(|| panic!("{} has no `# at:` line", path.display()));
    let errors = values("# errors: ")
        .first()
        .map(|n| n.parse().expect("a count"));
    Expectations {
        substrings,
        at,
        errors,
    }
}

fn broken_files() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir("tests/broken")
        .expect("tests/broken exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_broken_file_is_reported_at_its_first_error() {
    let mut checked = 0;
    for path in broken_files() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_string();
        let text = std::fs::read_to_string(&path).expect("readable");
        let expected = expectations(&text, &path);
        let result = if name.starts_with("scenario-") {
            load_scenario(&path).map(|_| ())
        } else {
            load_model(&path).map(|_| ())
        };
        let error = result.expect_err(&name);
        assert!(error.is_invalid_input(), "{name}: {error}");
        let rendered = error.to_string();
        let location = format!("tests/broken/{name}:{}", expected.at);
        let first = rendered.find(" --> ").map(|i| &rendered[i..]).unwrap_or("");
        assert!(
            first.starts_with(&format!(" --> {location}\n")),
            "{name}: the first error should be at {location}:\n{rendered}"
        );
        for substring in &expected.substrings {
            assert!(
                rendered.contains(substring),
                "{name}: no `{substring}` in\n{rendered}"
            );
        }
        if let Some(count) = expected.errors {
            let diagnostics = error.diagnostics().expect("invalid input has diagnostics");
            assert_eq!(diagnostics.error_count(), count, "{name}:\n{rendered}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} broken files");
}

#[test]
fn diagnostics_read_like_rustc() {
    let error = load_model(Path::new("tests/broken/unknown-node.toml")).expect_err("broken");
    let rendered = error.to_string();
    let expected = [
        "error[E0008]: unknown node `sesions`",
        "  --> tests/broken/unknown-node.toml:14:10",
        "14 |   { to = \"sesions\", timeout = \"50ms\" },",
        "   |          ^^^^^^^^^ not a node of this model",
        "   = help: did you mean `sessions`?",
    ];
    for line in expected {
        assert!(rendered.contains(line), "no `{line}` in\n{rendered}");
    }
}

#[test]
fn a_missing_file_is_an_io_error() {
    let error = load_model(Path::new("tests/broken/no-such-file.toml")).expect_err("missing");
    assert!(!error.is_invalid_input());
    assert!(error.to_string().contains("no-such-file.toml"));
    let error = load_scenario(Path::new("scenarios/no-such-file.toml")).expect_err("missing");
    assert!(!error.is_invalid_input());
}

/// Damages the shop model in every position (deleting a character, inserting one of a few
/// troublesome ones) and checks that loading never panics and always explains a failure.
#[test]
fn no_damage_makes_the_loader_panic() {
    let text = std::fs::read_to_string("models/shop.toml").expect("bundled model");
    let path = Path::new("models/shop.toml");
    let boundaries: Vec<usize> = (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let mut variants = 0;
    for (k, &i) in boundaries.iter().enumerate() {
        let next = boundaries.get(k + 1).copied().unwrap_or(text.len());
        let mut damaged = vec![format!("{}{}", &text[..i], &text[next..])];
        for insert in ["\"", "[", "{", "=", "\n", "-", "é", "0"] {
            damaged.push(format!("{}{insert}{}", &text[..i], &text[i..]));
        }
        for text in damaged {
            if let Err(diagnostics) = parse_model(path, &text) {
                assert!(diagnostics.has_errors());
                assert!(diagnostics.render(false).contains("models/shop.toml:"));
            }
            variants += 1;
        }
    }
    assert!(variants > 10_000);
}
