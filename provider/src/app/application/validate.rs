//! Validation of a resolved [`Spec`]: every rule the API server (or common sense for a
//! production app) would enforce, checked at plan time with the attribute path to blame.
//!
//! Each problem names the paths it depends on, so the caller can drop problems that involve a
//! value not known until apply.

use super::spec::{Input, PROFILES, Peer, Probe, Spec, StringMap};
use crate::app::formats::{
    DURATION_FORMS, is_dns_label, is_dns_subdomain, is_label_value, is_qualified_name,
    parse_duration,
};
use crate::app::quantity::{ACCEPTED_FORMS, Quantity};
use crate::app::report::{FieldPath, Invalid, Report, Seg, path};
use std::collections::BTreeSet;

/// Longest app name: derived objects append "-env" (Secret) and must stay DNS labels.
pub const MAX_NAME_LEN: usize = 59;

fn with(mut p: FieldPath, seg: Seg) -> FieldPath {
    p.push(seg);
    p
}

/// Problems visible only in what the user wrote (before defaults hide them).
pub fn validate_input(input: &Input) -> Vec<Invalid> {
    let mut r = Report::default();
    // Both may be set when they agree (as `terraform plan -generate-config-out` writes them).
    let agree = match (&input.port, input.ports.as_deref()) {
        (Some(p), Some([one])) => {
            one.container_port == Some(*p) && one.name.as_deref().is_none_or(|n| n == "http")
        }
        _ => false,
    };
    if input.port.is_some() && input.ports.is_some() && !agree {
        r.related(
            path(&["ports"]),
            vec![path(&["port"])],
            "Conflicting port settings",
            "set either port (one HTTP port) or ports (a list of ports), not both".to_string(),
        );
    }
    r.into_problems()
}

/// All problems with `spec`; empty when it can be applied.
pub fn validate(spec: &Spec) -> Vec<Invalid> {
    let mut r = Report::default();
    check_name(&mut r, spec);
    check_namespace(&mut r, &spec.namespace);
    if spec.image.trim().is_empty() || spec.image.contains(char::is_whitespace) {
        r.add(
            path(&["image"]),
            "Invalid image",
            format!(
                "image {:?} is not a container image reference; use e.g. \"nginx:1.27\" or \"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:...\"",
                spec.image
            ),
        );
    }
    check_ports(&mut r, spec);
    check_env(&mut r, spec);
    check_resources(&mut r, spec);
    check_scaling(&mut r, spec);
    check_service(&mut r, spec);
    check_ingress(&mut r, spec);
    check_probe(&mut r, spec, "readiness_probe", Some(&spec.readiness_probe));
    check_probe(&mut r, spec, "liveness_probe", spec.liveness_probe.as_ref());
    check_probe(&mut r, spec, "startup_probe", spec.startup_probe.as_ref());
    check_lifecycle(&mut r, spec);
    check_metadata(&mut r, spec);
    check_rollout(&mut r, spec);
    check_security(&mut r, spec);
    check_network_policy(&mut r, spec);
    r.into_problems()
}

fn check_name(r: &mut Report, spec: &Spec) {
    let n = &spec.name;
    let starts_with_letter = n.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !is_dns_label(n) || !starts_with_letter {
        r.add(
            path(&["name"]),
            "Invalid application name",
            format!(
                "name {n:?} must be a DNS label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. \"web\", \"orders-api\")"
            ),
        );
    } else if n.len() > MAX_NAME_LEN {
        r.add(
            path(&["name"]),
            "Application name too long",
            format!(
                "name {n:?} has {} characters; at most {MAX_NAME_LEN} are accepted because derived objects (Secret \"{n}-env\") must stay within 63",
                n.len()
            ),
        );
    }
}

fn check_namespace(r: &mut Report, ns: &str) {
    if !is_dns_label(ns) {
        r.add(
            path(&["namespace"]),
            "Invalid namespace",
            format!("namespace {ns:?} must be a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"),
        );
    } else if ns.starts_with("kube-") {
        // The cluster's own namespaces (kube-system, kube-public, kube-node-lease), as
        // jke_cluster refuses them: an app there could replace a system component.
        r.add(
            path(&["namespace"]),
            "Reserved namespace",
            format!("namespace {ns:?} is reserved for the cluster itself (like kube-system, kube-public and kube-node-lease); put the app in a namespace of its own, e.g. \"shop\""),
        );
    }
}

