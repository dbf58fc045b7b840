//! `jke init`: write a new app's `jke_application` block, with the settings it will get
//! shown as comments. The values come from [`Spec::resolve`] over no provider defaults, so
//! they are the provider's built-in defaults and cannot disagree with them.

use super::CliError;
use crate::app::application::spec::{Input, Spec};
use crate::app::application::validate;
use crate::app::report::Seg;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The app's name (default: the current folder's name made into a DNS label).
    #[arg(long)]
    pub name: Option<String>,
    /// Container image (default: "<name>:latest"; set the real one before applying).
    #[arg(long)]
    pub image: Option<String>,
    /// The port the app listens on (none: a worker without a Service).
    #[arg(long)]
    pub port: Option<i64>,
    /// File to write; it must not exist yet.
    #[arg(long, default_value = "app.tf")]
    pub out: PathBuf,
}

/// A folder name as a DNS label: lowercase letters, digits and '-', starting with a letter,
/// at most 63 characters; "app" when nothing is left.
pub fn dns_label(folder: &str) -> String {
    let mut s = String::new();
    for c in folder.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let mut s: String = s.chars().take(63).collect();
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() { "app".into() } else { s }
}

fn hcl_string(s: &str) -> String {
    // JSON string syntax is HCL string syntax, except that HCL also expands "${" and "%{".
    serde_json::to_string(s)
        .unwrap_or_default()
        .replace("${", "$${")
        .replace("%{", "%%{")
}

fn opt(v: &Option<String>) -> String {
    v.as_deref()
        .map(hcl_string)
        .unwrap_or_else(|| "null".into())
}

/// The file's text for `spec` (resolved from name, image and port only).
pub fn render(spec: &Spec, resource: &str) -> String {
    let mut o = String::new();
    let push = |o: &mut String, s: &str| {
        o.push_str(s);
        o.push('\n');
    };
    push(
        &mut o,
        &format!("# The app {:?}, written by `jke init`.", spec.name),
    );
    push(
        &mut o,
        "# The commented settings are the defaults it gets from the jke provider (the platform",
    );
    push(
        &mut o,
        "# team's provider `defaults` may change them); uncomment and edit any to override it.",
    );
    push(
        &mut o,
        "# Reference: docs/resources/application.md. Deploy with terraform plan / apply.",
    );
    push(
        &mut o,
        &format!("resource \"jke_application\" {} {{", hcl_string(resource)),
    );
    let mut attrs = vec![
        ("name", hcl_string(&spec.name)),
        ("image", hcl_string(&spec.image)),
    ];
    if let Some(p) = spec.port {
        attrs.push(("port", p.to_string()));
    }
    let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &attrs {
        push(&mut o, &format!("  {k:<width$} = {v}"));
    }
    push(&mut o, "");
    push(
        &mut o,
        &format!("  # namespace = {}", hcl_string(&spec.namespace)),
    );
    push(&mut o, "");
    push(
        &mut o,
        "  # Size of each pod; requests equal limits unless cpu_limit / memory_limit are set.",
    );
    push(&mut o, &format!("  # cpu    = {}", hcl_string(&spec.cpu)));
    push(
        &mut o,
        &format!("  # memory = {}", hcl_string(&spec.memory)),
    );
    push(&mut o, "");
    let a = &spec.autoscale;
    push(
        &mut o,
        &format!(
            "  # Pods: {} to start with; the autoscaler keeps {}..{}.",
            spec.replicas, a.min_replicas, a.max_replicas
        ),
    );
    push(&mut o, &format!("  # replicas = {}", spec.replicas));
    push(&mut o, "  # autoscale = {");
    let mut auto = vec![
        ("enabled", a.enabled.to_string()),
        ("min_replicas", a.min_replicas.to_string()),
        ("max_replicas", a.max_replicas.to_string()),
    ];
    if let Some(t) = a.target_cpu_utilization {
        auto.push(("target_cpu_utilization", t.to_string()));
    }
    if let Some(t) = a.target_memory_utilization {
        auto.push(("target_memory_utilization", t.to_string()));
    }
    let w = auto.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &auto {
        push(&mut o, &format!("  #   {k:<w$} = {v}"));
    }
    push(&mut o, "  # }");
    push(&mut o, "");
    let b = &spec.disruption_budget;
    push(
        &mut o,
        "  # At most this many pods down at once during node drains and cluster upgrades.",
    );
    push(&mut o, "  # disruption_budget = {");
    push(&mut o, &format!("  #   enabled         = {}", b.enabled));
    match (&b.max_unavailable, &b.min_available) {
        (_, Some(m)) => push(
            &mut o,
            &format!("  #   min_available   = {}", hcl_string(m)),
        ),
        (m, None) => push(&mut o, &format!("  #   max_unavailable = {}", opt(m))),
    }
    push(&mut o, "  # }");
    push(&mut o, "");
    push(
        &mut o,
        "  # Stopping: the pre-stop sleep lets load balancers drain, then SIGTERM, then the",
    );
    push(&mut o, "  # grace period until SIGKILL (seconds).");
    push(
        &mut o,
        &format!(
            "  # termination_grace_period = {}",
            spec.termination_grace_period
        ),
    );
    push(
        &mut o,
        &format!("  # pre_stop_sleep           = {}", spec.pre_stop_sleep),
    );
    push(&mut o, "");
    let p = &spec.readiness_probe;
    if p.enabled {
        let how = match (&p.http_path, p.port) {
            (Some(path), Some(port)) => format!("HTTP GET {path} on port {port}"),
            (_, Some(port)) => format!("a TCP connect to port {port}"),
            _ => "the probe".into(),
        };
        push(
            &mut o,
            &format!("  # Ready when {how} succeeds; no liveness or startup probe unless set."),
        );
    } else {
        push(
            &mut o,
            "  # No port: no readiness probe and no Service; no liveness or startup probe unless set.",
        );
    }
    push(&mut o, "  # readiness_probe = {");
    let mut probe = vec![("enabled", p.enabled.to_string())];
    if p.enabled {
        match &p.http_path {
            Some(path) => probe.push(("http_path", hcl_string(path))),
            None => probe.push(("tcp", p.tcp.to_string())),
        }
    }
    probe.extend([
        ("period_seconds", p.period_seconds.to_string()),
        ("timeout_seconds", p.timeout_seconds.to_string()),
        ("failure_threshold", p.failure_threshold.to_string()),
    ]);
    let w = probe.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &probe {
        push(&mut o, &format!("  #   {k:<w$} = {v}"));
    }
    push(&mut o, "  # }");
    push(&mut o, "");
    let r = &spec.rollout;
    push(
        &mut o,
        "  # Rollouts never take capacity away and roll back when the new pods do not become ready.",
    );
    push(&mut o, "  # rollout = {");
    let ro = [
        ("timeout", hcl_string(&r.timeout)),
        ("max_surge", hcl_string(&r.max_surge)),
        ("max_unavailable", hcl_string(&r.max_unavailable)),
        ("rollback_on_failure", r.rollback_on_failure.to_string()),
    ];
    let w = ro.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in &ro {
        push(&mut o, &format!("  #   {k:<w$} = {v}"));
    }
    push(&mut o, "  # }");
    push(&mut o, "}");
    o
}

