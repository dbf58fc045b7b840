//! Checks of the pod's settings: grace period and pre-stop sleep, topology spread, service
//! account, and the security profile with the capabilities it allows.

use super::with;
use crate::app::application::spec::{PROFILES, Spec};
use crate::app::formats::{is_dns_subdomain, is_qualified_name};
use crate::app::report::{Report, Seg, path};

pub(super) fn check_lifecycle(r: &mut Report, spec: &Spec) {
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

pub(super) fn check_security(r: &mut Report, spec: &Spec) {
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
