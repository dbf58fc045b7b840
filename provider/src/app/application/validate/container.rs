//! Checks of the app's container: its ports, environment variables, resource requests and
//! limits, and probes.

use super::with;
use crate::app::application::spec::{Probe, Spec, StringMap};
use crate::app::quantity::{ACCEPTED_FORMS, Quantity};
use crate::app::report::{Report, Seg, path};
use std::collections::BTreeSet;

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

pub(super) fn check_ports(r: &mut Report, spec: &Spec) {
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

pub(super) fn check_env(r: &mut Report, spec: &Spec) {
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

pub(super) fn check_resources(r: &mut Report, spec: &Spec) {
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

pub(super) fn check_probe(r: &mut Report, spec: &Spec, attr: &str, probe: Option<&Probe>) {
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