fn is_port_name(s: &str) -> bool {
    // IANA service name, as Kubernetes requires for named ports.
    !s.is_empty()
        && s.len() <= 15
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.chars().any(|c| c.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn check_ports(r: &mut Report, spec: &Spec) {
    if let Some(p) = spec.port {
        if !(1..=65535).contains(&p) {
            r.add(
                path(&["port"]),
                "Invalid port",
                format!("port {p} is outside 1..65535"),
            );
        }
        return;
    }
    let mut names = BTreeSet::new();
    let mut container = BTreeSet::new();
    let mut service = BTreeSet::new();
    for (i, p) in spec.ports.iter().enumerate() {
        let at = |attr: &str| {
            with(
                with(path(&["ports"]), Seg::Index(i)),
                Seg::Attr(attr.into()),
            )
        };
        if !(1..=65535).contains(&p.container_port) {
            r.add(
                at("container_port"),
                "Invalid port",
                format!("container_port {} is outside 1..65535", p.container_port),
            );
        } else if !container.insert((p.container_port, p.protocol.clone())) {
            // The same number may serve TCP and UDP (DNS does), not the same protocol twice.
            r.add(
                at("container_port"),
                "Duplicate port",
                format!(
                    "container_port {} with protocol {} is listed more than once in ports",
                    p.container_port, p.protocol
                ),
            );
        }
        if !(1..=65535).contains(&p.service_port) {
            r.add(
                at("service_port"),
                "Invalid port",
                format!("service_port {} is outside 1..65535", p.service_port),
            );
        } else if !service.insert((p.service_port, p.protocol.clone())) {
            r.add(
                at("service_port"),
                "Duplicate port",
                format!(
                    "service_port {} is listed more than once in ports",
                    p.service_port
                ),
            );
        }
        if !is_port_name(&p.name) {
            r.add(at("name"), "Invalid port name", format!("port name {:?} must be at most 15 lowercase letters, digits and '-', with at least one letter (e.g. \"http\", \"grpc\", \"metrics\")", p.name));
        } else if !names.insert(p.name.clone()) {
            r.add(
                at("name"),
                "Duplicate port name",
                format!("port name {:?} is used more than once in ports", p.name),
            );
        }
        if !matches!(p.protocol.as_str(), "TCP" | "UDP" | "SCTP") {
            r.add(
                at("protocol"),
                "Invalid protocol",
                format!(
                    "protocol {:?} is not accepted; use \"TCP\", \"UDP\" or \"SCTP\"",
                    p.protocol
                ),
            );
        }
    }
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '-' || c == '.')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

fn check_env(r: &mut Report, spec: &Spec) {
    let groups: [(&str, Option<&StringMap>); 3] = [
        ("env", spec.env.as_ref()),
        ("secret_env", spec.secret_env.as_ref()),
        ("secret_env_wo", spec.secret_env_wo.as_ref()),
    ];
    let mut seen: std::collections::BTreeMap<&str, &str> = Default::default();
    for (attr, map) in groups {
        for k in map.into_iter().flat_map(|m| m.keys()) {
            let at = with(path(&[attr]), Seg::Key(k.clone()));
            if !is_env_name(k) {
                r.add(at, "Invalid environment variable name", format!("{attr} key {k:?} must start with a letter or '_' and contain only letters, digits, '_', '-' and '.' (e.g. \"DATABASE_URL\")"));
            } else if let Some(other) = seen.insert(k, attr) {
                r.related(
                    at,
                    vec![with(path(&[other]), Seg::Key(k.clone()))],
                    "Environment variable set twice",
                    format!("{k:?} is set in both {other} and {attr}; keep it in one of them"),
                );
            }
        }
    }
}

fn check_resources(r: &mut Report, spec: &Spec) {
    let mut parsed = |attr: &str, v: &str| match Quantity::parse(v) {
        Ok(q) if q.millis() > 0 => Some(q),
        Ok(_) => {
            r.add(
                path(&[attr]),
                "Invalid quantity",
                format!("{attr} {v:?} must be greater than zero; use {ACCEPTED_FORMS}"),
            );
            None
        }
        Err(e) => {
            r.add(path(&[attr]), "Invalid quantity", format!("{attr}: {e}"));
            None
        }
    };
    let cpu = parsed("cpu", &spec.cpu);
    let memory = parsed("memory", &spec.memory);
    // A limit equal to its request (the default) is reported once, at the request.
    let cpu_limit = if spec.cpu_limit == spec.cpu {
        cpu
    } else {
        parsed("cpu_limit", &spec.cpu_limit)
    };
    let memory_limit = if spec.memory_limit == spec.memory {
        memory
    } else {
        parsed("memory_limit", &spec.memory_limit)
    };
    let disk = parsed("ephemeral_storage", &spec.ephemeral_storage);
    let disk_limit = if spec.ephemeral_storage_limit == spec.ephemeral_storage {
        disk
    } else {
        parsed("ephemeral_storage_limit", &spec.ephemeral_storage_limit)
    };
    for (req, lim, req_attr, lim_attr, rv, lv) in [
        (
            cpu,
            cpu_limit,
            "cpu",
            "cpu_limit",
            &spec.cpu,
            &spec.cpu_limit,
        ),
        (
            memory,
            memory_limit,
            "memory",
            "memory_limit",
            &spec.memory,
            &spec.memory_limit,
        ),
        (
            disk,
            disk_limit,
            "ephemeral_storage",
            "ephemeral_storage_limit",
            &spec.ephemeral_storage,
            &spec.ephemeral_storage_limit,
        ),
    ] {
        if let (Some(req), Some(lim)) = (req, lim)
            && lim < req
        {
            r.related(
                path(&[lim_attr]),
                vec![path(&[req_attr])],
                "Limit below request",
                format!("{lim_attr} {lv:?} is less than {req_attr} {rv:?}; a limit must be at least the request"),
            );
        }
    }
}

fn int_or_percent(v: &str) -> Option<(i64, bool)> {
    if let Some(p) = v.strip_suffix('%') {
        p.parse::<i64>()
            .ok()
            .filter(|n| (0..=100).contains(n))
            .map(|n| (n, true))
    } else {
        v.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (n, false))
    }
}

fn check_scaling(r: &mut Report, spec: &Spec) {
    if !(0..=1000).contains(&spec.replicas) {
        r.add(
            path(&["replicas"]),
            "Invalid replicas",
            format!("replicas {} must be between 0 and 1000", spec.replicas),
        );
    }
    let a = &spec.autoscale;
    if a.enabled {
        if !(1..=1000).contains(&a.min_replicas) {
            r.add(
                path(&["autoscale", "min_replicas"]),
                "Invalid autoscaling bound",
                format!(
                    "autoscale.min_replicas {} must be between 1 and 1000",
                    a.min_replicas
                ),
            );
        }
        if a.max_replicas < a.min_replicas {
            r.related(
                path(&["autoscale", "max_replicas"]),
                vec![path(&["autoscale", "min_replicas"]), path(&["replicas"])],
                "Autoscaling bounds reversed",
                format!("autoscale.max_replicas {} is below autoscale.min_replicas {}; max_replicas must be at least min_replicas", a.max_replicas, a.min_replicas),
            );
        } else if a.max_replicas > 1000 {
            r.add(
                path(&["autoscale", "max_replicas"]),
                "Invalid autoscaling bound",
                format!(
                    "autoscale.max_replicas {} must be at most 1000",
                    a.max_replicas
                ),
            );
        }
        for (attr, t) in [
            ("target_cpu_utilization", a.target_cpu_utilization),
            ("target_memory_utilization", a.target_memory_utilization),
        ] {
            if let Some(t) = t
                && !(1..=1000).contains(&t)
            {
                r.add(path(&["autoscale", attr]), "Invalid autoscaling target", format!("autoscale.{attr} {t} must be a percentage of the request between 1 and 1000"));
            }
        }
        if a.target_cpu_utilization.is_none() && a.target_memory_utilization.is_none() {
            r.add(path(&["autoscale", "target_cpu_utilization"]), "No autoscaling target", "autoscaling needs target_cpu_utilization or target_memory_utilization (or set autoscale.enabled = false)".to_string());
        }
    }
    let b = &spec.disruption_budget;
    if b.enabled {
        match (&b.max_unavailable, &b.min_available) {
            (Some(_), Some(_)) => r.related(
                path(&["disruption_budget", "min_available"]),
                vec![path(&["disruption_budget", "max_unavailable"])],
                "Conflicting disruption budget",
                "set either disruption_budget.max_unavailable or disruption_budget.min_available, not both".to_string(),
            ),
            (Some(v), None) | (None, Some(v)) => {
                let attr = if b.max_unavailable.is_some() { "max_unavailable" } else { "min_available" };
                match int_or_percent(v) {
                    None => r.add(path(&["disruption_budget", attr]), "Invalid disruption budget", format!("disruption_budget.{attr} {v:?} must be a whole number (\"1\") or a percentage (\"25%\")")),
                    Some((0, pct)) if attr == "max_unavailable" => r.add(path(&["disruption_budget", attr]), "Disruption budget blocks node drains", format!("disruption_budget.max_unavailable = {v:?} never lets a node drain evict a pod; use at least {}", if pct { "1% (or a whole number such as \"1\")" } else { "1 (or a percentage)" })),
                    Some((100, true)) if attr == "min_available" => r.add(path(&["disruption_budget", attr]), "Disruption budget blocks node drains", "disruption_budget.min_available = \"100%\" never lets a node drain evict a pod; use a smaller percentage or max_unavailable".to_string()),
                    Some((n, false)) if attr == "min_available" => {
                        let floor = if spec.autoscale.enabled { spec.autoscale.min_replicas } else { spec.replicas };
                        if n >= floor && floor > 0 {
                            r.related(path(&["disruption_budget", attr]), vec![path(&["replicas"]), path(&["autoscale", "min_replicas"])], "Disruption budget blocks node drains", format!("disruption_budget.min_available {n} is not below the replica count {floor}, so no pod could ever be evicted during a node drain; use a smaller number or max_unavailable"));
                        }
                    }
                    _ => {}
                }
            }
            (None, None) => {}
        }
    }
}

fn check_service(r: &mut Report, spec: &Spec) {
    let s = &spec.service;
    if !matches!(s.type_.as_str(), "ClusterIP" | "NodePort" | "LoadBalancer") {
        r.add(path(&["service", "type"]), "Invalid service type", format!("service.type {:?} is not accepted; use \"ClusterIP\", \"NodePort\" or \"LoadBalancer\"", s.type_));
    }
    if let Some(p) = &s.external_traffic_policy {
        if !matches!(p.as_str(), "Local" | "Cluster") {
            r.add(path(&["service", "external_traffic_policy"]), "Invalid traffic policy", format!("service.external_traffic_policy {p:?} is not accepted; use \"Local\" or \"Cluster\""));
        } else if s.type_ == "ClusterIP" {
            r.related(path(&["service", "external_traffic_policy"]), vec![path(&["service", "type"])], "Traffic policy needs an external service", "service.external_traffic_policy applies only to service.type \"LoadBalancer\" or \"NodePort\"".to_string());
        }
    }
    if s.type_ != "ClusterIP" && spec.ports.is_empty() {
        r.related(
            path(&["service", "type"]),
            vec![path(&["port"]), path(&["ports"])],
            "Service without ports",
            "an external service needs a port: set port or ports".to_string(),
        );
    }
}

fn check_ingress(r: &mut Report, spec: &Spec) {
    let Some(ing) = &spec.ingress else { return };
    if spec.ports.is_empty() {
        r.related(
            path(&["ingress"]),
            vec![path(&["port"]), path(&["ports"])],
            "Ingress without a port",
            "an ingress routes to the app's first port: set port (or ports) as well".to_string(),
        );
    }
    if ing.hosts.is_empty() {
        r.add(
            path(&["ingress", "hosts"]),
            "Ingress without hosts",
            "ingress.hosts needs at least one host name, e.g. [\"shop.example.com\"]".to_string(),
        );
    }
    for (i, h) in ing.hosts.iter().enumerate() {
        let bare = h.strip_prefix("*.").unwrap_or(h);
        if !is_dns_subdomain(bare) || !bare.contains('.') {
            r.add(with(path(&["ingress", "hosts"]), Seg::Index(i)), "Invalid host", format!("ingress host {h:?} must be a fully qualified lowercase DNS name such as \"shop.example.com\" (a leading \"*.\" is allowed)"));
        }
    }
    if !ing.path.starts_with('/') {
        r.add(
            path(&["ingress", "path"]),
            "Invalid ingress path",
            format!("ingress.path {:?} must start with \"/\"", ing.path),
        );
    } else if ["//", "/./", "/../", "%2f", "%2F"]
        .iter()
        .any(|seq| ing.path.contains(seq))
        || ing.path.ends_with("/..")
        || ing.path.ends_with("/.")
        || ing.path.contains(char::is_whitespace)
    {
        // The API server refuses these sequences in a Prefix path, at apply.
        r.add(
            path(&["ingress", "path"]),
            "Invalid ingress path",
            format!(
                "ingress.path {:?} must not contain \"//\", \"/./\", \"/../\", \"%2f\" or spaces, nor end in \"/.\" or \"/..\"; use e.g. \"/shop\"",
                ing.path
            ),
        );
    }
    if let Some(c) = &ing.class_name
        && !is_dns_subdomain(c)
    {
        r.add(
            path(&["ingress", "class_name"]),
            "Invalid ingress class",
            format!("ingress.class_name {c:?} must be a DNS name such as \"nginx\" or \"alb\""),
        );
    }
    if let Some(i) = &ing.issuer
        && !is_dns_subdomain(i)
    {
        r.add(
            path(&["ingress", "issuer"]),
            "Invalid issuer",
            format!(
                "ingress.issuer {i:?} must name a cert-manager ClusterIssuer, e.g. \"letsencrypt\""
            ),
        );
    }
}

fn check_probe(r: &mut Report, spec: &Spec, attr: &str, probe: Option<&Probe>) {
    let Some(p) = probe.filter(|p| p.enabled) else {
        return;
    };
    let at = |f: &str| path(&[attr, f]);
    match (&p.http_path, p.tcp) {
        (Some(_), true) => r.related(
            at("tcp"),
            vec![at("http_path")],
            "Conflicting probe settings",
            format!(
                "{attr}: set either http_path (an HTTP GET) or tcp = true (a TCP connect), not both"
            ),
        ),
        (None, false) => r.add(
            at("http_path"),
            "Probe without a check",
            format!("{attr} needs http_path (e.g. \"/healthz\") or tcp = true"),
        ),
        (Some(path_), _) if !path_.starts_with('/') => r.add(
            at("http_path"),
            "Invalid probe path",
            format!("{attr}.http_path {path_:?} must start with \"/\""),
        ),
        _ => {}
    }
    match p.port {
        None => r.related(
            at("port"),
            vec![path(&["port"]), path(&["ports"])],
            "Probe without a port",
            format!("{attr} needs a port: set {attr}.port or give the app a port"),
        ),
        Some(port) if !spec.ports.iter().any(|x| x.container_port == port) => {
            let known: Vec<String> = spec
                .ports
                .iter()
                .map(|x| x.container_port.to_string())
                .collect();
            r.related(
                at("port"),
                vec![path(&["port"]), path(&["ports"])],
                "Probe port does not exist",
                format!(
                    "{attr}.port {port} is not one of the app's container ports [{}]",
                    known.join(", ")
                ),
            );
        }
        _ => {}
    }
    for (f, v, min) in [
        ("initial_delay_seconds", p.initial_delay_seconds, 0),
        ("period_seconds", p.period_seconds, 1),
        ("timeout_seconds", p.timeout_seconds, 1),
        ("failure_threshold", p.failure_threshold, 1),
        ("success_threshold", p.success_threshold, 1),
    ] {
        if v < min || v > 3600 {
            r.add(
                at(f),
                "Invalid probe setting",
                format!("{attr}.{f} {v} must be between {min} and 3600"),
            );
        }
    }
    if attr != "readiness_probe" && p.success_threshold != 1 {
        r.add(at("success_threshold"), "Invalid probe setting", format!("{attr}.success_threshold must be 1 (Kubernetes accepts other values only for readiness probes)"));
    }
}

fn check_lifecycle(r: &mut Report, spec: &Spec) {
    if !(0..=3600).contains(&spec.termination_grace_period) {
        r.add(
            path(&["termination_grace_period"]),
            "Invalid grace period",
            format!(
                "termination_grace_period {} must be between 0 and 3600 seconds",
                spec.termination_grace_period
            ),
        );
    }
    if spec.pre_stop_sleep < 0 {
        r.add(
            path(&["pre_stop_sleep"]),
            "Invalid pre-stop sleep",
            format!(
                "pre_stop_sleep {} must be 0 (off) or more seconds",
                spec.pre_stop_sleep
            ),
        );
    } else if spec.pre_stop_sleep > 0 && spec.pre_stop_sleep >= spec.termination_grace_period {
        r.related(path(&["pre_stop_sleep"]), vec![path(&["termination_grace_period"])], "Pre-stop sleep too long", format!("pre_stop_sleep {} must be shorter than termination_grace_period {} or the app is killed before it can shut down", spec.pre_stop_sleep, spec.termination_grace_period));
    }
    let t = &spec.topology_spread;
    if t.enabled && !(1..=100).contains(&t.max_skew) {
        r.add(
            path(&["topology_spread", "max_skew"]),
            "Invalid topology spread",
            format!(
                "topology_spread.max_skew {} must be between 1 and 100",
                t.max_skew
            ),
        );
    }
    if t.enabled && !is_qualified_name(&t.topology_key) {
        r.add(path(&["topology_spread", "topology_key"]), "Invalid topology key", format!("topology_spread.topology_key {:?} must be a node label key such as \"topology.kubernetes.io/zone\"", t.topology_key));
    }
    if spec.service_account.create || spec.service_account.name != spec.name {
        let n = &spec.service_account.name;
        if !is_dns_subdomain(n) {
            r.add(
                path(&["service_account", "name"]),
                "Invalid service account name",
                format!("service_account.name {n:?} must be a lowercase DNS name"),
            );
        } else if n == "default" {
            // Every pod of the namespace without its own account runs as `default`: an app
            // that owned (or annotated) it would give them all its identity.
            r.add(
                path(&["service_account", "name"]),
                "Shared service account",
                "service_account.name \"default\" is the namespace's account for every pod without one of its own; leave name unset (the app gets its own account, named like the app) or name one only this app uses".to_string(),
            );
        }
    }
}

/// Labels JKE sets itself; a user value would break selectors or pruning.
pub const RESERVED_LABELS: [&str; 3] = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
];

