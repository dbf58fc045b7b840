//! [`Spec::resolve`]: every setting decided, resource input over provider defaults over the
//! built-in defaults, with the small accessors of `impl Spec` and the per-block helpers.

use super::{
    Autoscale, AutoscaleInput, DisruptionBudget, IRSA_ANNOTATION, Ingress, Input, NetworkPolicy,
    Port, PortInput, Probe, ProbeInput, Rollout, Security, Service, ServiceAccount, Spec,
    StringMap, TopologySpread, defaults,
};

/// First `Some` of the resource's value, the provider default's value.
fn pick<T: Clone>(own: &Option<T>, default: Option<&Option<T>>) -> Option<T> {
    own.clone().or_else(|| default.and_then(|d| d.clone()))
}

macro_rules! layered {
    ($own:expr, $def:expr, $field:ident) => {
        pick(&$own.$field, $def.map(|d| &d.$field))
    };
}

impl Spec {
    /// Resolve the resource's input over the provider's defaults over the built-in defaults.
    /// Never fails: [`Spec::validate`] says what is wrong with the result.
    pub fn resolve(input: &Input, provider: &Input) -> Spec {
        let d = Some(provider);
        let name = input.name.clone().unwrap_or_default();
        let ports = resolve_ports(input.port, input.ports.as_deref());
        // Probes connect over TCP: a UDP or SCTP port cannot answer them.
        let first_port = ports
            .iter()
            .find(|p| p.protocol == "TCP")
            .map(|p| p.container_port);
        let cpu = layered!(input, d, cpu).unwrap_or_else(|| defaults::CPU.into());
        let memory = layered!(input, d, memory).unwrap_or_else(|| defaults::MEMORY.into());
        // Requests equal limits unless a limit is given: predictable scheduling, no overcommit.
        let cpu_limit = input.cpu_limit.clone().or_else(|| {
            if input.cpu.is_some() {
                None
            } else {
                provider.cpu_limit.clone()
            }
        });
        let memory_limit = input.memory_limit.clone().or_else(|| {
            if input.memory.is_some() {
                None
            } else {
                provider.memory_limit.clone()
            }
        });
        let replicas_own = input.replicas;
        let replicas = layered!(input, d, replicas).unwrap_or(defaults::REPLICAS);

        let a_own = input.autoscale.as_ref();
        let a_def = provider.autoscale.as_ref();
        let a =
            |f: fn(&AutoscaleInput) -> Option<i64>| a_own.and_then(f).or_else(|| a_def.and_then(f));
        let autoscale_enabled = a_own
            .and_then(|x| x.enabled)
            .or_else(|| a_def.and_then(|x| x.enabled))
            .unwrap_or(true);
        let min_replicas = a(|x| x.min_replicas)
            .or(replicas_own)
            .unwrap_or(defaults::MIN_REPLICAS);
        let target_memory = a(|x| x.target_memory_utilization);
        let target_cpu = a(|x| x.target_cpu_utilization).or(if target_memory.is_some() {
            None
        } else {
            Some(defaults::TARGET_CPU)
        });
        let autoscale = Autoscale {
            enabled: autoscale_enabled,
            min_replicas,
            max_replicas: a(|x| x.max_replicas).unwrap_or(defaults::MAX_REPLICAS.max(min_replicas)),
            target_cpu_utilization: target_cpu,
            target_memory_utilization: target_memory,
        };

        let b_own = input.disruption_budget.as_ref();
        let b_def = provider.disruption_budget.as_ref();
        let b_enabled = b_own
            .and_then(|x| x.enabled)
            .or_else(|| b_def.and_then(|x| x.enabled));
        // Resource-level min_available replaces a provider-level max_unavailable, not adds to it.
        let (max_unavailable, min_available) = match b_own {
            Some(b) if b.max_unavailable.is_some() || b.min_available.is_some() => {
                (b.max_unavailable.clone(), b.min_available.clone())
            }
            _ => match b_def {
                Some(b) if b.max_unavailable.is_some() || b.min_available.is_some() => {
                    (b.max_unavailable.clone(), b.min_available.clone())
                }
                _ => (Some(defaults::PDB_MAX_UNAVAILABLE.to_string()), None),
            },
        };
        let disruption_budget = DisruptionBudget {
            enabled: b_enabled.unwrap_or(true),
            max_unavailable,
            min_available,
        };

        let s_own = input.service.as_ref();
        let s_def = provider.service.as_ref();
        let service_type = s_own
            .and_then(|s| s.type_.clone())
            .or_else(|| s_def.and_then(|s| s.type_.clone()))
            .unwrap_or_else(|| defaults::SERVICE_TYPE.into());
        let external_traffic_policy = s_own
            .and_then(|s| s.external_traffic_policy.clone())
            .or_else(|| s_def.and_then(|s| s.external_traffic_policy.clone()))
            .or_else(|| {
                // Local keeps the client source IP and avoids a second hop between nodes.
                matches!(service_type.as_str(), "LoadBalancer" | "NodePort").then(|| "Local".into())
            });
        let service = Service {
            external_traffic_policy,
            annotations: merge_maps(
                s_def.and_then(|s| s.annotations.as_ref()),
                s_own.and_then(|s| s.annotations.as_ref()),
            ),
            type_: service_type,
        };

        let ingress = input.ingress.as_ref().map(|own| {
            let def = provider.ingress.as_ref();
            let tls = own.tls.or_else(|| def.and_then(|x| x.tls)).unwrap_or(true);
            Ingress {
                hosts: own.hosts.clone().unwrap_or_default(),
                path: own
                    .path
                    .clone()
                    .or_else(|| def.and_then(|x| x.path.clone()))
                    .unwrap_or_else(|| defaults::INGRESS_PATH.into()),
                class_name: own
                    .class_name
                    .clone()
                    .or_else(|| def.and_then(|x| x.class_name.clone())),
                issuer: if tls {
                    own.issuer
                        .clone()
                        .or_else(|| def.and_then(|x| x.issuer.clone()))
                        .or_else(|| Some(defaults::INGRESS_ISSUER.into()))
                } else {
                    own.issuer.clone()
                },
                tls,
                annotations: merge_maps(
                    def.and_then(|x| x.annotations.as_ref()),
                    own.annotations.as_ref(),
                ),
            }
        });

        let readiness_probe = resolve_probe(
            input.readiness_probe.as_ref(),
            provider.readiness_probe.as_ref(),
            first_port,
            first_port.is_some(),
        );
        let liveness_probe = input
            .liveness_probe
            .as_ref()
            .map(|p| resolve_probe(Some(p), provider.liveness_probe.as_ref(), first_port, true));
        let startup_probe = input
            .startup_probe
            .as_ref()
            .map(|p| resolve_probe(Some(p), provider.startup_probe.as_ref(), first_port, true));

        let t_own = input.topology_spread.as_ref();
        let t_def = provider.topology_spread.as_ref();
        let topology_spread = TopologySpread {
            enabled: t_own
                .and_then(|t| t.enabled)
                .or_else(|| t_def.and_then(|t| t.enabled))
                .unwrap_or(true),
            max_skew: t_own
                .and_then(|t| t.max_skew)
                .or_else(|| t_def.and_then(|t| t.max_skew))
                .unwrap_or(1),
            topology_key: t_own
                .and_then(|t| t.topology_key.clone())
                .or_else(|| t_def.and_then(|t| t.topology_key.clone()))
                .unwrap_or_else(|| defaults::ZONE_KEY.into()),
            spread_nodes: t_own
                .and_then(|t| t.spread_nodes)
                .or_else(|| t_def.and_then(|t| t.spread_nodes))
                .unwrap_or(true),
        };

        let sa_own = input.service_account.as_ref();
        let sa_def = provider.service_account.as_ref();
        let sa_annotations = merge_maps(
            sa_def.and_then(|s| s.annotations.as_ref()),
            sa_own.and_then(|s| s.annotations.as_ref()),
        );
        let pod_identity = sa_own
            .and_then(|s| s.pod_identity)
            .or_else(|| sa_def.and_then(|s| s.pod_identity))
            .unwrap_or(false);
        // The token is an API credential: mounted only for apps that trade it for AWS
        // credentials (IRSA or EKS Pod Identity), or when asked for.
        let wants_token = pod_identity
            || sa_annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(IRSA_ANNOTATION));
        let service_account = ServiceAccount {
            create: sa_own
                .and_then(|s| s.create)
                .or_else(|| sa_def.and_then(|s| s.create))
                .unwrap_or(true),
            name: sa_own
                .and_then(|s| s.name.clone())
                .unwrap_or_else(|| name.clone()),
            annotations: sa_annotations,
            pod_identity,
            automount_token: sa_own
                .and_then(|s| s.automount_token)
                .or_else(|| sa_def.and_then(|s| s.automount_token))
                .unwrap_or(wants_token),
        };

