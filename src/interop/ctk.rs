//! Chaos Toolkit experiments (JSON or YAML) to scenarios and back (issue 16).
