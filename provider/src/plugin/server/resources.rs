//! Managed resources: validate, upgrade, read, plan, apply and import, and the
//! configuration Terraform generates for an imported resource.

use super::ProviderService;
use crate::plugin::diagnostics::{Diagnostic, Diagnostics};
use crate::plugin::proto::tfplugin6 as pb;
use crate::plugin::provider::{
    ApplyRequest, ImportRequest, PlanRequest, ReadRequest, UpgradeStateRequest,
};
use crate::plugin::schema::{AttrKind, Attribute};
use crate::plugin::value::{Type, Value};
use crate::plugin::{wire, write_only};
use tonic::{Request, Response, Status};

/// The request values `each` (value, what it is) decoded with the resource's type `ty`; `None`
/// at the first that does not fit, whose error is then in `diags`.
fn decode_each<const N: usize>(
    ty: &Type,
    each: [(Option<&pb::DynamicValue>, &str); N],
    diags: &mut Diagnostics,
) -> Option<[Value; N]> {
    let mut out = Vec::with_capacity(N);
    for (dv, what) in each {
        match wire::decode(dv, ty) {
            Ok(v) => out.push(v),
            Err(e) => {
                diags.push(wire::bad_input(what, &e));
                return None;
            }
        }
    }
    out.try_into().ok()
}

/// The resource type `$name` names, or return the answer `$resp` (a response type) carrying
/// only the diagnostic that no such type exists.
macro_rules! resource_or_return {
    ($self:ident, $name:expr, $resp:ty) => {
        match $self.resource($name) {
            Ok(rt) => rt,
            Err(d) => {
                let mut answer = <$resp>::default();
                answer.diagnostics = wire::diagnostics(&d);
                return Ok(Response::new(answer));
            }
        }
    };
}

/// A configuration value: attributes only the provider sets (computed, neither optional nor
/// required) and write-only ones made null at every depth, as a resource block needs them.
fn config_only(attrs: &[Attribute], value: &mut Value) {
    let Value::Object(fields) = value else {
        return;
    };
    for a in attrs {
        let Some(v) = fields.get_mut(&a.name) else {
            continue;
        };
        if a.write_only || (a.computed && !a.optional && !a.required) {
            *v = Value::Null;
        } else if let AttrKind::Nested(_, inner) = &a.kind {
            match v {
                Value::Object(_) => config_only(inner, v),
                Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                    items.iter_mut().for_each(|i| config_only(inner, i))
                }
                Value::Map(m) => m.values_mut().for_each(|i| config_only(inner, i)),
                _ => {}
            }
        }
    }
}

