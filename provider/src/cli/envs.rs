//! `jke envs`: the environments the environments file defines and where each points. Reads
//! the file only; contacts no cluster.

use super::CliError;
use super::config;

/// The listing's text.
pub fn render(c: &config::Config) -> String {
    let mut o = format!("environments from {}:\n", c.path.display());
    let w = c
        .environments
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max(4);
    let nw = c
        .environments
        .values()
        .map(|e| e.namespace.len())
        .max()
        .unwrap_or(0)
        .max(9);
    o.push_str(&format!(
        "  {:<w$}  {:<nw$}  CLUSTER\n",
        "NAME", "NAMESPACE"
    ));
    for e in c.environments.values() {
        o.push_str(&format!(
            "  {:<w$}  {:<nw$}  {}\n",
            e.name,
            e.namespace,
            e.describe()
        ));
    }
    if c.environments.is_empty() {
        o.push_str("  (none: add [environments.NAME] sections)\n");
    }
    o
}

pub fn run() -> Result<(), CliError> {
    let c = config::load()?;
    print!("{}", render(&c));
    Ok(())
}
