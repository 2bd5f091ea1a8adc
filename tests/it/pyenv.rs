//! The Python virtual environment of `scripts/python-env.sh`, for the tests that run the real
//! clients (Chaos Toolkit, botocore's FIS model, the OpenTelemetry SDK).
//!
//! Without the environment a test skips with a message saying how to make it — except under
//! `CI=true`, where `.ci/run` has made it, so a missing one is a failure, never a silent pass.

use std::path::PathBuf;
use std::process::Command;

/// The environment's root: `$BLASTRADIUS_PYENV`, or `.venv` at the repository's root.
pub fn root() -> PathBuf {
    match std::env::var_os("BLASTRADIUS_PYENV") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"),
    }
}

/// The path of a program installed in the environment (`python`, `chaos`, ...), or `None`
/// (after saying so on stderr) when the environment is absent and this is not CI.
pub fn program(name: &str, test: &str) -> Option<PathBuf> {
    let path = root().join("bin").join(name);
    if path.exists() {
        return Some(path);
    }
    let message = format!(
        "{test}: {} not found; run scripts/python-env.sh to install the real clients",
        path.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{message} (CI=true: required)");
    eprintln!("skipped {message}");
    None
}

/// A `Command` for the environment's `python`, or `None` as for [`program`].
pub fn python(test: &str) -> Option<Command> {
    program("python", test).map(Command::new)
}

#[test]
fn the_environment_holds_every_pinned_client() {
    let Some(mut python) = python("the_environment_holds_every_pinned_client") else {
        return;
    };
    let output = python
        .args(["-c", "import chaoslib, chaosk8s, chaosaws, botocore, opentelemetry.sdk.trace"])
        .output()
        .expect("run the environment's python");
    assert!(
        output.status.success(),
        "the environment lacks a client: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