fn check_metadata(r: &mut Report, spec: &Spec) {
    for (k, v) in spec.labels.iter().flatten() {
        let at = with(path(&["labels"]), Seg::Key(k.clone()));
        if RESERVED_LABELS.contains(&k.as_str()) {
            r.add(at, "Reserved label", format!("label {k:?} is set by JKE itself (it selects the app's pods); choose another key"));
        } else if !is_qualified_name(k) {
            r.add(at, "Invalid label key", format!("label key {k:?} must be a name of at most 63 letters, digits, '-', '_' or '.', optionally prefixed by a DNS name and '/' (e.g. \"team\", \"example.com/tier\")"));
        } else if !is_label_value(v) {
            r.add(at, "Invalid label value", format!("label {k:?} has value {v:?}; label values are at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"));
        }
    }
    // Every map whose keys become annotation or label keys: the API server refuses a bad one
    // at apply, after earlier objects were written.
    let maps: [(&[&str], Option<&StringMap>); 6] = [
        (&["annotations"], spec.annotations.as_ref()),
        (&["pod_annotations"], spec.pod_annotations.as_ref()),
        (&["node_selector"], spec.node_selector.as_ref()),
        (
            &["service", "annotations"],
            spec.service.annotations.as_ref(),
        ),
        (
            &["service_account", "annotations"],
            spec.service_account.annotations.as_ref(),
        ),
        (
            &["ingress", "annotations"],
            spec.ingress.as_ref().and_then(|i| i.annotations.as_ref()),
        ),
    ];
    for (attr, map) in maps {
        let name = attr.join(".");
        for (k, v) in map.into_iter().flatten() {
            let at = with(path(attr), Seg::Key(k.clone()));
            if !is_qualified_name(k) {
                r.add(at, "Invalid key", format!("{name} key {k:?} must be a name of at most 63 letters, digits, '-', '_' or '.', optionally prefixed by a DNS name and '/'"));
            } else if name != "node_selector" && k.starts_with("jke.dev/") {
                r.add(at, "Reserved annotation", format!("{name} key {k:?} is JKE's own (the owner mark and settings it writes); choose another key"));
            } else if name == "node_selector" && !is_label_value(v) {
                r.add(at, "Invalid node selector value", format!("node_selector {k:?} has value {v:?}; node labels are at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"));
            }
        }
    }
}

