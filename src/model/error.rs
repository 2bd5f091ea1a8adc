//! The error of loading a file: it could not be read, or its contents are invalid.

use std::path::{Path, PathBuf};

use super::codes::Code;
use super::diagnostic::{Diagnostic, Diagnostics};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file named on the command line could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file (or a model it names) has mistakes; displays as the rendered diagnostics.
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl LoadError {
    /// Whether the input is at fault (exit code 3) rather than the file system (exit code 4).
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, LoadError::Invalid(_))
    }

    /// The diagnostics, for an invalid input.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            LoadError::Invalid(diagnostics) => Some(diagnostics),
            LoadError::Io { .. } => None,
        }
    }
}

/// Reads a file as text. A file that cannot be read is an `Io` error; a file that is not UTF-8
/// is invalid input, reported at its first bad byte.
pub(crate) fn read_text(path: &Path) -> Result<String, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        // The lossy text agrees with the file up to the first bad byte, so the offset holds.
        let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
        let mut diagnostic = Diagnostic::new(
            Code::Syntax,
            path,
            &text,
            offset..offset,
            "the file is not valid UTF-8".to_string(),
        );
        diagnostic.label("invalid byte here");
        let mut diagnostics = Diagnostics::default();
        diagnostics.add_file(path, &text, vec![diagnostic]);
        LoadError::Invalid(diagnostics)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_are_not_utf8_are_invalid_input() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("latin1.toml");
        std::fs::write(&path, b"name = \"caf\xe9\"\n").expect("write");
        let error = read_text(&path).expect_err("not UTF-8");
        assert!(error.is_invalid_input());
        let diagnostics = error.diagnostics().expect("diagnostics");
        assert_eq!(
            (diagnostics.items[0].line, diagnostics.items[0].column),
            (1, 12)
        );
        let error = read_text(&dir.path().join("missing.toml")).expect_err("missing");
        assert!(!error.is_invalid_input());
    }
}
