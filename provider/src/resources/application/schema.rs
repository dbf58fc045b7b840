//! The `jke_application` schema: the attribute contract, with a description for each.
//!
//! The same definition serves the resource and the provider's `defaults` attribute (where
//! every setting is optional and nothing is computed), so the two never drift apart.

use crate::plugin::{Attribute, Block, IdentityAttribute, IdentitySchema, Nesting, Schema, Type};

/// Whether attributes are built for the resource or for the provider's `defaults`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Resource,
    Defaults,
}

pub const SCHEMA_VERSION: i64 = 0;

fn string_map() -> Type {
    Type::map(Type::String)
}

/// Optional and, on the resource, computed: the plan shows the value in force.
fn setting(mode: Mode, a: Attribute) -> Attribute {
    match mode {
        Mode::Resource => a.optional().computed(),
        Mode::Defaults => a.optional(),
    }
}

fn nested(mode: Mode, name: &str, attrs: Vec<Attribute>, description: &str) -> Attribute {
    setting(
        mode,
        Attribute::nested(name, Nesting::Single, attrs, description),
    )
}

fn probe(mode: Mode, name: &str, what: &str, default: &str) -> Attribute {
    let a = Attribute::nested(
        name,
        Nesting::Single,
        vec![
            setting(
                mode,
                Attribute::typed("enabled", Type::Bool, "Whether the probe is set."),
            ),
            setting(
                mode,
                Attribute::typed(
                    "http_path",
                    Type::String,
                    "Path for an HTTP GET check, e.g. `/healthz`.",
                ),
            ),
            setting(
                mode,
                Attribute::typed(
                    "tcp",
                    Type::Bool,
                    "Check by opening a TCP connection (the default when no `http_path` is given).",
                ),
            ),
            setting(
                mode,
                Attribute::typed(
                    "port",
                    Type::Number,
                    "Container port to probe. Default: the app's first port.",
                ),
            ),
            setting(
                mode,
                Attribute::typed(
                    "initial_delay_seconds",
                    Type::Number,
                    "Seconds after start before the first check. Default 0.",
                ),
            ),
            setting(
                mode,
                Attribute::typed(
                    "period_seconds",
                    Type::Number,
                    "Seconds between checks. Default 10.",
                ),
            ),
            setting(
                mode,
                Attribute::typed(
                    "timeout_seconds",
                    Type::Number,
                    "Seconds before a check times out. Default 1.",
                ),
            ),
            setting(
                mode,
                Attribute::typed(
                    "failure_threshold",
                    Type::Number,
                    "Failed checks in a row that count as failure. Default 3.",
                ),
            ),
            setting(
                mode,
                Attribute::typed(
                    "success_threshold",
                    Type::Number,
                    "Successful checks in a row that count as success. Default 1 (must be 1 except for readiness).",
                ),
            ),
        ],
        &format!("{what} {default}"),
    );
    match (mode, name) {
        (Mode::Resource, "readiness_probe") => a.optional().computed(),
        _ => a.optional(),
    }
}