fn check_rollout(r: &mut Report, spec: &Spec) {
    let ro = &spec.rollout;
    match parse_duration(&ro.timeout) {
        Some(d) if !d.is_zero() && d.as_secs() <= 24 * 3600 => {}
        _ => r.add(path(&["rollout", "timeout"]), "Invalid rollout timeout", format!("rollout.timeout {:?} must be a duration above zero and at most 24h: {DURATION_FORMS}", ro.timeout)),
    }
    if !(1..=86400).contains(&ro.progress_deadline_seconds) {
        r.add(
            path(&["rollout", "progress_deadline_seconds"]),
            "Invalid progress deadline",
            format!(
                "rollout.progress_deadline_seconds {} must be between 1 and 86400",
                ro.progress_deadline_seconds
            ),
        );
    }
    let surge = int_or_percent(&ro.max_surge);
    let unavailable = int_or_percent(&ro.max_unavailable);
    if surge.is_none() {
        r.add(
            path(&["rollout", "max_surge"]),
            "Invalid rollout setting",
            format!(
                "rollout.max_surge {:?} must be a whole number (\"1\") or a percentage (\"25%\")",
                ro.max_surge
            ),
        );
    }
    if unavailable.is_none() {
        r.add(path(&["rollout", "max_unavailable"]), "Invalid rollout setting", format!("rollout.max_unavailable {:?} must be a whole number (\"0\") or a percentage (\"25%\")", ro.max_unavailable));
    }
    if let (Some((0, _)), Some((0, _))) = (surge, unavailable) {
        r.related(path(&["rollout", "max_unavailable"]), vec![path(&["rollout", "max_surge"])], "Rollout cannot progress", "rollout.max_surge and rollout.max_unavailable are both zero; at least one must be above zero".to_string());
    }
}

