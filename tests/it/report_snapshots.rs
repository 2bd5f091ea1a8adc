//! Snapshots of every report format for one fixed scenario (tests/fixtures/short-outage.toml),
//! so any change to what a report says shows up in review. `cargo insta review` to accept.

use std::process::Command;

const SCENARIO: &str = "tests/fixtures/short-outage.toml";

fn run(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_blastradius"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    // The fixture's availability hypothesis fails during the outage: exit 1 by design.
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn text_report() {
    insta::assert_snapshot!("short-outage-text", run(&["run", SCENARIO]));
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(
        "short-outage-markdown",
        run(&["run", SCENARIO, "--format", "markdown"])
    );
}

#[test]
fn html_report() {
    insta::assert_snapshot!(
        "short-outage-html",
        run(&["run", SCENARIO, "--format", "html"])
    );
}

#[test]
fn junit_report() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("report.xml");
    run(&["check", SCENARIO, "--junit", junit.to_str().unwrap()]);
    insta::assert_snapshot!(
        "short-outage-junit",
        std::fs::read_to_string(junit).unwrap()
    );
}
