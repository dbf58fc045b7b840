//! The environments file (`jke.toml`): which environments there are, how to reach each one's
//! cluster (the same settings as the provider block's `kubernetes` or `eks`) and the
//! namespace to look in. Found by `JKE_CONFIG`, else by walking up from the current folder,
//! else in the user's config folder.
//!
//! ```toml
//! [environments.dev]
//! namespace  = "shop"
//! kubernetes = { config_path = "~/.kube/config", config_context = "shop-dev" }
//!
//! [environments.prod]
//! namespace = "shop"
//! eks       = { cluster_name = "shop-prod", region = "eu-west-1" }
//! ```

use super::CliError;
use crate::kube::settings::{
    ClusterSettings, Connection, DEFAULT_MAX_REQUESTS, EksSettings, FieldManager,
    KubernetesSettings,
};
use crate::resources::provider_config::environment_marker;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file's name when found by walking up from the current folder.
pub const FILE_NAME: &str = "jke.toml";
/// Environment variable naming the file explicitly.
pub const ENV_VAR: &str = "JKE_CONFIG";
/// Namespace when an environment names none (the provider's default too).
pub const DEFAULT_NAMESPACE: &str = crate::app::application::spec::defaults::NAMESPACE;
/// Words that cannot be environment names because they are commands.
const RESERVED: [&str; 3] = ["init", "envs", "help"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    environments: BTreeMap<String, EnvironmentFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentFile {
    namespace: Option<String>,
    kubernetes: Option<KubernetesFile>,
    eks: Option<EksFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KubernetesFile {
    host: Option<String>,
    cluster_ca_certificate: Option<String>,
    token: Option<String>,
    client_certificate: Option<String>,
    client_key: Option<String>,
    config_path: Option<String>,
    config_context: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EksFile {
    cluster_name: String,
    region: Option<String>,
    role_arn: Option<String>,
    profile: Option<String>,
    endpoint_url: Option<String>,
}

/// One environment, ready to connect to.
#[derive(Clone, Debug, PartialEq)]
pub struct Environment {
    pub name: String,
    pub namespace: String,
    pub connection: Connection,
}

impl Environment {
    /// What the cluster side needs: the connection, and this environment's name as what the
    /// cluster's marker must say (the guard).
    pub fn cluster_settings(&self) -> ClusterSettings {
        ClusterSettings {
            connection: self.connection.clone(),
            environment: Some(self.name.clone()),
            // The marker jke_cluster writes and the provider's guard reads.
            marker: environment_marker(),
            field_manager: FieldManager::default(),
            max_requests: DEFAULT_MAX_REQUESTS,
        }
    }

    /// Where the environment points, for people (no secrets).
    pub fn describe(&self) -> String {
        match &self.connection {
            Connection::Kubernetes(k) => match (&k.config_path, &k.config_context, &k.host) {
                (Some(p), Some(c), _) => format!("kubeconfig {p}, context {c}"),
                (_, _, Some(h)) => format!("API server {h}"),
                _ => "kubernetes (incomplete)".into(),
            },
            Connection::Eks(e) => {
                let mut s = format!("EKS cluster {}", e.cluster_name);
                if let Some(r) = &e.region {
                    s.push_str(&format!(" in {r}"));
                }
                if let Some(role) = &e.role_arn {
                    s.push_str(&format!(" as {role}"));
                }
                s
            }
            Connection::None => "nothing".into(),
        }
    }
}

/// The parsed file and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub path: PathBuf,
    pub environments: BTreeMap<String, Environment>,
}

impl Config {
    /// The named environment, or a usage error listing the known ones.
    pub fn environment(&self, name: &str) -> Result<&Environment, CliError> {
        self.environments.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
            CliError::Usage(format!(
                "unknown environment {name:?}: {} defines {}. Use one of them (`jke envs` lists them with where each points), or add [environments.{name}] to that file.",
                self.path.display(),
                if known.is_empty() {
                    "no environments".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })
    }
}

/// Where the file is: `JKE_CONFIG`; else the nearest `jke.toml` from `cwd` up; else
/// `$XDG_CONFIG_HOME/jke/config.toml` (default `~/.config/jke/config.toml`).
pub fn locate(
    explicit: Option<&str>,
    cwd: &Path,
    home: Option<&Path>,
    xdg: Option<&Path>,
) -> Result<PathBuf, CliError> {
    if let Some(p) = explicit.filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(CliError::Usage(format!(
                "{ENV_VAR} names {}, which is not a file. Point {ENV_VAR} at the environments file, or unset it to use {FILE_NAME} found from the current folder up.",
                p.display()
            )))
        };
    }
    for dir in cwd.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    let user = xdg
        .map(|x| x.join("jke/config.toml"))
        .or_else(|| home.map(|h| h.join(".config/jke/config.toml")));
    if let Some(u) = &user
        && u.is_file()
    {
        return Ok(u.clone());
    }
    Err(CliError::Usage(format!(
        "no environments file: no {FILE_NAME} in {} or any folder above it{}, and {ENV_VAR} is not set. Ask your platform team for the {FILE_NAME} of your app repository (the format is in the README, section \"The jke command\"), or set {ENV_VAR}.",
        cwd.display(),
        user.map(|u| format!(", no {}", u.display()))
            .unwrap_or_default()
    )))
}

/// Find and read the file (see [`locate`]).
pub fn load() -> Result<Config, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::Failed(format!("cannot read the current folder: {e}")))?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from);
    let explicit = std::env::var(ENV_VAR).ok();
    let path = locate(explicit.as_deref(), &cwd, home.as_deref(), xdg.as_deref())?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
    parse(&text, &path, home.as_deref())
}