        let sec_own = input.security.as_ref();
        let sec_def = provider.security.as_ref();
        macro_rules! sec {
            ($f:ident) => {
                sec_own
                    .and_then(|x| x.$f.clone())
                    .or_else(|| sec_def.and_then(|x| x.$f.clone()))
            };
        }
        let profile = sec!(profile).unwrap_or_else(|| defaults::SECURITY_PROFILE.into());
        let security = Security {
            read_only_root_filesystem: sec!(read_only_root_filesystem)
                .unwrap_or(profile == "restricted"),
            run_as_user: sec!(run_as_user),
            run_as_group: sec!(run_as_group),
            fs_group: sec!(fs_group),
            capabilities_add: sec!(capabilities_add).unwrap_or_default(),
            profile,
        };

        let np_own = input.network_policy.as_ref();
        let np_def = provider.network_policy.as_ref();
        macro_rules! np {
            ($f:ident) => {
                np_own
                    .and_then(|x| x.$f.clone())
                    .or_else(|| np_def.and_then(|x| x.$f.clone()))
            };
        }
        let network_policy = NetworkPolicy {
            enabled: np!(enabled).unwrap_or(true),
            allow_from: np!(allow_from).unwrap_or_default(),
            ingress_controller_namespace: np!(ingress_controller_namespace)
                .unwrap_or_else(|| defaults::INGRESS_CONTROLLER_NAMESPACE.into()),
            egress: np!(egress),
        };

