//! AWS FIS experiment templates (JSON) to scenarios and back (issue 17).