/// Capabilities the Pod Security "baseline" standard allows a container to add (the
/// container runtime's default set); "restricted" allows only NET_BIND_SERVICE.
pub const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];
pub const RESTRICTED_CAPABILITIES: [&str; 1] = ["NET_BIND_SERVICE"];

fn check_security(r: &mut Report, spec: &Spec) {
    let s = &spec.security;
    if !PROFILES.contains(&s.profile.as_str()) {
        r.add(
            path(&["security", "profile"]),
            "Invalid security profile",
            format!(
                "security.profile {:?} is not a profile; use \"baseline\" (the default) or \"restricted\" (the Pod Security restricted standard)",
                s.profile
            ),
        );
        return;
    }
    for (attr, v) in [
        ("run_as_user", s.run_as_user),
        ("run_as_group", s.run_as_group),
        ("fs_group", s.fs_group),
    ] {
        if let Some(v) = v
            && !(0..=i64::from(i32::MAX)).contains(&v)
        {
            r.add(
                path(&["security", attr]),
                "Invalid ID",
                format!("security.{attr} {v} must be a user or group ID from 0 to 2147483647"),
            );
        }
    }
    if s.restricted() && s.run_as_user == Some(0) {
        r.related(
            path(&["security", "run_as_user"]),
            vec![path(&["security", "profile"])],
            "Setting breaks the security profile",
            "security.run_as_user 0 (root) breaks the profile \"restricted\", which runs containers as a non-root user; set a non-zero ID (e.g. 10001), or use profile \"baseline\" for an image that needs root".to_string(),
        );
    }
    let allowed: &[&str] = if s.restricted() {
        &RESTRICTED_CAPABILITIES
    } else {
        &BASELINE_CAPABILITIES
    };
    for (i, c) in s.capabilities_add.iter().enumerate() {
        let at = with(path(&["security", "capabilities_add"]), Seg::Index(i));
        if let Some(bare) = c.strip_prefix("CAP_") {
            r.add(at, "Invalid capability", format!("security.capabilities_add[{i}] {c:?}: write capabilities without the CAP_ prefix, e.g. {bare:?}"));
        } else if !allowed.contains(&c.as_str()) {
            r.related(
                at,
                vec![path(&["security", "profile"])],
                "Setting breaks the security profile",
                format!(
                    "security.capabilities_add[{i}] {c:?} breaks the profile {:?}, which allows adding only {}",
                    s.profile,
                    allowed.join(", ")
                ),
            );
        }
    }
}