        let ephemeral_storage = layered!(input, d, ephemeral_storage)
            .unwrap_or_else(|| defaults::EPHEMERAL_STORAGE.into());
        let ephemeral_storage_limit = input
            .ephemeral_storage_limit
            .clone()
            .or_else(|| {
                if input.ephemeral_storage.is_some() {
                    None
                } else {
                    provider.ephemeral_storage_limit.clone()
                }
            })
            .unwrap_or_else(|| ephemeral_storage.clone());

        let r_own = input.rollout.as_ref();
        let r_def = provider.rollout.as_ref();
        macro_rules! r {
            ($f:ident, $default:expr) => {
                r_own
                    .and_then(|r| r.$f.clone())
                    .or_else(|| r_def.and_then(|r| r.$f.clone()))
                    .unwrap_or_else(|| $default)
            };
        }
        let rollout = Rollout {
            wait: r!(wait, true),
            timeout: r!(timeout, defaults::ROLLOUT_TIMEOUT.into()),
            progress_deadline_seconds: r!(progress_deadline_seconds, defaults::PROGRESS_DEADLINE),
            rollback_on_failure: r!(rollback_on_failure, true),
            max_surge: r!(max_surge, defaults::MAX_SURGE.into()),
            max_unavailable: r!(max_unavailable, defaults::MAX_UNAVAILABLE.into()),
        };

