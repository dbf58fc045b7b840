//! Configuration through the protocol handlers Terraform calls before anything reaches a
//! cluster: ValidateProviderConfig, ConfigureProvider, ValidateResourceConfig,
//! PlanResourceChange (create, update, destroy), UpgradeResourceState, the list resource's and
//! the actions' validation and plan, and the import ID check; each with the real schemas.
//!
//! Input: one selector byte, then the value. Selector bits 0-3 pick the call, bit 4 sends the
//! value as DynamicValue.json instead of msgpack, bit 5 says the client cannot take
//! write-only attributes (Terraform before 1.11).
#![no_main]

use futures::executor::block_on;
use jke_fuzz::service;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use terraform_provider_jke::plugin::proto::tfplugin6 as pb;
use terraform_provider_jke::plugin::proto::tfplugin6::provider_server::Provider as _;
use terraform_provider_jke::plugin::server::ProviderService;
use terraform_provider_jke::plugin::{ClientCapabilities, ImportRequest};
use terraform_provider_jke::resources::RESOURCES;
use tonic::Request;

const APP: &str = "jke_application";
const CLUSTER: &str = "jke_cluster";

/// A small valid jke_application, planned after a fuzzed ConfigureProvider.
const APP_CONFIG: &str = r#"{"name":"web","namespace":"shop","image":"nginx:1.27"}"#;

fn shared() -> &'static ProviderService {
    static SERVICE: OnceLock<ProviderService> = OnceLock::new();
    SERVICE.get_or_init(service)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let dv = |bytes: &[u8]| {
        Some(if selector & 0x10 == 0 {
            pb::DynamicValue {
                msgpack: bytes.to_vec(),
                json: Vec::new(),
            }
        } else {
            pb::DynamicValue {
                msgpack: Vec::new(),
                json: bytes.to_vec(),
            }
        })
    };
    let config = dv(payload);
    let caps = Some(pb::ClientCapabilities {
        deferral_allowed: false,
        write_only_attributes_allowed: selector & 0x20 == 0,
    });
    let s = shared();
    let validate = |type_name: &str| {
        let _ = block_on(s.validate_resource_config(Request::new(
            pb::validate_resource_config::Request {
                type_name: type_name.into(),
                config: config.clone(),
                client_capabilities: caps,
            },
        )));
    };
    let plan = |s: &ProviderService, type_name: &str, prior, proposed, config| {
        let _ = block_on(
            s.plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: type_name.into(),
                prior_state: prior,
                proposed_new_state: proposed,
                config,
                client_capabilities: caps,
                ..Default::default()
            })),
        );
    };
    let upgrade = |type_name: &str| {
        let _ = block_on(s.upgrade_resource_state(Request::new(
            pb::upgrade_resource_state::Request {
                type_name: type_name.into(),
                version: 0,
                raw_state: Some(pb::RawState {
                    json: payload.to_vec(),
                    flatmap: Default::default(),
                }),
            },
        )));
    };
    let action = |action_type: &str| {
        let _ = block_on(s.validate_action_config(Request::new(
            pb::validate_action_config::Request {
                type_name: action_type.into(),
                config: config.clone(),
            },
        )));
        let _ = block_on(s.plan_action(Request::new(pb::plan_action::Request {
            action_type: action_type.into(),
            config: config.clone(),
            client_capabilities: caps,
        })));
    };
    match selector & 0x0f {
        0 => {
            let _ = block_on(s.validate_provider_config(Request::new(
                pb::validate_provider_config::Request {
                    config: config.clone(),
                },
            )));
        }
        1 => {
            // A provider of its own: the configuration stays for the calls after it.
            let fresh = service();
            let _ = block_on(fresh.configure_provider(Request::new(
                pb::configure_provider::Request {
                    terraform_version: "1.15.0".into(),
                    config: config.clone(),
                    client_capabilities: caps,
                },
            )));
            let app = Some(pb::DynamicValue {
                msgpack: Vec::new(),
                json: APP_CONFIG.as_bytes().to_vec(),
            });
            plan(&fresh, APP, None, app.clone(), app);
        }
        2 => validate(APP),
        3 => validate(CLUSTER),
        4 => plan(s, APP, None, config.clone(), config.clone()),
        5 => plan(s, CLUSTER, None, config.clone(), config.clone()),
        6 => plan(s, APP, config.clone(), config.clone(), config.clone()),
        7 => plan(s, CLUSTER, config.clone(), config.clone(), config.clone()),
        8 => plan(s, APP, config.clone(), None, None),
        9 => plan(s, CLUSTER, config.clone(), None, None),
        10 => upgrade(APP),
        11 => upgrade(CLUSTER),
        12 => {
            let _ = block_on(s.validate_list_resource_config(Request::new(
                pb::validate_list_resource_config::Request {
                    type_name: APP.into(),
                    config: config.clone(),
                    include_resource_object: None,
                    limit: None,
                },
            )));
        }
        13 => action("jke_restart"),
        14 => action("jke_notify"),
        _ => {
            // The import ID, checked before connecting ("namespace/name").
            let id = String::from_utf8_lossy(payload).into_owned();
            for r in RESOURCES {
                let _ = r.import_target(&ImportRequest {
                    type_name: r.type_name().into(),
                    id: id.clone(),
                    identity: None,
                    capabilities: ClientCapabilities::default(),
                });
            }
        }
    }
});
