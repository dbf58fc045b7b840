//! The objects that size the app and guard its availability: the HorizontalPodAutoscaler
//! and the PodDisruptionBudget.

use super::{int_or_string, meta, selector, to_i32};
use crate::app::application::spec::Spec;
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

pub(super) fn hpa(spec: &Spec) -> HorizontalPodAutoscaler {
    let a = &spec.autoscale;
    let metric = |resource: &str, target: i64| MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: resource.into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(to_i32(target)),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    };
    let mut metrics = Vec::new();
    if let Some(t) = a.target_cpu_utilization {
        metrics.push(metric("cpu", t));
    }
    if let Some(t) = a.target_memory_utilization {
        metrics.push(metric("memory", t));
    }
    HorizontalPodAutoscaler {
        metadata: meta(spec, &spec.name, None),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: spec.name.clone(),
            },
            min_replicas: Some(to_i32(a.min_replicas)),
            max_replicas: to_i32(a.max_replicas),
            metrics: Some(metrics),
            ..HorizontalPodAutoscalerSpec::default()
        }),
        ..HorizontalPodAutoscaler::default()
    }
}

pub(super) fn pdb(spec: &Spec) -> PodDisruptionBudget {
    let b = &spec.disruption_budget;
    PodDisruptionBudget {
        metadata: meta(spec, &spec.name, None),
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(LabelSelector {
                match_labels: Some(selector(spec)),
                ..LabelSelector::default()
            }),
            max_unavailable: b.max_unavailable.as_deref().map(int_or_string),
            min_available: b.min_available.as_deref().map(int_or_string),
            // Pods that are not ready protect nothing; let drains evict them.
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
        }),
        ..PodDisruptionBudget::default()
    }
}
