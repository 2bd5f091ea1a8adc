//! Validation of a file whose kind is not given: decide from the parsed TOML whether it is a
//! model or a scenario (a scenario has a top-level `model` key), load it as that, and hand back
//! every diagnostic, errors and warnings alike, for `blastradius validate`.

use std::path::Path;

use toml::de::DeTable;

use super::diagnostic::Diagnostics;
use super::error::{LoadError, read_text};
use super::load_model::parse_model_with_warnings;
use super::load_scenario::parse_scenario;

/// What a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Model,
    Scenario,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Model => "model",
            FileKind::Scenario => "scenario",
        }
    }

    /// Decides from the parsed text; the second value is whether the text is valid TOML. When
    /// it is not, the kind is read off what the parser could recover, and is a guess.
    pub fn of(text: &str) -> (FileKind, bool) {
        let (root, errors) = DeTable::parse_recoverable(text);
        let kind = if root.get_ref().get("model").is_some() {
            FileKind::Scenario
        } else {
            FileKind::Model
        };
        (kind, errors.is_empty())
    }
}

/// The outcome of validating one file.
#[derive(Clone, Debug)]
pub struct Validation {
    pub kind: FileKind,
    /// Whether the file is valid TOML (and UTF-8); when not, `kind` is a guess.
    pub parses: bool,
    /// Every diagnostic of the file and, for a scenario, of its model.
    pub diagnostics: Diagnostics,
}

impl Validation {
    /// Whether the file loads (it may still have warnings).
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.has_errors()
    }
}

/// Reads and validates the file at `path`. Only a file that cannot be read is an `Err`
/// (`LoadError::Io`); everything wrong with its contents is in the `Validation`.
pub fn validate_file(path: &Path) -> Result<Validation, LoadError> {
    let text = match read_text(path) {
        Ok(text) => text,
        Err(LoadError::Invalid(diagnostics)) => {
            return Ok(Validation {
                kind: FileKind::Model,
                parses: false,
                diagnostics,
            });
        }
        Err(error) => return Err(error),
    };
    Ok(validate_text(path, &text, |model| {
        std::fs::read_to_string(model)
    }))
}

/// Validates `text` as the file at `path`, reading a scenario's model with `read_file`.
pub fn validate_text(
    path: &Path,
    text: &str,
    read_file: impl Fn(&Path) -> std::io::Result<String>,
) -> Validation {
    let (kind, parses) = FileKind::of(text);
    let loaded = match kind {
        FileKind::Model => parse_model_with_warnings(path, text).map(|(_, warnings)| warnings),
        FileKind::Scenario => parse_scenario(path, text, read_file).map(|(_, warnings)| warnings),
    };
    let diagnostics = loaded.unwrap_or_else(|diagnostics| diagnostics);
    Validation {
        kind,
        parses,
        diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_top_level_model_key_makes_a_scenario() {
        assert_eq!(
            FileKind::of("model = \"m.toml\"\n"),
            (FileKind::Scenario, true)
        );
        assert_eq!(FileKind::of("name = \"m\"\n"), (FileKind::Model, true));
        assert_eq!(
            FileKind::of("[service.model]\nzones = []\n"),
            (FileKind::Model, true)
        );
        assert_eq!(
            FileKind::of("model = \"m.toml\"\nname = \"x\n"),
            (FileKind::Scenario, false)
        );
    }

    #[test]
    fn warnings_do_not_make_a_file_invalid() {
        let text = "name = \"m\"\nzones = [\"z\"]\n[workload.w]\ntarget = \"a\"\nrate = 1\n\
                    [service.a]\nzones = [\"z\"]\nservice_time = { dist = \"constant\", value = \"1ms\" }\n\
                    [service.b]\nzones = [\"z\"]\nservice_time = { dist = \"constant\", value = \"1ms\" }\n";
        let validation = validate_text(Path::new("m.toml"), text, |_| unreachable!());
        assert!(validation.is_valid());
        assert_eq!(validation.diagnostics.warning_count(), 1);
    }
}
