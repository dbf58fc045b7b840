//! Diagnostics: what the provider tells the user, optionally pinned to an attribute path.
//!
//! A diagnostic pinned to a path also names that path at the start of its detail
//! (`ports[0].name: ...`): some clients (Terraform < 1.12, OpenTofu) show a nested
//! attribute's diagnostic on the resource's header line, or on a top-level attribute of the
//! same name, and the detail must still tell the user which attribute it is about.

use super::value::AttrPath;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttrPath>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            path: None,
        }
    }
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }
    /// Pins the diagnostic to `path` and makes its detail start with that path, unless it
    /// already does (`port = 70000: ...` at `port` stays as it is).
    pub fn at(mut self, path: AttrPath) -> Self {
        if !path.0.is_empty() {
            let shown = path.to_string();
            if !names_path_first(&self.detail, &shown) {
                self.detail = if self.detail.is_empty() {
                    shown
                } else {
                    format!("{shown}: {}", self.detail)
                };
            }
        }
        self.path = Some(path);
        self
    }
}

/// Whether `detail` begins with the whole path `shown` (not just a prefix of a longer name:
/// `name` does not name `name_suffix` or `name.x`).
fn names_path_first(detail: &str, shown: &str) -> bool {
    match detail.strip_prefix(shown) {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', ':', '=']),
        None => false,
    }
}

/// Diagnostics collected by one call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.0.push(Diagnostic::error(summary, detail));
    }
    pub fn error_at(
        &mut self,
        path: AttrPath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.0.push(Diagnostic::error(summary, detail).at(path));
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail_at(detail: &str, path: AttrPath) -> String {
        Diagnostic::error("Invalid", detail).at(path).detail
    }

    #[test]
    fn nested_paths_are_named_in_the_detail() {
        let path = AttrPath::attr("ports").then_index(0).then_attr("name");
        assert_eq!(
            detail_at("port name \"X\" must be lowercase", path),
            "ports[0].name: port name \"X\" must be lowercase"
        );
        let path = AttrPath::attr("env").then_key("A=B");
        assert_eq!(detail_at("bad key", path), "env[\"A=B\"]: bad key");
    }

    #[test]
    fn details_that_already_start_with_the_path_are_kept() {
        assert_eq!(
            detail_at("port = 70000: must be 1..65535", AttrPath::attr("port")),
            "port = 70000: must be 1..65535"
        );
        let path = AttrPath::attr("autoscale").then_attr("max_replicas");
        assert_eq!(
            detail_at("autoscale.max_replicas 0 must be at least 1", path.clone()),
            "autoscale.max_replicas 0 must be at least 1"
        );
        // Pinning twice does not repeat the path.
        let once = Diagnostic::error("Invalid", "bad").at(path.clone());
        assert_eq!(once.clone().at(path).detail, once.detail);
    }

    #[test]
    fn a_longer_name_is_not_the_path() {
        assert_eq!(
            detail_at("name_prefix is too long", AttrPath::attr("name")),
            "name: name_prefix is too long"
        );
        assert_eq!(detail_at("", AttrPath::attr("image")), "image");
        assert_eq!(
            Diagnostic::error("Invalid", "no path").detail,
            "no path",
            "diagnostics without a path are unchanged"
        );
    }
}