/// The application settings shared by the resource and the provider's defaults.
pub fn settings(mode: Mode) -> Vec<Attribute> {
    let r = mode == Mode::Resource;
    let mut v = Vec::new();
    if r {
        v.push(
            Attribute::typed(
                "id",
                Type::String,
                "`namespace/name` of the app; also its import ID.",
            )
            .computed(),
        );
        v.push(Attribute::typed("name", Type::String, "Name of the app: a DNS label of at most 59 characters. Every object of the app carries it. Changing it replaces the app.").required());
    }
    v.push(setting(mode, Attribute::typed("namespace", Type::String, "Namespace of the app. Default: the provider's `defaults.namespace`, else `default`. Changing it replaces the app.")));
    if r {
        v.push(
            Attribute::typed(
                "image",
                Type::String,
                "Container image, e.g. `nginx:1.27` or an ECR image pinned by digest.",
            )
            .required(),
        );
        v.push(
            Attribute::typed(
                "command",
                Type::list(Type::String),
                "Entrypoint override (the image's ENTRYPOINT is used when unset).",
            )
            .optional(),
        );
        v.push(
            Attribute::typed(
                "args",
                Type::list(Type::String),
                "Arguments override (the image's CMD is used when unset).",
            )
            .optional(),
        );
        v.push(Attribute::typed("port", Type::Number, "Shorthand for one HTTP port: container and service port, named `http`. Conflicts with `ports`.").optional());
        v.push(
            Attribute::nested(
                "ports",
                Nesting::List,
                vec![
                    Attribute::typed("name", Type::String, "Port name (IANA service name, at most 15 characters). Default: `http` for the first port, `port-<number>` after it.").optional().computed(),
                    Attribute::typed("container_port", Type::Number, "Port the container listens on (1-65535).").required(),
                    Attribute::typed("service_port", Type::Number, "Port the Service exposes. Default: `container_port`.").optional().computed(),
                    Attribute::typed("protocol", Type::String, "`TCP` (default), `UDP` or `SCTP`.").optional().computed(),
                ],
                "Ports of the app. The first one receives ingress traffic and the default readiness probe. Computed from `port` when that is used.",
            )
            .optional()
            .computed(),
        );
    }
    v.push(setting(
        mode,
        Attribute::typed(
            "env",
            string_map(),
            "Environment variables. Replaces the provider's `defaults.env` when set.",
        ),
    ));
    if r {
        v.push(Attribute::typed("secret_env", string_map(), "Secret environment variables: stored in a Secret (`<name>-env`) and passed with envFrom. Values are kept in Terraform state (marked sensitive); use `secret_env_wo` to keep them out.").optional().sensitive());
        v.push(Attribute::typed("secret_env_wo", string_map(), "Write-only secret environment variables (Terraform >= 1.11): never stored in plan or state. Bump `secret_env_version` to roll out new values.").optional().sensitive().write_only());
        v.push(Attribute::typed("secret_env_version", Type::Number, "Version of the `secret_env_wo` values; changing it updates the Secret and restarts the pods.").optional());
    }
    v.push(setting(
        mode,
        Attribute::typed(
            "cpu",
            Type::String,
            "CPU request, e.g. `500m` or `2`. Default `1`.",
        ),
    ));
    v.push(setting(
        mode,
        Attribute::typed(
            "memory",
            Type::String,
            "Memory request, e.g. `512Mi`. Default `2Gi`.",
        ),
    ));
    v.push(setting(
        mode,
        Attribute::typed(
            "cpu_limit",
            Type::String,
            "CPU limit. Default: equal to `cpu`.",
        ),
    ));
    v.push(setting(
        mode,
        Attribute::typed(
            "memory_limit",
            Type::String,
            "Memory limit. Default: equal to `memory`.",
        ),
    ));
    v.push(setting(mode, Attribute::typed("ephemeral_storage", Type::String, "Scratch disk request (container writable layer, logs, `emptyDir`), e.g. `2Gi`. Default `1Gi`.")));
    v.push(setting(mode, Attribute::typed("ephemeral_storage_limit", Type::String, "Scratch disk limit: a pod that writes more is evicted instead of filling the node's disk. Default: equal to `ephemeral_storage`.")));
    v.push(setting(mode, Attribute::typed("replicas", Type::Number, "Number of pods when autoscaling is off; with autoscaling on, it becomes the default `autoscale.min_replicas` and the live count is left to the autoscaler. Default 2.")));
    v.push(nested(
        mode,
        "autoscale",
        vec![
            setting(mode, Attribute::typed("enabled", Type::Bool, "Whether a HorizontalPodAutoscaler manages the replica count. Default true.")),
            setting(mode, Attribute::typed("min_replicas", Type::Number, "Lowest replica count. Default: `replicas` if set, else 2.")),
            setting(mode, Attribute::typed("max_replicas", Type::Number, "Highest replica count. Default 10.")),
            setting(mode, Attribute::typed("target_cpu_utilization", Type::Number, "Average CPU use, in percent of the request, that the autoscaler aims for. Default 70.")),
            setting(mode, Attribute::typed("target_memory_utilization", Type::Number, "Average memory use, in percent of the request, to aim for. Default: not used.")),
        ],
        "Horizontal autoscaling (autoscaling/v2). Needs metrics-server in the cluster.",
    ));
    v.push(nested(
        mode,
        "disruption_budget",
        vec![
            setting(mode, Attribute::typed("enabled", Type::Bool, "Whether a PodDisruptionBudget protects the app during node drains and cluster upgrades. Default true.")),
            Attribute::typed("max_unavailable", Type::String, "Pods that may be down at once during voluntary disruptions: a number or a percentage. Default `1` (when `min_available` is not set).").optional().computed_if(r),
            setting(mode, Attribute::typed("min_available", Type::String, "Pods that must stay up: a number or a percentage. Conflicts with `max_unavailable`.")),
        ],
        "PodDisruptionBudget (policy/v1).",
    ));
    v.push(nested(
        mode,
        "service",
        vec![
            setting(mode, Attribute::typed("type", Type::String, "`ClusterIP` (default), `NodePort` or `LoadBalancer`.")),
            setting(mode, Attribute::typed("external_traffic_policy", Type::String, "`Local` or `Cluster`. Default `Local` for `LoadBalancer` and `NodePort` (keeps the client IP and avoids an extra hop), unset for `ClusterIP`.")),
            setting(mode, Attribute::typed("annotations", string_map(), "Annotations on the Service (e.g. for the AWS Load Balancer Controller).")),
        ],
        "The app's Service (created when the app has ports).",
    ));
    let ingress_attrs = {
        let mut i = Vec::new();
        if r {
            i.push(
                Attribute::typed(
                    "hosts",
                    Type::list(Type::String),
                    "Host names routed to the app, e.g. `[\"shop.example.com\"]`.",
                )
                .required(),
            );
        }
        i.push(setting(
            mode,
            Attribute::typed(
                "path",
                Type::String,
                "Path prefix routed to the app. Default `/`.",
            ),
        ));
        i.push(setting(mode, Attribute::typed("class_name", Type::String, "IngressClass. Default: the provider's `defaults.ingress.class_name`, else the cluster's default class.")));
        i.push(setting(
            mode,
            Attribute::typed(
                "tls",
                Type::Bool,
                "Serve HTTPS with a certificate from cert-manager. Default true.",
            ),
        ));
        i.push(setting(mode, Attribute::typed("issuer", Type::String, "cert-manager ClusterIssuer that signs the certificate. Default: the provider's `defaults.ingress.issuer`, else `letsencrypt`.")));
        i.push(setting(
            mode,
            Attribute::typed("annotations", string_map(), "Annotations on the Ingress."),
        ));
        i
    };
    v.push(Attribute::nested("ingress", Nesting::Single, ingress_attrs, "Ingress (networking.k8s.io/v1) routing `hosts` to the app's first port, with TLS through cert-manager.").optional());
    v.push(probe(
        mode,
        "readiness_probe",
        "Readiness probe: traffic goes only to pods that pass it.",
        "Default: a TCP check on the first port.",
    ));
    v.push(probe(
        mode,
        "liveness_probe",
        "Liveness probe: pods that fail it are restarted.",
        "Default: none.",
    ));
    v.push(probe(
        mode,
        "startup_probe",
        "Startup probe: holds the other probes until the app has started.",
        "Default: none.",
    ));
    v.push(setting(
        mode,
        Attribute::typed(
            "termination_grace_period",
            Type::Number,
            "Seconds a pod gets to shut down after SIGTERM. Default 30.",
        ),
    ));
    v.push(setting(mode, Attribute::typed("pre_stop_sleep", Type::Number, "Seconds a pod keeps serving after it is told to stop, so load balancers drain it before SIGTERM (preStop sleep). 0 turns it off. Default 5.")));
    v.push(nested(
        mode,
        "topology_spread",
        vec![
            setting(mode, Attribute::typed("enabled", Type::Bool, "Spread pods across zones. Soft: pods are never left pending for it. Default true.")),
            setting(mode, Attribute::typed("max_skew", Type::Number, "Largest allowed difference in pod count between zones. Default 1.")),
            setting(mode, Attribute::typed("topology_key", Type::String, "Node label that names the zone. Default `topology.kubernetes.io/zone`.")),
            setting(mode, Attribute::typed("spread_nodes", Type::Bool, "Also spread pods across nodes (`kubernetes.io/hostname`), so two replicas do not share a node when another node has room. Soft, like the zone spread. Default true.")),
        ],
        "Topology spread of the app's pods.",
    ));
    v.push(nested(
        mode,
        "service_account",
        vec![
            setting(mode, Attribute::typed("create", Type::Bool, "Create a ServiceAccount for the app. Default true.")),
            Attribute::typed("name", Type::String, "ServiceAccount name. Default: the app's name.").optional().computed_if(r),
            setting(mode, Attribute::typed("annotations", string_map(), "Annotations, e.g. `eks.amazonaws.com/role-arn` for IAM roles for service accounts.")),
            setting(mode, Attribute::typed("pod_identity", Type::Bool, "The app gets AWS credentials from an EKS Pod Identity association (made in AWS for this ServiceAccount), so its pods need the token. Default false.")),
            setting(mode, Attribute::typed("automount_token", Type::Bool, "Mount the ServiceAccount token into the pods. Default: true only with an `eks.amazonaws.com/role-arn` annotation or `pod_identity = true`; an app that calls the Kubernetes API sets it.")),
        ],
        "The app's ServiceAccount.",
    ));
    v.push(setting(mode, Attribute::typed("labels", string_map(), "Labels on every object and pod of the app (replaces the provider's `defaults` value when set).")));
    v.push(setting(
        mode,
        Attribute::typed(
            "annotations",
            string_map(),
            "Annotations on the Deployment (replaces the provider's `defaults` value when set).",
        ),
    ));
    v.push(setting(
        mode,
        Attribute::typed(
            "pod_annotations",
            string_map(),
            "Annotations on the pods (replaces the provider's `defaults` value when set).",
        ),
    ));
    v.push(setting(
        mode,
        Attribute::typed(
            "node_selector",
            string_map(),
            "Node labels the pods must run on.",
        ),
    ));
    v.push(setting(mode, Attribute::typed("create_namespace", Type::Bool, "Create the namespace if it does not exist. It is never deleted with the app (other apps may live there). Default false.")));
    v.push(nested(
        mode,
        "rollout",
        vec![
            setting(mode, Attribute::typed("wait", Type::Bool, "Wait until the new pods are available before the apply finishes. Default true.")),
            setting(mode, Attribute::typed("timeout", Type::String, "Longest wait for a rollout, e.g. `90s`, `5m`. Default `5m`.")),
            setting(mode, Attribute::typed("progress_deadline_seconds", Type::Number, "Seconds without progress after which Kubernetes marks the rollout failed. Default 120.")),
            setting(mode, Attribute::typed("rollback_on_failure", Type::Bool, "When a rollout fails, re-apply the previous version and report the failure. Default true.")),
            setting(mode, Attribute::typed("max_surge", Type::String, "Extra pods during a rollout: a number or a percentage. Default `25%`.")),
            setting(mode, Attribute::typed("max_unavailable", Type::String, "Pods that may be unavailable during a rollout. Default `0`.")),
        ],
        "How changes roll out.",
    ));
    v.push(nested(
        mode,
        "security",
        vec![
            setting(mode, Attribute::typed("profile", Type::String, "Pod Security Standard the pods meet: `baseline` (default: no privilege escalation, seccomp `RuntimeDefault`, no privileged mode or host namespaces; runs images that need root, such as `nginx`) or `restricted` (also non-root, all capabilities dropped, read-only root filesystem with a writable `/tmp`).")),
            setting(mode, Attribute::typed("run_as_user", Type::Number, "User ID the container runs as. Default: the image's. Not 0 under `restricted`.")),
            setting(mode, Attribute::typed("run_as_group", Type::Number, "Primary group ID of the container's processes. Default: the image's.")),
            setting(mode, Attribute::typed("fs_group", Type::Number, "Group that owns mounted volumes. Default: none.")),
            setting(mode, Attribute::typed("read_only_root_filesystem", Type::Bool, "Mount the image read-only (`/tmp` stays writable). Default: true under `restricted`, false under `baseline`.")),
            setting(mode, Attribute::typed("capabilities_add", Type::list(Type::String), "Linux capabilities to add, e.g. `[\"NET_BIND_SERVICE\"]`. `restricted` allows only `NET_BIND_SERVICE`; `baseline` allows the default container set (`AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT`).")),
        ],
        "Security settings of the app's pods. The platform sets the profile in the provider's `defaults.security`.",
    ));
    let peer = |what: &str| {
        Attribute::nested(
            what,
            Nesting::List,
            vec![
                Attribute::typed("namespace", Type::String, "Pods in this namespace (all of them unless `pod_labels` narrows it).").optional(),
                Attribute::typed("pod_labels", string_map(), "Pods with these labels (in the app's namespace unless `namespace` is set).").optional(),
                Attribute::typed("cidr", Type::String, "An address range, e.g. `10.0.0.0/8`; not combined with `namespace` or `pod_labels`.").optional(),
            ],
            if what == "allow_from" {
                "Further sources allowed to reach the app's ports, e.g. `[{ namespace = \"monitoring\" }, { pod_labels = { \"app.kubernetes.io/name\" = \"frontend\" } }]`. Pods of the app's own namespace are always allowed."
            } else {
                "Where the pods may connect to. Unset (the default): anywhere. Set (even to `[]`): only these destinations and the cluster DNS."
            },
        )
    };
    v.push(nested(
        mode,
        "network_policy",
        vec![
            setting(mode, Attribute::typed("enabled", Type::Bool, "Create a NetworkPolicy for the app: its ports accept traffic only from pods of its namespace, from the ingress controller (when the app has an ingress) and from `allow_from`; a `LoadBalancer` or `NodePort` Service's ports stay open to any source. Needs a CNI that enforces policies (the VPC CNI with network policy on). Default true.")),
            setting(mode, peer("allow_from")),
            setting(mode, Attribute::typed("ingress_controller_namespace", Type::String, "Namespace of the ingress controller, allowed in when the app has an `ingress`. `\"\"` allows none. Default `ingress-nginx`.")),
            setting(mode, peer("egress")),
        ],
        "The app's NetworkPolicy (networking.k8s.io/v1).",
    ));
    if r {
        v.push(
            Attribute::typed(
                "objects",
                Type::list(Type::String),
                "The Kubernetes objects of the app, as `Kind/name`.",
            )
            .computed(),
        );
        v.push(
            Attribute::typed(
                "service_host",
                Type::String,
                "In-cluster DNS name of the app's Service.",
            )
            .computed(),
        );
        v.push(
            Attribute::typed(
                "url",
                Type::String,
                "`https://<first host><path>` when an ingress is set.",
            )
            .computed(),
        );
        v.push(Attribute::typed("owner_id", Type::String, "The app's owner mark: an id generated when the app is created, written as the annotation `jke.dev/owner` on each of its objects. The provider writes only objects that are absent or carry this mark, and deletes only those that carry it; another configuration that declares the same app is refused. Import takes the mark the objects carry (an app without one gets a new mark on its next apply).").computed());
        v.push(Attribute::typed("drift", string_map(), "Changes made outside Terraform to settings no other attribute shows, as `Kind/name: field` -> live value (or `deleted`). Empty after every apply; a plan that shows it going back to `{}` restores them.").computed());
    }
    v
}

