//! Checks of how traffic reaches the app and leaves it: the Service, the Ingress, and the
//! network policy's peers.

use super::with;
use crate::app::application::spec::{Peer, Spec};
use crate::app::formats::{is_dns_label, is_dns_subdomain, is_label_value, is_qualified_name};
use crate::app::report::{Report, Seg, path};

pub(super) fn check_service(r: &mut Report, spec: &Spec) {
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

pub(super) fn check_ingress(r: &mut Report, spec: &Spec) {
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

pub(super) fn check_network_policy(r: &mut Report, spec: &Spec) {
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
