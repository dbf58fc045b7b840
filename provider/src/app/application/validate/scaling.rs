//! Checks of how many pods run and how they are replaced: replicas, autoscaling, the
//! disruption budget and the rollout (the last two share `int_or_percent`).

use crate::app::application::spec::Spec;
use crate::app::formats::{DURATION_FORMS, parse_duration};
use crate::app::report::{Report, path};

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

pub(super) fn check_scaling(r: &mut Report, spec: &Spec) {
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

pub(super) fn check_rollout(r: &mut Report, spec: &Spec) {
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
