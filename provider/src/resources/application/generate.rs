//! GenerateResourceConfig for `jke_application`: the block `-generate-config-out` writes.
//!
//! For an app JKE made, the shortest configuration whose plan (its settings resolved over
//! the provider's `defaults` by `Spec::resolve`) is exactly the imported state: every setting
//! equal to what it would resolve to anyway is left out, so the import plans with no changes.
//! For a Deployment JKE did not make, only the settings an app engineer chose are carried
//! over ([`observe::TAKEN_OVER`]); the rest is left to JKE's defaults, so the plan after the
//! import shows what JKE adds or changes (disruption budget, network policy, labels, ...).

use super::plan::{self, computed_only, resource_type};
use crate::app::application::observe;
use crate::app::application::spec::{Input, Spec};
use crate::plugin::{AttrPath, Diagnostics, Type, Value};
use crate::resources::convert;
use serde_json::Value as Json;

/// Attributes always written, even when they equal a default: they name the app.
const ALWAYS: [&str; 2] = ["name", "namespace"];

/// The configuration for the app in `state`, over the provider's `defaults`.
pub fn generate(state: &Value, defaults: &Input) -> Result<Value, Diagnostics> {
    let (mut target, drift) = plan::decode_state(state)?;
    let mut unknowns = Vec::new();
    let mut config = convert::without(
        convert::to_json(state, resource_type(), &AttrPath::root(), &mut unknowns),
        computed_only(),
    );
    drop_nulls(&mut config);
    if !observe::made_by_jke(&drift) {
        // Keep what the engineer chose; JKE's defaults decide the rest.
        if let Some(o) = config.as_object_mut() {
            o.retain(|k, _| observe::TAKEN_OVER.contains(&k.as_str()));
        }
        match resolved(&config, defaults) {
            Some(s) => target = s,
            None => return Ok(convert::from_json(&config, resource_type())),
        }
    }
    let same = |c: &Json| resolved(c, defaults).is_some_and(|s| s == target);
    if same(&config) {
        prune(&mut config, &mut Vec::new(), resource_type(), &same);
    }
    Ok(convert::from_json(&config, resource_type()))
}

fn resolved(config: &Json, defaults: &Input) -> Option<Spec> {
    serde_json::from_value::<Input>(config.clone())
        .ok()
        .map(|i| Spec::resolve(&i, defaults))
}

fn drop_nulls(j: &mut Json) {
    match j {
        Json::Object(o) => {
            o.retain(|_, v| !v.is_null());
            o.values_mut().for_each(drop_nulls);
        }
        Json::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn at<'a>(j: &'a mut Json, path: &[Step]) -> Option<&'a mut Json> {
    path.iter().try_fold(j, |j, s| match s {
        Step::Key(k) => j.get_mut(k.as_str()),
        Step::Index(i) => j.get_mut(*i),
    })
}