        Spec {
            namespace: layered!(input, d, namespace).unwrap_or_else(|| defaults::NAMESPACE.into()),
            image: input.image.clone().unwrap_or_default(),
            command: input.command.clone(),
            args: input.args.clone(),
            port: input.port,
            ports,
            env: merge_maps(provider.env.as_ref(), input.env.as_ref()),
            secret_env: input.secret_env.clone(),
            secret_env_wo: input.secret_env_wo.clone(),
            secret_env_version: input.secret_env_version,
            cpu_limit: cpu_limit.unwrap_or_else(|| cpu.clone()),
            memory_limit: memory_limit.unwrap_or_else(|| memory.clone()),
            cpu,
            memory,
            replicas,
            autoscale,
            disruption_budget,
            service,
            ingress,
            readiness_probe,
            liveness_probe,
            startup_probe,
            termination_grace_period: layered!(input, d, termination_grace_period)
                .unwrap_or(defaults::TERMINATION_GRACE_PERIOD),
            pre_stop_sleep: layered!(input, d, pre_stop_sleep).unwrap_or(defaults::PRE_STOP_SLEEP),
            topology_spread,
            service_account,
            labels: merge_maps(provider.labels.as_ref(), input.labels.as_ref()),
            annotations: merge_maps(provider.annotations.as_ref(), input.annotations.as_ref()),
            pod_annotations: merge_maps(
                provider.pod_annotations.as_ref(),
                input.pod_annotations.as_ref(),
            ),
            node_selector: merge_maps(
                provider.node_selector.as_ref(),
                input.node_selector.as_ref(),
            ),
            create_namespace: layered!(input, d, create_namespace).unwrap_or(false),
            rollout,
            security,
            network_policy,
            ephemeral_storage,
            ephemeral_storage_limit,
            name,
        }
    }

    /// "namespace/name": the resource ID and import ID.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// In-cluster DNS name of the app's Service; `None` for an app without ports.
    pub fn service_host(&self) -> Option<String> {
        (!self.ports.is_empty())
            .then(|| format!("{}.{}.svc.cluster.local", self.name, self.namespace))
    }

    /// Public URL of the first ingress host.
    pub fn url(&self) -> Option<String> {
        let ing = self.ingress.as_ref()?;
        let host = ing.hosts.first()?;
        let scheme = if ing.tls { "https" } else { "http" };
        let path = if ing.path == "/" {
            ""
        } else {
            ing.path.as_str()
        };
        Some(format!("{scheme}://{host}{path}"))
    }

    /// All secret values the Secret carries: stored ones and write-only ones.
    pub fn secret_data(&self) -> StringMap {
        let mut all = self.secret_env.clone().unwrap_or_default();
        if let Some(wo) = &self.secret_env_wo {
            all.extend(wo.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        all
    }

    /// Whether the app has a Secret (stored or write-only values, or a write-only version).
    pub fn has_secret(&self) -> bool {
        self.secret_env.as_ref().is_some_and(|m| !m.is_empty())
            || self.secret_env_wo.as_ref().is_some_and(|m| !m.is_empty())
            || self.secret_env_version.is_some()
    }
}

fn resolve_ports(port: Option<i64>, ports: Option<&[PortInput]>) -> Vec<Port> {
    match (port, ports) {
        (_, Some(list)) if !list.is_empty() => list
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let container_port = p.container_port.unwrap_or_default();
                Port {
                    name: p.name.clone().unwrap_or_else(|| {
                        if i == 0 {
                            "http".to_string()
                        } else {
                            format!("port-{container_port}")
                        }
                    }),
                    container_port,
                    service_port: p.service_port.unwrap_or(container_port),
                    protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                }
            })
            .collect(),
        (Some(p), _) => vec![Port {
            name: "http".into(),
            container_port: p,
            service_port: p,
            protocol: "TCP".into(),
        }],
        _ => Vec::new(),
    }
}

