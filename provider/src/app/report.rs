//! The validation report every resource fills: problems with the attribute path to blame and
//! the paths each was computed from, so the caller can drop problems that involve a value
//! not known until apply.

/// A step of a field path: `ports[1].name`, `env["FOO"]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Attr(String),
    Key(String),
    Index(usize),
}

pub type FieldPath = Vec<Seg>;

/// A path of attribute names: `path(&["rollout", "timeout"])`.
pub fn path(attrs: &[&str]) -> FieldPath {
    attrs.iter().map(|a| Seg::Attr((*a).to_string())).collect()
}

/// `base` extended by `more`.
pub fn at(base: &FieldPath, more: &[Seg]) -> FieldPath {
    let mut p = base.clone();
    p.extend_from_slice(more);
    p
}

/// Problem with one input, reported at `path`; `depends_on` lists every path whose value it
/// was computed from (including `path`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub path: FieldPath,
    pub depends_on: Vec<FieldPath>,
    pub summary: String,
    pub detail: String,
}

/// Collects the problems of one validation pass.
#[derive(Default)]
pub struct Report(Vec<Invalid>);

impl Report {
    /// A problem that depends only on the value at `at`.
    pub fn add(&mut self, at: FieldPath, summary: &str, detail: String) {
        self.related(at, Vec::new(), summary, detail);
    }

    /// A problem at `at` that also depends on the values at `others`.
    pub fn related(
        &mut self,
        at: FieldPath,
        others: Vec<FieldPath>,
        summary: &str,
        detail: String,
    ) {
        let mut depends_on = vec![at.clone()];
        depends_on.extend(others);
        self.0.push(Invalid {
            path: at,
            depends_on,
            summary: summary.to_string(),
            detail,
        });
    }

    pub fn into_problems(self) -> Vec<Invalid> {
        self.0
    }
}

/// `ports[1].name`, `env["FOO"]`: a path as the user writes it.
pub fn display(p: &[Seg]) -> String {
    let mut out = String::new();
    for s in p {
        match s {
            Seg::Attr(a) if out.is_empty() => out.push_str(a),
            Seg::Attr(a) => {
                out.push('.');
                out.push_str(a);
            }
            Seg::Key(k) => out.push_str(&format!("[{k:?}]")),
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_depends_on_its_own_path_and_the_related_ones() {
        let mut r = Report::default();
        r.related(
            path(&["ports"]),
            vec![path(&["port"])],
            "Conflict",
            "both".into(),
        );
        let p = r.into_problems();
        assert_eq!(p[0].depends_on, vec![path(&["ports"]), path(&["port"])]);
        let shown = display(&at(
            &path(&["ports"]),
            &[Seg::Index(1), Seg::Attr("name".into())],
        ));
        assert_eq!(shown, "ports[1].name");
        assert_eq!(
            display(&[Seg::Attr("env".into()), Seg::Key("A".into())]),
            "env[\"A\"]"
        );
    }
}