/// Leave out, one at a time and in attribute order, every setting of the object at `path`
/// (of type `ty`) whose absence still resolves to the same app; recurse into nested
/// attributes that must stay. Maps and primitive lists are data and stay whole.
fn prune(root: &mut Json, path: &mut Vec<Step>, ty: &Type, same: &dyn Fn(&Json) -> bool) {
    let Type::Object(attrs) = ty else {
        return;
    };
    let keys: Vec<String> = match at(root, path).and_then(|o| o.as_object()) {
        Some(o) => o.keys().cloned().collect(),
        None => return,
    };
    for k in keys {
        if path.is_empty() && ALWAYS.contains(&k.as_str()) {
            continue;
        }
        let Some(removed) = at(root, path)
            .and_then(Json::as_object_mut)
            .and_then(|o| o.remove(&k))
        else {
            continue;
        };
        if same(root) {
            continue;
        }
        if let Some(o) = at(root, path).and_then(Json::as_object_mut) {
            o.insert(k.clone(), removed);
        }
        let Some(child_ty) = attrs.get(&k) else {
            continue;
        };
        path.push(Step::Key(k.clone()));
        match child_ty {
            Type::Object(_) => prune(root, path, child_ty, same),
            Type::List(elem) if matches!(**elem, Type::Object(_)) => {
                let n = at(root, path)
                    .and_then(|l| l.as_array())
                    .map_or(0, Vec::len);
                for i in 0..n {
                    path.push(Step::Index(i));
                    prune(root, path, elem, same);
                    path.pop();
                }
            }
            _ => {}
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::application::bundle;
    use crate::app::application::spec::{AutoscaleInput, Input};
    use std::collections::BTreeMap;

    fn state_of(spec: &Spec, drift: &BTreeMap<String, String>) -> Value {
        plan::encode_state(spec, &bundle::render(spec), drift, None)
    }

    fn set(config: &Value) -> Vec<String> {
        match config {
            Value::Object(m) => m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    fn generated(state: &Value, defaults: &Input) -> Value {
        generate(state, defaults)
            .map_err(|d| format!("{d:?}"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The plan of a generated configuration after import: what `planned_state` makes of it,
    /// with the owner mark kept from the imported state (here none), as `plan` keeps it.
    fn planned(config: &Value, defaults: &Input) -> Value {
        let mut p = plan::planned_state(config, defaults, false)
            .map(|(_, p, _)| p)
            .map_err(|d| format!("{d:?}"))
            .unwrap_or_else(|e| panic!("{e}"));
        crate::resources::convert::set_at(
            &mut p,
            &[crate::plugin::PathStep::Attr("owner_id".into())],
            Value::Null,
        );
        p
    }

    #[test]
    fn a_default_app_generates_the_lines_a_person_writes_and_plans_to_its_state() {
        let spec = Spec::resolve(
            &Input {
                name: Some("web".into()),
                namespace: Some("shop".into()),
                image: Some("nginx:1.27".into()),
                port: Some(80),
                ..Input::default()
            },
            &Input::default(),
        );
        let state = state_of(&spec, &BTreeMap::new());
        let config = generated(&state, &Input::default());
        assert_eq!(set(&config), ["image", "name", "namespace", "port"]);
        assert_eq!(planned(&config, &Input::default()), state);
    }

    #[test]
    fn settings_that_differ_from_the_defaults_are_kept_down_to_the_nested_attribute() {
        let platform = Input {
            cpu: Some("500m".into()),
            ..Input::default()
        };
        let spec = Spec::resolve(
            &Input {
                name: Some("api".into()),
                namespace: Some("shop".into()),
                image: Some("api:2".into()),
                port: Some(8080),
                autoscale: Some(AutoscaleInput {
                    max_replicas: Some(4),
                    ..AutoscaleInput::default()
                }),
                env: Some(BTreeMap::from([("MODE".into(), "prod".into())])),
                ..Input::default()
            },
            &platform,
        );
        let state = state_of(&spec, &BTreeMap::new());
        let config = generated(&state, &platform);
        // cpu equals the platform's default: left out; max_replicas alone in autoscale.
        assert_eq!(
            set(&config),
            ["autoscale", "env", "image", "name", "namespace", "port"]
        );
        assert_eq!(
            config.get("autoscale").map(set),
            Some(vec!["max_replicas".to_string()])
        );
        assert_eq!(planned(&config, &platform), state);
        // Without the platform default the cpu is the app's own choice and is written.
        let alone = generated(&state, &Input::default());
        assert!(set(&alone).contains(&"cpu".to_string()), "{alone:?}");
        assert_eq!(planned(&alone, &Input::default()), state);
    }

    #[test]
    fn a_foreign_deployment_keeps_its_choices_and_gets_jke_defaults_for_the_rest() {
        let mut spec = Spec::resolve(
            &Input {
                name: Some("legacy".into()),
                namespace: Some("shop".into()),
                image: Some("legacy:7".into()),
                port: Some(8080),
                replicas: Some(3),
                autoscale: Some(AutoscaleInput {
                    enabled: Some(false),
                    ..AutoscaleInput::default()
                }),
                ..Input::default()
            },
            &Input::default(),
        );
        // What import finds on a plain Deployment and Service.
        spec.disruption_budget.enabled = false;
        spec.network_policy.enabled = false;
        spec.service_account.create = false;
        spec.pre_stop_sleep = 0;
        let drift = BTreeMap::from([(
            "Deployment/legacy: metadata.labels.app.kubernetes.io/managed-by".to_string(),
            "(removed)".to_string(),
        )]);
        let state = state_of(&spec, &drift);
        let config = generated(&state, &Input::default());
        assert_eq!(
            set(&config),
            [
                "autoscale",
                "image",
                "name",
                "namespace",
                "port",
                "replicas"
            ]
        );
        let plan = planned(&config, &Input::default());
        let objects = |v: &Value| match v.get("objects") {
            Some(Value::List(l)) => l
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect(),
            _ => Vec::<String>::new(),
        };
        let added: Vec<String> = objects(&plan)
            .into_iter()
            .filter(|o| !objects(&state).contains(o))
            .collect();
        assert_eq!(
            added,
            [
                "ServiceAccount/legacy",
                "PodDisruptionBudget/legacy",
                "NetworkPolicy/legacy"
            ]
        );
    }
}