fn resolve_probe(
    own: Option<&ProbeInput>,
    def: Option<&ProbeInput>,
    first_port: Option<i64>,
    enabled_by_default: bool,
) -> Probe {
    let get = |f: fn(&ProbeInput) -> Option<i64>| own.and_then(f).or_else(|| def.and_then(f));
    // An explicit `tcp = true` on the resource wins over an HTTP path from the defaults.
    let http_path = own.and_then(|p| p.http_path.clone()).or_else(|| {
        if own.and_then(|p| p.tcp) == Some(true) {
            None
        } else {
            def.and_then(|p| p.http_path.clone())
        }
    });
    let tcp = own
        .and_then(|p| p.tcp)
        .unwrap_or_else(|| http_path.is_none() && own.is_none_or(|p| p.http_path.is_none()));
    Probe {
        enabled: own
            .and_then(|p| p.enabled)
            .or_else(|| def.and_then(|p| p.enabled))
            .unwrap_or(enabled_by_default),
        http_path,
        tcp,
        port: own.and_then(|p| p.port).or(first_port),
        initial_delay_seconds: get(|p| p.initial_delay_seconds).unwrap_or(0),
        period_seconds: get(|p| p.period_seconds).unwrap_or(defaults::PROBE_PERIOD),
        timeout_seconds: get(|p| p.timeout_seconds).unwrap_or(defaults::PROBE_TIMEOUT),
        failure_threshold: get(|p| p.failure_threshold)
            .unwrap_or(defaults::PROBE_FAILURE_THRESHOLD),
        success_threshold: get(|p| p.success_threshold)
            .unwrap_or(defaults::PROBE_SUCCESS_THRESHOLD),
    }
}