/// `10.0.0.0/8` or `fd00::/8`.
fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

fn check_peers(r: &mut Report, attr: &str, peers: &[Peer]) {
    for (i, p) in peers.iter().enumerate() {
        let at = with(path(&["network_policy", attr]), Seg::Index(i));
        let what = format!("network_policy.{attr}[{i}]");
        let pods = p.namespace.is_some() || p.pod_labels.is_some();
        match &p.cidr {
            Some(_) if pods => r.add(at.clone(), "Conflicting peer settings", format!("{what} sets cidr with namespace or pod_labels; a peer is either pods (namespace and/or pod_labels) or an address range (cidr)")),
            Some(c) if !is_cidr(c) => r.add(with(at.clone(), Seg::Attr("cidr".into())), "Invalid address range", format!("{what}.cidr {c:?} is not an address range; use e.g. \"10.0.0.0/8\" or \"fd00::/8\"")),
            None if !pods => r.add(at.clone(), "Empty peer", format!("{what} selects nothing; set namespace (e.g. \"monitoring\"), pod_labels (e.g. {{ \"app.kubernetes.io/name\" = \"frontend\" }}), both, or cidr")),
            _ => {}
        }
        if let Some(ns) = &p.namespace
            && !is_dns_label(ns)
        {
            r.add(
                with(at.clone(), Seg::Attr("namespace".into())),
                "Invalid namespace",
                format!("{what}.namespace {ns:?} must be a namespace name (a DNS label)"),
            );
        }
        for (k, v) in p.pod_labels.iter().flatten() {
            if !is_qualified_name(k) || !is_label_value(v) {
                r.add(
                    with(with(at.clone(), Seg::Attr("pod_labels".into())), Seg::Key(k.clone())),
                    "Invalid label",
                    format!("{what}.pod_labels {k:?} = {v:?} is not a label: keys are names of at most 63 letters, digits, '-', '_' or '.' (optionally prefixed by a DNS name and '/'), values at most 63 of the same characters"),
                );
            }
        }
    }
}