trait ComputedIf {
    fn computed_if(self, yes: bool) -> Self;
}

impl ComputedIf for Attribute {
    fn computed_if(self, yes: bool) -> Self {
        if yes { self.computed() } else { self }
    }
}

pub fn resource_schema() -> Schema {
    Schema {
        version: SCHEMA_VERSION,
        block: Block {
            description: "One application on Kubernetes: a Deployment with its Service, HorizontalPodAutoscaler, PodDisruptionBudget, ServiceAccount, and (when asked) Secret and Ingress, all with production defaults set by the platform team.".into(),
            attributes: settings(Mode::Resource),
            deprecated: false,
        },
    }
}

pub fn identity_schema() -> IdentitySchema {
    let attr = |name: &str, description: &str| IdentityAttribute {
        name: name.into(),
        ty: Type::String,
        description: description.into(),
        required_for_import: true,
        optional_for_import: false,
    };
    IdentitySchema {
        version: 0,
        attributes: vec![
            attr("namespace", "Namespace of the app."),
            attr("name", "Name of the app."),
        ],
    }
}

/// Attributes whose change replaces the app (new objects under a new identity).
pub const REPLACE_ON_CHANGE: [&str; 2] = ["name", "namespace"];

/// Attributes that only change what is inside the app's objects, not which objects exist:
/// an unknown value in them leaves the planned `objects` list known.
pub const CONTENT_ONLY: [&str; 21] = [
    "image",
    "ephemeral_storage",
    "ephemeral_storage_limit",
    "security",
    "command",
    "args",
    "env",
    "cpu",
    "memory",
    "cpu_limit",
    "memory_limit",
    "replicas",
    "labels",
    "annotations",
    "pod_annotations",
    "node_selector",
    "termination_grace_period",
    "pre_stop_sleep",
    "readiness_probe",
    "liveness_probe",
    "rollout",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replace_and_content_rules_name_attributes_of_the_schema() {
        let s = resource_schema();
        for a in REPLACE_ON_CHANGE.iter().chain(CONTENT_ONLY.iter()) {
            assert!(s.block.attribute(a).is_some(), "{a} is not an attribute");
        }
        assert!(REPLACE_ON_CHANGE.iter().all(|a| !CONTENT_ONLY.contains(a)));
    }
}