/// The resource's map when it has one, else the provider default's. Maps are replaced, not
/// merged: Terraform requires a planned value to equal the configured one when it is set.
fn merge_maps(base: Option<&StringMap>, own: Option<&StringMap>) -> Option<StringMap> {
    own.or(base).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::application::spec::{SecurityInput, ServiceAccountInput, ServiceInput};

    fn input(name: &str, image: &str) -> Input {
        Input {
            name: Some(name.into()),
            image: Some(image.into()),
            ..Input::default()
        }
    }

    #[test]
    fn port_80_gives_the_jke_production_defaults() {
        let mut i = input("web", "nginx:1.27");
        i.port = Some(80);
        let s = Spec::resolve(&i, &Input::default());
        assert_eq!(s.namespace, "default");
        assert_eq!((s.cpu.as_str(), s.cpu_limit.as_str()), ("1", "1"));
        assert_eq!((s.memory.as_str(), s.memory_limit.as_str()), ("2Gi", "2Gi"));
        assert_eq!(s.replicas, 2);
        assert!(s.autoscale.enabled);
        assert_eq!(
            (s.autoscale.min_replicas, s.autoscale.max_replicas),
            (2, 10)
        );
        assert_eq!(s.autoscale.target_cpu_utilization, Some(70));
        assert_eq!(s.disruption_budget.max_unavailable.as_deref(), Some("1"));
        assert_eq!(s.termination_grace_period, 30);
        assert_eq!(s.ports[0].service_port, 80);
        assert!(s.readiness_probe.enabled && s.readiness_probe.tcp);
        assert_eq!(s.readiness_probe.port, Some(80));
        assert_eq!(s.service.external_traffic_policy, None);
    }

    #[test]
    fn resource_wins_over_provider_defaults_which_win_over_builtins() {
        let mut provider = Input {
            namespace: Some("team-a".into()),
            cpu: Some("500m".into()),
            memory: Some("1Gi".into()),
            ..Input::default()
        };
        provider.service = Some(ServiceInput {
            type_: Some("LoadBalancer".into()),
            ..ServiceInput::default()
        });
        let mut i = input("api", "api:1");
        i.memory = Some("4Gi".into());
        let s = Spec::resolve(&i, &provider);
        assert_eq!(s.namespace, "team-a");
        assert_eq!(s.cpu, "500m");
        assert_eq!(s.memory, "4Gi");
        assert_eq!(s.memory_limit, "4Gi");
        assert_eq!(s.service.external_traffic_policy.as_deref(), Some("Local"));
    }

    #[test]
    fn replicas_set_by_the_user_become_the_autoscaling_floor() {
        let mut i = input("api", "api:1");
        i.replicas = Some(4);
        let s = Spec::resolve(&i, &Input::default());
        assert_eq!(s.autoscale.min_replicas, 4);
        assert_eq!(s.autoscale.max_replicas, 10);
    }

    #[test]
    fn worker_without_ports_has_no_readiness_probe_and_no_service_host() {
        let s = Spec::resolve(&input("worker", "w:1"), &Input::default());
        assert!(s.ports.is_empty());
        assert!(!s.readiness_probe.enabled);
        assert_eq!(s.service_host(), None);
    }

    #[test]
    fn the_token_is_mounted_only_for_apps_that_trade_it_for_aws_credentials() {
        let plain = Spec::resolve(&input("web", "nginx"), &Input::default());
        assert!(!plain.service_account.automount_token);
        let mut irsa = input("web", "nginx");
        irsa.service_account = Some(ServiceAccountInput {
            annotations: Some(StringMap::from([(
                IRSA_ANNOTATION.to_string(),
                "arn:aws:iam::123456789012:role/web".to_string(),
            )])),
            ..ServiceAccountInput::default()
        });
        assert!(
            Spec::resolve(&irsa, &Input::default())
                .service_account
                .automount_token
        );
        let mut pod_identity = input("web", "nginx");
        pod_identity.service_account = Some(ServiceAccountInput {
            pod_identity: Some(true),
            ..ServiceAccountInput::default()
        });
        assert!(
            Spec::resolve(&pod_identity, &Input::default())
                .service_account
                .automount_token
        );
        let mut explicit = irsa.clone();
        if let Some(sa) = explicit.service_account.as_mut() {
            sa.automount_token = Some(false);
        }
        assert!(
            !Spec::resolve(&explicit, &Input::default())
                .service_account
                .automount_token
        );
    }

    #[test]
    fn the_platform_profile_decides_the_read_only_root_and_the_app_can_override_it() {
        let platform = Input {
            security: Some(SecurityInput {
                profile: Some("restricted".into()),
                ..SecurityInput::default()
            }),
            ..Input::default()
        };
        let s = Spec::resolve(&input("api", "api:1"), &platform);
        assert!(s.security.restricted() && s.security.read_only_root_filesystem);
        let mut writable = input("api", "api:1");
        writable.security = Some(SecurityInput {
            read_only_root_filesystem: Some(false),
            ..SecurityInput::default()
        });
        let s = Spec::resolve(&writable, &platform);
        assert!(s.security.restricted() && !s.security.read_only_root_filesystem);
        let s = Spec::resolve(&input("api", "api:1"), &Input::default());
        assert_eq!(s.security.profile, "baseline");
        assert!(!s.security.read_only_root_filesystem);
        assert_eq!(
            (
                s.ephemeral_storage.as_str(),
                s.ephemeral_storage_limit.as_str()
            ),
            ("1Gi", "1Gi")
        );
        assert!(s.network_policy.enabled && s.network_policy.egress.is_none());
        assert!(s.topology_spread.spread_nodes);
    }

    #[test]
    fn the_default_probe_checks_the_first_tcp_port_and_a_udp_only_app_has_none() {
        let port = |n: i64, protocol: &str| PortInput {
            container_port: Some(n),
            protocol: Some(protocol.into()),
            ..PortInput::default()
        };
        let mut dns = input("dns", "coredns:1.11");
        dns.ports = Some(vec![port(53, "UDP"), port(9153, "TCP")]);
        let s = Spec::resolve(&dns, &Input::default());
        assert!(s.readiness_probe.enabled && s.readiness_probe.port == Some(9153));
        dns.ports = Some(vec![port(53, "UDP")]);
        let s = Spec::resolve(&dns, &Input::default());
        assert!(!s.readiness_probe.enabled);
    }
}
