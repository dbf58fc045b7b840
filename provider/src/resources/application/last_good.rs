//! The last version of an app whose rollout finished, kept in the resource's private data
//! while a newer version's rollout is unfinished.
//!
//! An apply cut short during its rollout wait (provider killed, Ctrl-C, API server away)
//! leaves the unfinished version in the next apply's prior state (a Read takes it from the
//! cluster, or the apply returned it). Rolling back to that prior state would re-apply the
//! broken version, so the version to return to travels in Terraform's private data instead,
//! which Terraform stores beside the state and hands from Read to Plan to Apply.
//!
//! It holds no secrets: write-only values are never stored, and neither are `secret_env`'s
//! values; a rollback to it keeps the current ones (as it does write-only values).

use super::plan;
use crate::app::application::spec::Spec;
use crate::app::application::validate;
use crate::plugin::Value;
use crate::resources::convert;
use serde_json::json;

/// Names the layout of the bytes, so another layout (an older provider's) is ignored.
const FORMAT: &str = "jke_application/last_good/1";

/// The bytes of private data that remember `spec` as the last good version (none for none).
pub fn encode(spec: Option<&Spec>) -> Vec<u8> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    let mut state = serde_json::to_value(spec).unwrap_or_default();
    if let Some(o) = state.as_object_mut() {
        o.insert("secret_env".into(), serde_json::Value::Null);
        o.insert("secret_env_wo".into(), serde_json::Value::Null);
    }
    serde_json::to_vec(&json!({ "format": FORMAT, "state": state })).unwrap_or_default()
}

/// The last good version of app `id` in private data. Bytes that do not hold one for this
/// app (empty, another layout, garbled, another app's) give none, with a warning unless
/// empty: the caller falls back to the prior state.
pub fn decode(private: &[u8], id: &str) -> Option<Spec> {
    if private.is_empty() {
        return None;
    }
    match parse(private, id) {
        Ok(spec) => Some(spec),
        Err(why) => {
            tracing::warn!(app = %id, %why, "ignoring the resource's private data");
            None
        }
    }
}

fn parse(private: &[u8], id: &str) -> Result<Spec, String> {
    let stored: serde_json::Value =
        serde_json::from_slice(private).map_err(|e| format!("not JSON: {e}"))?;
    if stored.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err("not a last good version of this provider".into());
    }
    let state = stored.get("state").cloned().unwrap_or_default();
    let value: Value = convert::from_json(&state, plan::resource_type());
    let (spec, _) = plan::decode_state(&value).map_err(|d| format!("{d:?}"))?;
    if spec.id() != id {
        return Err(format!("it is the version of {:?}", spec.id()));
    }
    // Only a version that could have been applied is worth returning to.
    let problems = validate::validate(&spec);
    if let Some(p) = problems.first() {
        return Err(format!("invalid version: {}", p.detail));
    }
    Ok(spec)
}

/// The version a failed rollout returns to: the last good one when known, else the prior
/// state's. The secret values stay those of `current`, the version being applied.
pub fn rollback_target(
    last_good: Option<Spec>,
    prior: Option<&Spec>,
    current: &Spec,
) -> Option<Spec> {
    let from_private = last_good.is_some();
    let mut target = last_good.or_else(|| prior.cloned())?;
    if from_private {
        // Its secret values were not stored: the current ones stand in.
        target.secret_env = current.secret_env.clone();
    }
    // Write-only values of an earlier version were never seen.
    target.secret_env_wo = current.secret_env_wo.clone();
    Some(target)
}

/// The last good version after a Read that found `live` (the cluster's version), given the
/// one remembered (`kept`) and the prior state's (`prior`): none once the live version has
/// rolled out; otherwise the one remembered, or else the prior state's when the live
/// version differs from it (an apply that never returned: Terraform kept the prior state).
pub fn after_read(kept: Option<Spec>, prior: &Spec, live: &Spec, rolled_out: bool) -> Option<Spec> {
    if rolled_out {
        return None;
    }
    kept.or_else(|| (!same_version(prior, live)).then(|| prior.clone()))
}

/// Whether two specs are the same version, secret values aside (never compared here: the
/// write-only ones are not known to a Read).
fn same_version(a: &Spec, b: &Spec) -> bool {
    let strip = |s: &Spec| Spec {
        secret_env_wo: None,
        ..s.clone()
    };
    strip(a) == strip(b)
}