fn check_network_policy(r: &mut Report, spec: &Spec) {
    let np = &spec.network_policy;
    check_peers(r, "allow_from", &np.allow_from);
    check_peers(r, "egress", np.egress.as_deref().unwrap_or_default());
    let ns = &np.ingress_controller_namespace;
    if !ns.is_empty() && !is_dns_label(ns) {
        r.add(
            path(&["network_policy", "ingress_controller_namespace"]),
            "Invalid namespace",
            format!("network_policy.ingress_controller_namespace {ns:?} must be a namespace name (a DNS label), or \"\" to allow no ingress controller in"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::application::spec::PortInput;

    use crate::app::application::spec::test_spec as spec;

    fn problems(s: &Spec) -> Vec<(String, String)> {
        validate(s)
            .into_iter()
            .map(|p| (format!("{:?}", p.path), p.detail))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(problems(&spec(|_| {})), vec![]);
    }

    #[test]
    fn each_bad_input_is_reported_at_its_path() {
        let s = spec(|i| i.memory = Some("2Gb".into()));
        let v = validate(&s);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].path, path(&["memory"]));
        assert!(v[0].detail.contains("\"2Gb\""));

        let s = spec(|i| {
            i.port = None;
            i.ports = Some(vec![
                PortInput {
                    container_port: Some(80),
                    ..Default::default()
                },
                PortInput {
                    container_port: Some(80),
                    ..Default::default()
                },
            ]);
        });
        let v = validate(&s);
        assert!(
            v.iter().any(|p| p.path
                == vec![
                    Seg::Attr("ports".into()),
                    Seg::Index(1),
                    Seg::Attr("container_port".into())
                ]),
            "{v:?}"
        );
    }

    #[test]
    fn a_setting_that_breaks_the_profile_names_the_profile_and_the_setting() {
        use crate::app::application::spec::SecurityInput;
        let s = spec(|i| {
            i.security = Some(SecurityInput {
                profile: Some("restricted".into()),
                run_as_user: Some(0),
                capabilities_add: Some(vec!["NET_BIND_SERVICE".into(), "NET_RAW".into()]),
                ..SecurityInput::default()
            })
        });
        let p = problems(&s);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].0.contains("run_as_user") && p[0].1.contains("\"restricted\""));
        assert!(
            p[1].0.contains("Index(1)")
                && p[1]
                    .1
                    .contains("\"NET_RAW\" breaks the profile \"restricted\"")
        );

        // Baseline allows the default container capabilities, not SYS_ADMIN; root is fine.
        let s = spec(|i| {
            i.security = Some(SecurityInput {
                run_as_user: Some(0),
                capabilities_add: Some(vec!["CHOWN".into(), "SYS_ADMIN".into()]),
                ..SecurityInput::default()
            })
        });
        let p = problems(&s);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].1
                .contains("\"SYS_ADMIN\" breaks the profile \"baseline\"")
        );

        let s = spec(|i| {
            i.security = Some(SecurityInput {
                profile: Some("privileged".into()),
                ..SecurityInput::default()
            })
        });
        let p = problems(&s);
        assert!(
            p[0].1
                .contains("\"baseline\" (the default) or \"restricted\""),
            "{p:?}"
        );
    }

    #[test]
    fn network_policy_peers_are_pods_or_an_address_range() {
        use crate::app::application::spec::{NetworkPolicyInput, Peer};
        let peer = |ns: Option<&str>, cidr: Option<&str>| Peer {
            namespace: ns.map(Into::into),
            pod_labels: None,
            cidr: cidr.map(Into::into),
        };
        let s = spec(|i| {
            i.network_policy = Some(NetworkPolicyInput {
                allow_from: Some(vec![
                    peer(Some("monitoring"), None),
                    peer(None, Some("10.0.0.0/8")),
                    peer(Some("x"), Some("10.0.0.0/8")),
                    peer(None, None),
                    peer(None, Some("10.0.0.0/33")),
                ]),
                egress: Some(vec![peer(Some("Bad_NS"), None)]),
                ..NetworkPolicyInput::default()
            })
        });
        let p = problems(&s);
        let details: Vec<&str> = p.iter().map(|(_, d)| d.as_str()).collect();
        assert_eq!(details.len(), 4, "{p:?}");
        assert!(details[0].starts_with("network_policy.allow_from[2] sets cidr with namespace"));
        assert!(details[1].starts_with("network_policy.allow_from[3] selects nothing"));
        assert!(details[2].starts_with("network_policy.allow_from[4].cidr \"10.0.0.0/33\""));
        assert!(details[3].starts_with("network_policy.egress[0].namespace \"Bad_NS\""));
    }

    #[test]
    fn an_ephemeral_storage_limit_below_its_request_is_refused() {
        let s = spec(|i| {
            i.ephemeral_storage = Some("4Gi".into());
            i.ephemeral_storage_limit = Some("1Gi".into());
        });
        let v = validate(&s);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].path, path(&["ephemeral_storage_limit"]));
    }

    #[test]
    fn one_port_number_may_serve_tcp_and_udp_and_a_budget_must_allow_evictions() {
        let port = |n: i64, protocol: &str| PortInput {
            container_port: Some(n),
            protocol: Some(protocol.into()),
            name: Some(format!("{}-{n}", protocol.to_lowercase())),
            ..Default::default()
        };
        let s = spec(|i| {
            i.port = None;
            i.ports = Some(vec![port(53, "UDP"), port(53, "TCP")]);
        });
        assert_eq!(problems(&s), vec![]);
        let s = spec(|i| {
            i.port = None;
            i.ports = Some(vec![port(53, "UDP"), port(53, "UDP")]);
        });
        assert!(
            problems(&s)[0]
                .1
                .contains("container_port 53 with protocol UDP")
        );

        use crate::app::application::spec::DisruptionBudgetInput;
        for (max, min) in [(Some("0%"), None), (None, Some("100%"))] {
            let s = spec(|i| {
                i.disruption_budget = Some(DisruptionBudgetInput {
                    max_unavailable: max.map(Into::into),
                    min_available: min.map(Into::into),
                    ..Default::default()
                })
            });
            let p = problems(&s);
            assert!(
                p.len() == 1 && p[0].1.contains("never lets a node drain evict a pod"),
                "{p:?}"
            );
        }
    }
}