fn expand(p: &str, base: &Path, home: Option<&Path>) -> String {
    let path = match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    };
    if path.is_absolute() {
        path.display().to_string()
    } else {
        base.join(path).display().to_string()
    }
}

/// Parse the file's text. Relative `config_path`s are relative to the file's folder; `~/`
/// is the home folder. Errors name the file and, for syntax and unknown keys, the line.
pub fn parse(text: &str, path: &Path, home: Option<&Path>) -> Result<Config, CliError> {
    let bad = |msg: String| CliError::Usage(format!("{}: {msg}", path.display()));
    let file: File = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        bad(match line {
            Some(l) => format!("line {l}: {}", e.message()),
            None => e.message().to_string(),
        })
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut environments = BTreeMap::new();
    for (name, env) in file.environments {
        if RESERVED.contains(&name.as_str()) {
            return Err(bad(format!(
                "environment name {name:?} is a jke command; choose another name"
            )));
        }
        if name.is_empty() || name.starts_with('-') || name.contains(char::is_whitespace) {
            return Err(bad(format!(
                "environment name {name:?} must be a word such as dev, stg or prod"
            )));
        }
        let connection = match (env.kubernetes, env.eks) {
            (Some(_), Some(_)) => {
                return Err(bad(format!(
                    "environments.{name} has both kubernetes and eks; keep one"
                )));
            }
            (None, None) => {
                return Err(bad(format!(
                    "environments.{name} says nothing about its cluster; add kubernetes = {{ config_path, config_context }} (or host, cluster_ca_certificate, token) or eks = {{ cluster_name, region }}"
                )));
            }
            (Some(k), None) => {
                if k.config_path.is_some() && k.config_context.is_none() {
                    return Err(bad(format!(
                        "environments.{name}.kubernetes.config_path needs config_context: jke never uses a kubeconfig's current context"
                    )));
                }
                if k.config_path.is_none() && k.host.is_none() {
                    return Err(bad(format!(
                        "environments.{name}.kubernetes needs config_path with config_context, or host (with cluster_ca_certificate and token or client_certificate and client_key)"
                    )));
                }
                Connection::Kubernetes(KubernetesSettings {
                    host: k.host,
                    cluster_ca_certificate: k.cluster_ca_certificate,
                    token: k.token,
                    client_certificate: k.client_certificate,
                    client_key: k.client_key,
                    config_path: k.config_path.map(|p| expand(&p, base, home)),
                    config_context: k.config_context,
                })
            }
            (None, Some(e)) => Connection::Eks(EksSettings {
                cluster_name: e.cluster_name,
                region: e.region,
                role_arn: e.role_arn,
                profile: e.profile,
                endpoint_url: e.endpoint_url,
            }),
        };
        let namespace = env
            .namespace
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
        if !crate::app::formats::is_dns_label(&namespace) {
            return Err(bad(format!(
                "environments.{name}.namespace {namespace:?} is not a namespace name (lowercase letters, digits and '-')"
            )));
        }
        environments.insert(
            name.clone(),
            Environment {
                name,
                namespace,
                connection,
            },
        );
    }
    Ok(Config {
        path: path.to_path_buf(),
        environments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Config, String> {
        parse(
            text,
            Path::new("/repo/jke.toml"),
            Some(Path::new("/home/me")),
        )
        .map_err(|e| match e {
            CliError::Usage(m) => m,
            other => panic!("expected a usage error, got {other:?}"),
        })
    }

    #[test]
    fn reads_kubeconfig_and_eks_environments() {
        let c = parsed(
            r#"
[environments.dev]
namespace  = "shop"
kubernetes = { config_path = "~/.kube/config", config_context = "dev" }

[environments.local]
kubernetes = { config_path = "cluster/kubeconfig", config_context = "jke-local" }

[environments.prod.eks]
cluster_name = "shop-prod"
region       = "eu-west-1"
role_arn     = "arn:aws:iam::123456789012:role/dev"
"#,
        )
        .unwrap();
        let dev = &c.environments["dev"];
        assert_eq!(dev.namespace, "shop");
        assert_eq!(
            dev.connection,
            Connection::Kubernetes(KubernetesSettings {
                config_path: Some("/home/me/.kube/config".into()),
                config_context: Some("dev".into()),
                ..KubernetesSettings::default()
            })
        );
        let local = &c.environments["local"];
        assert_eq!(local.namespace, "default");
        assert!(
            matches!(&local.connection, Connection::Kubernetes(k) if k.config_path.as_deref() == Some("/repo/cluster/kubeconfig"))
        );
        let prod = &c.environments["prod"];
        assert!(
            matches!(&prod.connection, Connection::Eks(e) if e.cluster_name == "shop-prod" && e.region.as_deref() == Some("eu-west-1"))
        );
        let s = prod.cluster_settings();
        assert_eq!(s.environment.as_deref(), Some("prod"));
    }

    #[test]
    fn a_typo_in_a_key_is_named_with_its_line() {
        let e = parsed(
            "[environments.dev]\nnamespace = \"shop\"\nnamepsace = \"x\"\nkubernetes = { config_path = \"k\", config_context = \"c\" }\n",
        )
        .unwrap_err();
        assert!(e.contains("/repo/jke.toml: line 3"), "{e}");
        assert!(e.contains("namepsace"), "{e}");
        let e = parsed(
            "[environments.dev]\nkubernetes = { config_path = \"k\", config_contxt = \"c\" }\n",
        )
        .unwrap_err();
        assert!(e.contains("line 2") && e.contains("config_contxt"), "{e}");
        let e = parsed("[enviroments.dev]\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("enviroments"), "{e}");
    }

    #[test]
    fn refuses_what_cannot_connect_or_would_use_the_current_context() {
        let e = parsed("[environments.dev]\nnamespace = \"shop\"\n").unwrap_err();
        assert!(e.contains("says nothing about its cluster"), "{e}");
        let e = parsed("[environments.dev]\nkubernetes = { config_path = \"k\" }\n").unwrap_err();
        assert!(e.contains("needs config_context"), "{e}");
        let e = parsed(
            "[environments.dev]\nkubernetes = { host = \"https://k\" }\neks = { cluster_name = \"x\" }\n",
        )
        .unwrap_err();
        assert!(e.contains("both"), "{e}");
        let e = parsed("[environments.init]\nkubernetes = { host = \"https://k\" }\n").unwrap_err();
        assert!(e.contains("jke command"), "{e}");
        let e = parsed(
            "[environments.dev]\nnamespace = \"Shop\"\nkubernetes = { host = \"https://k\" }\n",
        )
        .unwrap_err();
        assert!(e.contains("namespace"), "{e}");
        let e = parsed("[environments.dev\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn unknown_environments_list_the_known_ones() {
        let c = parsed(
            "[environments.dev]\nkubernetes = { host = \"https://k\" }\n[environments.stg]\nkubernetes = { host = \"https://s\" }\n",
        )
        .unwrap();
        match c.environment("prod") {
            Err(CliError::Usage(m)) => {
                assert!(m.contains("\"prod\"") && m.contains("dev, stg"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_file_is_found_by_env_var_then_walking_up_then_in_the_user_folder() {
        let root = std::env::temp_dir().join(format!("jke-config-test-{}", std::process::id()));
        let deep = root.join("repo/app/src");
        std::fs::create_dir_all(&deep).unwrap();
        let home = root.join("home");
        std::fs::create_dir_all(home.join(".config/jke")).unwrap();
        let user = home.join(".config/jke/config.toml");
        std::fs::write(&user, "").unwrap();
        assert_eq!(locate(None, &deep, Some(&home), None).unwrap(), user);
        std::fs::write(root.join("repo/jke.toml"), "").unwrap();
        assert_eq!(
            locate(None, &deep, Some(&home), None).unwrap(),
            root.join("repo/jke.toml")
        );
        let explicit = root.join("other.toml");
        std::fs::write(&explicit, "").unwrap();
        assert_eq!(
            locate(explicit.to_str(), &deep, Some(&home), None).unwrap(),
            explicit
        );
        assert!(matches!(
            locate(Some("/nonexistent/jke.toml"), &deep, Some(&home), None),
            Err(CliError::Usage(_))
        ));
        std::fs::remove_file(root.join("repo/jke.toml")).unwrap();
        std::fs::remove_file(&user).unwrap();
        match locate(None, &deep, Some(&home), None) {
            Err(CliError::Usage(m)) => assert!(m.contains("no environments file"), "{m}"),
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