/// The last good version after an apply that did not roll out: the one remembered before
/// it, else the prior state's version (none for a create).
pub fn after_failed_apply(kept: Option<Spec>, prior: Option<&Spec>) -> Option<Spec> {
    kept.or_else(|| prior.cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::application::spec::{Input, StringMap};

    fn spec(image: &str) -> Spec {
        Spec::resolve(
            &Input {
                name: Some("web".into()),
                namespace: Some("shop".into()),
                image: Some(image.into()),
                port: Some(80),
                ..Input::default()
            },
            &Input::default(),
        )
    }

    fn secrets(pairs: &[(&str, &str)]) -> Option<StringMap> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_spec_round_trips_through_private_data() {
        let mut s = spec("nginx:1.27");
        s.replicas = 3;
        s.node_selector = Some(secrets(&[("pool", "a")]).unwrap_or_default());
        let back = decode(&encode(Some(&s)), "shop/web");
        assert_eq!(back, Some(s));
        assert!(encode(None).is_empty());
        assert_eq!(decode(&[], "shop/web"), None);
    }

    #[test]
    fn private_data_holds_no_secret_values() {
        let mut s = spec("nginx:1.27");
        s.secret_env = secrets(&[("DB_PASSWORD", "hunter2")]);
        s.secret_env_wo = secrets(&[("API_KEY", "s3cr3t")]);
        s.secret_env_version = Some(2);
        let bytes = encode(Some(&s));
        let text = String::from_utf8_lossy(&bytes);
        for secret in ["hunter2", "s3cr3t", "DB_PASSWORD", "API_KEY"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        let back = decode(&bytes, "shop/web");
        assert_eq!(back.as_ref().map(|b| b.secret_env.clone()), Some(None));
        assert_eq!(back.and_then(|b| b.secret_env_version), Some(2));
    }

    #[test]
    fn garbled_or_foreign_private_data_is_ignored() {
        let other_app = {
            let mut s = spec("nginx:1.27");
            s.name = "api".into();
            encode(Some(&s))
        };
        let invalid = {
            let mut s = spec("nginx:1.27");
            s.replicas = -4;
            encode(Some(&s))
        };
        for bytes in [
            b"\xff\x00garbage".to_vec(),
            b"{}".to_vec(),
            b"[1,2]".to_vec(),
            br#"{"format":"jke_application/last_good/0","state":{}}"#.to_vec(),
            br#"{"format":"jke_application/last_good/1"}"#.to_vec(),
            br#"{"format":"jke_application/last_good/1","state":{"name":7,"port":"x"}}"#.to_vec(),
            br#"{"format":"jke_application/last_good/1","state":{"replicas":1.5}}"#.to_vec(),
            other_app,
            invalid,
        ] {
            assert_eq!(decode(&bytes, "shop/web"), None, "{bytes:?}");
        }
    }

    #[test]
    fn a_rollback_returns_to_the_last_good_version_else_the_prior_state() {
        let good = spec("nginx:1.27");
        let broken = spec("nginx:1.28");
        let mut current = spec("nginx:1.29");
        current.secret_env = secrets(&[("K", "now")]);
        current.secret_env_wo = secrets(&[("W", "now")]);
        let target = rollback_target(Some(good.clone()), Some(&broken), &current);
        assert_eq!(
            target.as_ref().map(|t| t.image.as_str()),
            Some("nginx:1.27")
        );
        assert_eq!(
            target.as_ref().and_then(|t| t.secret_env.clone()),
            current.secret_env
        );
        assert_eq!(target.and_then(|t| t.secret_env_wo), current.secret_env_wo);
        // Without one remembered: the prior state, its stored secret values with it.
        let mut prior = good.clone();
        prior.secret_env = secrets(&[("K", "before")]);
        let target = rollback_target(None, Some(&prior), &current);
        assert_eq!(
            target.as_ref().and_then(|t| t.secret_env.clone()),
            prior.secret_env
        );
        assert_eq!(target.and_then(|t| t.secret_env_wo), current.secret_env_wo);
        assert_eq!(rollback_target(None, None, &current), None);
    }

    #[test]
    fn a_read_remembers_the_prior_state_while_a_different_live_version_is_unfinished() {
        let good = spec("nginx:1.27");
        let broken = spec("nginx:1.28");
        // Killed apply: state kept the good version, the cluster runs the broken one.
        assert_eq!(after_read(None, &good, &broken, false), Some(good.clone()));
        // Already remembered: kept, whatever the prior state now says.
        assert_eq!(
            after_read(Some(good.clone()), &broken, &broken, false),
            Some(good.clone())
        );
        // The prior state is the live version: nothing better to remember.
        assert_eq!(after_read(None, &broken, &broken, false), None);
        // Rolled out: the live version is the good one now.
        assert_eq!(after_read(Some(good.clone()), &good, &broken, true), None);
    }

    #[test]
    fn a_failed_apply_remembers_the_earliest_good_version() {
        let good = spec("nginx:1.27");
        let broken = spec("nginx:1.28");
        assert_eq!(
            after_failed_apply(Some(good.clone()), Some(&broken)),
            Some(good.clone())
        );
        assert_eq!(after_failed_apply(None, Some(&good)), Some(good.clone()));
        assert_eq!(after_failed_apply(None, None), None);
    }
}
