//! Provider-level RPCs: metadata and schemas (answered from what `ProviderService::new`
//! built), validating and configuring the provider, and StopProvider.

use super::ProviderService;
use crate::plugin::diagnostics::Diagnostics;
use crate::plugin::proto::tfplugin6 as pb;
use crate::plugin::provider::ConfigureRequest;
use crate::plugin::value::Value;
use crate::plugin::wire;
use tonic::{Request, Response, Status};

impl ProviderService {
    pub(super) async fn handle_get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        tracing::debug!("GetMetadata");
        Ok(Response::new(self.metadata_response.clone()))
    }

    pub(super) async fn handle_get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        tracing::debug!("GetProviderSchema");
        Ok(Response::new(self.schema_response.clone()))
    }

    pub(super) async fn handle_get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        tracing::debug!("GetResourceIdentitySchemas");
        Ok(Response::new(self.identity_response.clone()))
    }

    pub(super) async fn handle_validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        tracing::debug!("ValidateProviderConfig");
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let config = match wire::decode(req.config.as_ref(), &self.provider_ty) {
            Ok(v) => v,
            Err(e) => {
                diags.push(wire::bad_input("provider configuration", &e));
                Value::Null
            }
        };
        if !diags.has_errors() {
            diags.extend(self.provider.validate_provider_config(&config).await);
        }
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: wire::diagnostics(&diags),
        }))
    }

    pub(super) async fn handle_configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(terraform_version = %req.terraform_version, "ConfigureProvider");
        let mut diags = Diagnostics::new();
        match wire::decode(req.config.as_ref(), &self.provider_ty) {
            Ok(config) => {
                diags.extend(
                    self.provider
                        .configure(ConfigureRequest {
                            terraform_version: req.terraform_version,
                            config,
                            capabilities: wire::capabilities(req.client_capabilities.as_ref()),
                        })
                        .await,
                );
            }
            Err(e) => diags.push(wire::bad_input("provider configuration", &e)),
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: wire::diagnostics(&diags),
        }))
    }

    pub(super) async fn handle_stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::debug!("StopProvider");
        self.provider.stop().await;
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
