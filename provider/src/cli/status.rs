//! `jke <env> status <app>`: what the app runs and how it is doing: image, pods, rollout
//! (or why it is stuck, worded as the provider words a failed rollout), autoscaler,
//! disruption budget, URL and the last warning events. `--output json` for scripts.

use super::{CliError, Target};
use crate::app::application::bundle::app_label_selector;
use crate::kube::pods::{event_time, is_ready, pod_name};
use crate::kube::rollout::{Progress, progress};
use clap::{Args, ValueEnum};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The app's name.
    pub app: String,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "text")]
    pub output: Output,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct AppStatus {
    pub app: String,
    pub environment: String,
    pub namespace: String,
    pub image: Option<String>,
    pub replicas: Replicas,
    pub rollout: Rollout,
    pub pods: Vec<PodStatus>,
    pub autoscaler: Option<Autoscaler>,
    pub disruption_budget: Option<DisruptionBudget>,
    pub url: Option<String>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Replicas {
    pub desired: i32,
    pub updated: i32,
    pub ready: i32,
    pub available: i32,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Rollout {
    /// "complete", "progressing" or "failed".
    pub state: String,
    pub message: String,
    /// Why pods are not available (scheduling, image pull, crash loop), when they are not.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct PodStatus {
    pub name: String,
    pub phase: String,
    pub ready: bool,
    pub restarts: i32,
    pub node: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Autoscaler {
    pub current: i32,
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    /// Average CPU use as a percentage of the request, when metrics are available.
    pub cpu_percent: Option<i32>,
    pub target_cpu_percent: Option<i32>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct DisruptionBudget {
    pub allowed_disruptions: i32,
    pub current_healthy: i32,
    pub desired_healthy: i32,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Warning {
    pub object: String,
    pub reason: String,
    pub message: String,
    pub count: i32,
    /// Seconds since the epoch of the last occurrence.
    pub last_seen: i64,
}

fn pod_status(p: &Pod) -> PodStatus {
    let st = p.status.as_ref();
    PodStatus {
        name: pod_name(p).to_string(),
        phase: st
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into()),
        ready: is_ready(p),
        restarts: st
            .and_then(|s| s.container_statuses.as_ref())
            .map(|cs| cs.iter().map(|c| c.restart_count).sum())
            .unwrap_or(0),
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
    }
}

fn autoscaler(h: &HorizontalPodAutoscaler) -> Autoscaler {
    let spec = h.spec.as_ref();
    let status = h.status.as_ref();
    let cpu = |m: &k8s_openapi::api::autoscaling::v2::MetricStatus| {
        m.resource
            .as_ref()
            .filter(|r| r.name == "cpu")
            .and_then(|r| r.current.average_utilization)
    };
    Autoscaler {
        current: status.and_then(|s| s.current_replicas).unwrap_or(0),
        desired: status.map(|s| s.desired_replicas).unwrap_or(0),
        min: spec.and_then(|s| s.min_replicas).unwrap_or(1),
        max: spec.map(|s| s.max_replicas).unwrap_or(0),
        cpu_percent: status
            .and_then(|s| s.current_metrics.as_ref())
            .and_then(|ms| ms.iter().find_map(cpu)),
        target_cpu_percent: spec.and_then(|s| s.metrics.as_ref()).and_then(|ms| {
            ms.iter().find_map(|m| {
                m.resource
                    .as_ref()
                    .filter(|r| r.name == "cpu")
                    .and_then(|r| r.target.average_utilization)
            })
        }),
    }
}

fn url(
    ingress: Option<&Ingress>,
    service: Option<&Service>,
    app: &str,
    ns: &str,
) -> Option<String> {
    if let Some(spec) = ingress.and_then(|i| i.spec.as_ref()) {
        let tls_hosts: Vec<&String> = spec
            .tls
            .iter()
            .flatten()
            .flat_map(|t| t.hosts.iter().flatten())
            .collect();
        if let Some(rule) = spec.rules.iter().flatten().find(|r| r.host.is_some())
            && let Some(host) = &rule.host
        {
            let scheme = if tls_hosts.contains(&host) {
                "https"
            } else {
                "http"
            };
            let path = rule
                .http
                .as_ref()
                .and_then(|h| h.paths.first())
                .and_then(|p| p.path.clone())
                .filter(|p| p != "/")
                .unwrap_or_default();
            return Some(format!("{scheme}://{host}{path}"));
        }
    }
    let port = service
        .and_then(|s| s.spec.as_ref())
        .and_then(|s| s.ports.as_ref())
        .and_then(|p| p.first())
        .map(|p| p.port)?;
    Some(format!(
        "http://{app}.{ns}.svc.cluster.local:{port} (inside the cluster)"
    ))
}

/// Everything about the app, read from the cluster.
pub async fn gather(t: &Target, app: &str) -> Result<AppStatus, CliError> {
    let d = t.app(app).await?;
    let ns = &t.namespace;
    let c = &t.cluster;
    let selector = app_label_selector(app);
    let (pods, hpa, pdb, svc, ing) = tokio::join!(
        c.list_pods(ns, &selector),
        c.get_namespaced::<HorizontalPodAutoscaler>(ns, app),
        c.get_namespaced::<PodDisruptionBudget>(ns, app),
        c.get_namespaced::<Service>(ns, app),
        c.get_namespaced::<Ingress>(ns, app),
    );
    let pods = pods?;
    let (hpa, pdb, svc, ing) = (hpa?, pdb?, svc?, ing?);
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    let image = spec.and_then(|s| {
        let cs = &s.template.spec.as_ref()?.containers;
        cs.iter()
            .find(|c| c.name == app)
            .or_else(|| cs.first())
            .and_then(|c| c.image.clone())
    });
    let replicas = Replicas {
        desired: spec.and_then(|s| s.replicas).unwrap_or(1),
        updated: status.and_then(|s| s.updated_replicas).unwrap_or(0),
        ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
        available: status.and_then(|s| s.available_replicas).unwrap_or(0),
    };
    let rollout = match progress(&d) {
        Progress::Done => Rollout {
            state: "complete".into(),
            message: format!("{}/{} pods available", replicas.available, replicas.desired),
            reason: None,
        },
        Progress::Waiting(m) => Rollout {
            state: "progressing".into(),
            message: m,
            reason: Some(c.explain_pods(ns, &d).await),
        },
        Progress::Failed(m) => Rollout {
            state: "failed".into(),
            message: m,
            reason: Some(c.explain_pods(ns, &d).await),
        },
    };
    // The app's objects, its pods, and its ReplicaSets (named after it with a hash suffix).
    let names: Vec<String> = pods.iter().map(|p| pod_name(p).to_string()).collect();
    let rs_prefix = format!("{app}-");
    let mut events = c.warning_events(ns).await?;
    events.retain(|e| {
        e.involved_object
            .name
            .as_ref()
            .is_some_and(|n| n == app || names.contains(n) || n.starts_with(&rs_prefix))
    });
    let skip = events.len().saturating_sub(5);
    let warnings = events
        .iter()
        .skip(skip)
        .map(|e| Warning {
            object: format!(
                "{}/{}",
                e.involved_object.kind.clone().unwrap_or_default(),
                e.involved_object.name.clone().unwrap_or_default()
            ),
            reason: e.reason.clone().unwrap_or_default(),
            message: e.message.clone().unwrap_or_default().trim().to_string(),
            count: e.count.unwrap_or(1),
            last_seen: event_time(e),
        })
        .collect();
    Ok(AppStatus {
        app: app.to_string(),
        environment: t.environment.clone(),
        namespace: ns.clone(),
        image,
        pods: pods.iter().map(pod_status).collect(),
        replicas,
        rollout,
        autoscaler: hpa.as_ref().map(autoscaler),
        disruption_budget: pdb
            .as_ref()
            .and_then(|p| p.status.as_ref())
            .map(|s| DisruptionBudget {
                allowed_disruptions: s.disruptions_allowed,
                current_healthy: s.current_healthy,
                desired_healthy: s.desired_healthy,
            }),
        url: url(ing.as_ref(), svc.as_ref(), app, ns),
        warnings,
    })
}

/// The status as text for people.
pub fn render(s: &AppStatus, now: i64) -> String {
    let mut o = String::new();
    let mut line = |k: &str, v: String| o.push_str(&format!("{k:<12} {v}\n"));
    line(
        "app",
        format!(
            "{} (namespace {}, environment {})",
            s.app, s.namespace, s.environment
        ),
    );
    line("image", s.image.clone().unwrap_or_else(|| "-".into()));
    let r = &s.replicas;
    line(
        "pods",
        format!(
            "{} desired, {} updated, {} ready, {} available",
            r.desired, r.updated, r.ready, r.available
        ),
    );
    let mut rollout = format!("{}: {}", s.rollout.state, s.rollout.message);
    if let Some(why) = &s.rollout.reason {
        rollout.push_str(&format!(" ({why})"));
    }
    line("rollout", rollout);
    match &s.autoscaler {
        Some(a) => line(
            "autoscaler",
            format!(
                "{} current, {} desired, {}..{}; cpu {} of requests (target {})",
                a.current,
                a.desired,
                a.min,
                a.max,
                a.cpu_percent
                    .map(|c| format!("{c}%"))
                    .unwrap_or_else(|| "unknown".into()),
                a.target_cpu_percent
                    .map(|c| format!("{c}%"))
                    .unwrap_or_else(|| "-".into())
            ),
        ),
        None => line("autoscaler", "none".into()),
    }
    match &s.disruption_budget {
        Some(b) => line(
            "disruptions",
            format!(
                "{} allowed ({} healthy, {} needed)",
                b.allowed_disruptions, b.current_healthy, b.desired_healthy
            ),
        ),
        None => line("disruptions", "no budget".into()),
    }
    line("url", s.url.clone().unwrap_or_else(|| "- (no port)".into()));
    o.push('\n');
    let w = s
        .pods
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    o.push_str(&format!(
        "{:<w$}  {:<9} {:<5} {:>8}  NODE\n",
        "POD", "PHASE", "READY", "RESTARTS"
    ));
    for p in &s.pods {
        o.push_str(&format!(
            "{:<w$}  {:<9} {:<5} {:>8}  {}\n",
            p.name,
            p.phase,
            if p.ready { "yes" } else { "no" },
            p.restarts,
            p.node.as_deref().unwrap_or("-")
        ));
    }
    if !s.warnings.is_empty() {
        o.push_str("\nrecent warnings:\n");
        for e in &s.warnings {
            let age = if e.last_seen > 0 {
                format!("{}s ago", (now - e.last_seen).max(0))
            } else {
                "-".into()
            };
            o.push_str(&format!(
                "  {age:>8}  {}  {}: {}{}\n",
                e.object,
                e.reason,
                e.message,
                if e.count > 1 {
                    format!(" (x{})", e.count)
                } else {
                    String::new()
                }
            ));
        }
    }
    o
}

pub async fn run(t: &Target, a: StatusArgs) -> Result<(), CliError> {
    let s = gather(t, &a.app).await?;
    match a.output {
        Output::Json => {
            let text = serde_json::to_string_pretty(&s)
                .map_err(|e| CliError::Failed(format!("cannot write JSON: {e}")))?;
            println!("{text}");
        }
        Output::Text => print!(
            "{}",
            render(&s, k8s_openapi::jiff::Timestamp::now().as_second())
        ),
    }
    Ok(())
}