/// The app's spec from the command's arguments, validated like the provider validates it.
pub fn spec_for(name: &str, image: &str, port: Option<i64>) -> Result<Spec, CliError> {
    let input = Input {
        name: Some(name.to_string()),
        image: Some(image.to_string()),
        port,
        ..Input::default()
    };
    let spec = Spec::resolve(&input, &Input::default());
    let problems = validate::validate(&spec);
    if let Some(p) = problems.first() {
        let flag = match p.path.first() {
            Some(Seg::Attr(a)) if a == "name" => "--name",
            Some(Seg::Attr(a)) if a == "image" => "--image",
            Some(Seg::Attr(a)) if a == "port" || a == "ports" => "--port",
            _ => "the arguments",
        };
        return Err(CliError::Usage(format!("{flag}: {}", p.detail)));
    }
    Ok(spec)
}

fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn run(args: InitArgs) -> Result<(), CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::Failed(format!("cannot read the current folder: {e}")))?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| dns_label(&folder_name(&cwd)));
    let image = args
        .image
        .clone()
        .unwrap_or_else(|| format!("{name}:latest"));
    let spec = spec_for(&name, &image, args.port)?;
    let resource = name.replace('-', "_");
    let text = render(&spec, &resource);
    let path = if args.out.is_absolute() {
        args.out.clone()
    } else {
        cwd.join(&args.out)
    };
    use std::io::Write;
    let mut f = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(CliError::Failed(format!(
                "{} already exists; nothing was written. Edit it, or write elsewhere with --out FILE.",
                path.display()
            )));
        }
        Err(e) => {
            return Err(CliError::Failed(format!(
                "cannot create {}: {e}",
                path.display()
            )));
        }
    };
    f.write_all(text.as_bytes())
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))?;
    println!(
        "wrote {} (jke_application.{resource}: image {image}{}). Next: terraform plan, terraform apply.",
        args.out.display(),
        args.port.map(|p| format!(", port {p}")).unwrap_or_default()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_become_dns_labels() {
        assert_eq!(dns_label("Orders_API"), "orders-api");
        assert_eq!(dns_label("my app (v2)"), "my-app-v2");
        assert_eq!(dns_label("2fast"), "fast");
        assert_eq!(dns_label("..."), "app");
        assert_eq!(dns_label(&"x".repeat(80)).len(), 63);
    }

    #[test]
    fn the_comments_show_the_providers_defaults() {
        use crate::app::application::spec::defaults;
        let spec = spec_for("web", "nginx:1.27", Some(80)).unwrap();
        let text = render(&spec, "web");
        assert!(text.contains("  name  = \"web\"\n  image = \"nginx:1.27\"\n  port  = 80\n"));
        assert!(text.contains(&format!("# replicas = {}", defaults::REPLICAS)));
        assert!(text.contains(&format!(
            "min_replicas           = {}",
            defaults::MIN_REPLICAS
        )));
        assert!(text.contains(&format!(
            "max_replicas           = {}",
            defaults::MAX_REPLICAS
        )));
        assert!(text.contains(&format!(
            "target_cpu_utilization = {}",
            defaults::TARGET_CPU
        )));
        assert!(text.contains(&format!("# cpu    = \"{}\"", defaults::CPU)));
        assert!(text.contains(&format!("# memory = \"{}\"", defaults::MEMORY)));
        assert!(text.contains(&format!(
            "max_unavailable = \"{}\"",
            defaults::PDB_MAX_UNAVAILABLE
        )));
        assert!(text.contains(&format!(
            "termination_grace_period = {}",
            defaults::TERMINATION_GRACE_PERIOD
        )));
        assert!(text.contains("a TCP connect to port 80"));
        let worker = render(&spec_for("worker", "w:1", None).unwrap(), "worker");
        assert!(!worker.contains("port "));
        assert!(worker.contains("No port"));
    }

    #[test]
    fn bad_arguments_are_usage_errors_naming_the_flag() {
        match spec_for("Web", "nginx", Some(80)) {
            Err(CliError::Usage(m)) => assert!(m.starts_with("--name:"), "{m}"),
            other => panic!("{other:?}"),
        }
        match spec_for("web", "nginx", Some(0)) {
            Err(CliError::Usage(m)) => assert!(m.starts_with("--port"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