impl ProviderService {
    pub(super) async fn handle_validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ValidateResourceConfig");
        let mut diags = Diagnostics::new();
        let respond = |diags: &Diagnostics| {
            Ok(Response::new(pb::validate_resource_config::Response {
                diagnostics: wire::diagnostics(diags),
            }))
        };
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => return respond(&d),
        };
        let config = match wire::decode(req.config.as_ref(), &rt.ty) {
            Ok(v) => v,
            Err(e) => {
                diags.push(wire::bad_input("resource configuration", &e));
                return respond(&diags);
            }
        };
        let caps = wire::capabilities(req.client_capabilities.as_ref());
        if !caps.write_only_attributes_allowed {
            // An older Terraform would store these values in state: refuse them.
            for path in write_only::set_write_only_paths(&rt.schema.block, &config) {
                diags.push(
                    Diagnostic::error(
                        "Write-only attribute not supported by this Terraform",
                        format!(
                            "{path} is write-only: its value is never stored in the plan or \
                             state. This Terraform version does not support write-only \
                             attributes (Terraform 1.11 or later does). Remove {path}, or \
                             upgrade Terraform."
                        ),
                    )
                    .at(path.clone()),
                );
            }
        }
        diags.extend(
            self.provider
                .validate_resource_config(&req.type_name, &config)
                .await,
        );
        respond(&diags)
    }

    pub(super) async fn handle_upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, version = req.version, "UpgradeResourceState");
        let mut diags = Diagnostics::new();
        let respond = |diags: &Diagnostics, upgraded_state| {
            Ok(Response::new(pb::upgrade_resource_state::Response {
                upgraded_state,
                diagnostics: wire::diagnostics(diags),
            }))
        };
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => return respond(&d, None),
        };
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            if !raw.flatmap.is_empty() {
                diags.error(
                    "Unsupported resource state format",
                    "The stored state uses the flatmap format of Terraform 0.11 and earlier, \
                     which this provider never wrote. Remove the resource from the state and \
                     import it again.",
                );
            }
            // No stored state at all: nothing to upgrade.
            return respond(&diags, None);
        }
        let raw_state: serde_json::Value = match serde_json::from_slice(&raw.json) {
            Ok(j) => j,
            Err(e) => {
                diags.error(
                    "Unreadable resource state",
                    format!("The stored state is not valid JSON: {e}."),
                );
                return respond(&diags, None);
            }
        };
        let resp = self
            .provider
            .upgrade_resource_state(UpgradeStateRequest {
                type_name: req.type_name.clone(),
                version: req.version,
                raw_state,
            })
            .await;
        diags.extend(resp.diagnostics);
        let upgraded = if diags.has_errors() {
            None
        } else {
            self.state_out(rt, resp.upgraded_state, "upgraded state", &mut diags)
        };
        respond(&diags, upgraded)
    }

    pub(super) async fn handle_read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ReadResource");
        let rt = resource_or_return!(self, &req.type_name, pb::read_resource::Response);
        let mut diags = Diagnostics::new();
        let current_state = match wire::decode(req.current_state.as_ref(), &rt.ty) {
            Ok(v) => v,
            Err(e) => {
                diags.push(wire::bad_input("current state", &e));
                return Ok(Response::new(pb::read_resource::Response {
                    diagnostics: wire::diagnostics(&diags),
                    ..Default::default()
                }));
            }
        };
        let current_identity = self.identity_in(rt, req.current_identity.as_ref(), &mut diags);
        let resp = self
            .provider
            .read_resource(ReadRequest {
                type_name: req.type_name,
                current_state,
                private: req.private,
                current_identity,
                capabilities: wire::capabilities(req.client_capabilities.as_ref()),
            })
            .await;
        diags.extend(resp.diagnostics);
        let new_state = self.state_out(rt, resp.new_state, "state", &mut diags);
        let new_identity = self.identity_out(rt, resp.new_identity, &mut diags);
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: wire::diagnostics(&diags),
            private: resp.private,
            deferred: None,
            new_identity,
        }))
    }

    pub(super) async fn handle_plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "PlanResourceChange");
        let mut diags = Diagnostics::new();
        let rt = resource_or_return!(self, &req.type_name, pb::plan_resource_change::Response);
        let Some([prior_state, proposed_new_state, config]) = decode_each(
            &rt.ty,
            [
                (req.prior_state.as_ref(), "prior state"),
                (req.proposed_new_state.as_ref(), "proposed new state"),
                (req.config.as_ref(), "resource configuration"),
            ],
            &mut diags,
        ) else {
            return Ok(Response::new(pb::plan_resource_change::Response {
                diagnostics: wire::diagnostics(&diags),
                ..Default::default()
            }));
        };
        let prior_identity = self.identity_in(rt, req.prior_identity.as_ref(), &mut diags);
        let resp = self
            .provider
            .plan_resource_change(PlanRequest {
                type_name: req.type_name,
                prior_state,
                proposed_new_state,
                config,
                prior_private: req.prior_private,
                prior_identity,
                capabilities: wire::capabilities(req.client_capabilities.as_ref()),
            })
            .await;
        diags.extend(resp.diagnostics);
        let planned_state = self.state_out(rt, resp.planned_state, "planned state", &mut diags);
        let planned_identity = self.identity_out(rt, resp.planned_identity, &mut diags);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state,
            requires_replace: resp
                .requires_replace
                .iter()
                .map(wire::attribute_path)
                .collect(),
            planned_private: resp.planned_private,
            diagnostics: wire::diagnostics(&diags),
            legacy_type_system: false,
            deferred: None,
            planned_identity,
        }))
    }

    pub(super) async fn handle_apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ApplyResourceChange");
        let mut diags = Diagnostics::new();
        let rt = resource_or_return!(self, &req.type_name, pb::apply_resource_change::Response);
        let Some([prior_state, planned_state, config]) = decode_each(
            &rt.ty,
            [
                (req.prior_state.as_ref(), "prior state"),
                (req.planned_state.as_ref(), "planned state"),
                (req.config.as_ref(), "resource configuration"),
            ],
            &mut diags,
        ) else {
            return Ok(Response::new(pb::apply_resource_change::Response {
                diagnostics: wire::diagnostics(&diags),
                ..Default::default()
            }));
        };
        let planned_identity = self.identity_in(rt, req.planned_identity.as_ref(), &mut diags);
        let resp = self
            .provider
            .apply_resource_change(ApplyRequest {
                type_name: req.type_name,
                prior_state,
                planned_state,
                config,
                planned_private: req.planned_private,
                planned_identity,
            })
            .await;
        diags.extend(resp.diagnostics);
        let new_state = self.state_out(rt, resp.new_state, "new state", &mut diags);
        let new_identity = self.identity_out(rt, resp.new_identity, &mut diags);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: resp.private,
            diagnostics: wire::diagnostics(&diags),
            legacy_type_system: false,
            new_identity,
        }))
    }

    pub(super) async fn handle_import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ImportResourceState");
        let mut diags = Diagnostics::new();
        let rt = resource_or_return!(self, &req.type_name, pb::import_resource_state::Response);
        let identity = self.identity_in(rt, req.identity.as_ref(), &mut diags);
        if diags.has_errors() {
            return Ok(Response::new(pb::import_resource_state::Response {
                diagnostics: wire::diagnostics(&diags),
                ..Default::default()
            }));
        }
        let resp = self
            .provider
            .import_resource_state(ImportRequest {
                type_name: req.type_name.clone(),
                id: req.id,
                identity,
                capabilities: wire::capabilities(req.client_capabilities.as_ref()),
            })
            .await;
        diags.extend(resp.diagnostics);
        let mut imported_resources = Vec::with_capacity(resp.imported.len());
        for imp in resp.imported {
            let type_name = if imp.type_name.is_empty() {
                req.type_name.clone()
            } else {
                imp.type_name
            };
            let irt = match self.resource(&type_name) {
                Ok(r) => r,
                Err(d) => {
                    diags.extend(d);
                    continue;
                }
            };
            let state = self.state_out(irt, imp.state, "imported state", &mut diags);
            let identity = self.identity_out(irt, imp.identity, &mut diags);
            imported_resources.push(pb::import_resource_state::ImportedResource {
                type_name,
                state,
                private: imp.private,
                identity,
            });
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: wire::diagnostics(&diags),
            deferred: None,
        }))
    }

    pub(super) async fn handle_generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "GenerateResourceConfig");
        let mut diags = Diagnostics::new();
        let respond = |diags: &Diagnostics, config| {
            Ok(Response::new(pb::generate_resource_config::Response {
                config,
                diagnostics: wire::diagnostics(diags),
            }))
        };
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => return respond(&d, None),
        };
        let state = match wire::decode(req.state.as_ref(), &rt.ty) {
            Ok(v) => v,
            Err(e) => {
                diags.push(wire::bad_input("resource state", &e));
                return respond(&diags, None);
            }
        };
        let resp = self
            .provider
            .generate_resource_config(&req.type_name, state)
            .await;
        diags.extend(resp.diagnostics);
        let mut config = resp.config;
        config_only(&rt.schema.block.attributes, &mut config);
        let config = match wire::encode(&config, &rt.ty) {
            Ok(dv) => Some(dv),
            Err(e) => {
                diags.push(wire::bad_output("configuration", &e));
                None
            }
        };
        respond(&diags, config)
    }
}
