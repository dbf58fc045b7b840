//! Actions (protocol 6.10): ValidateActionConfig, PlanAction and InvokeAction, whose
//! progress and result Terraform receives as a stream of events.

use super::ProviderService;
use crate::plugin::diagnostics::{Diagnostic, Diagnostics};
use crate::plugin::proto::tfplugin6 as pb;
use crate::plugin::provider::{ActionProgress, InvokeActionRequest, PlanActionRequest};
use crate::plugin::wire;
use futures::{Stream, StreamExt};
use std::pin::Pin;
use tonic::{Request, Response, Status};

/// InvokeAction's answer: progress events as the action sends them, then one completed event.
pub(super) type ActionEvents =
    Pin<Box<dyn Stream<Item = Result<pb::invoke_action::Event, Status>> + Send>>;

fn completed(diags: &Diagnostics) -> pb::invoke_action::Event {
    pb::invoke_action::Event {
        r#type: Some(pb::invoke_action::event::Type::Completed(
            pb::invoke_action::event::Completed {
                diagnostics: wire::diagnostics(diags),
            },
        )),
    }
}

fn progress(message: String) -> pb::invoke_action::Event {
    pb::invoke_action::Event {
        r#type: Some(pb::invoke_action::event::Type::Progress(
            pb::invoke_action::event::Progress { message },
        )),
    }
}

impl ProviderService {
    pub(super) async fn handle_validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ValidateActionConfig");
        let diags = match self.action_config(&req.type_name, req.config.as_ref()) {
            Ok(config) => {
                self.provider
                    .validate_action_config(&req.type_name, &config)
                    .await
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics: wire::diagnostics(&diags),
        }))
    }

    pub(super) async fn handle_plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.action_type, "PlanAction");
        let diags = match self.action_config(&req.action_type, req.config.as_ref()) {
            Ok(config) => {
                self.provider
                    .plan_action(PlanActionRequest {
                        type_name: req.action_type,
                        config,
                        capabilities: wire::capabilities(req.client_capabilities.as_ref()),
                    })
                    .await
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::plan_action::Response {
            diagnostics: wire::diagnostics(&diags),
            deferred: None,
        }))
    }

    pub(super) async fn handle_invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<ActionEvents>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.action_type, "InvokeAction");
        let config = match self.action_config(&req.action_type, req.config.as_ref()) {
            Ok(c) => c,
            Err(d) => {
                let events = futures::stream::iter([Ok::<_, Status>(completed(&d))]);
                return Ok(Response::new(Box::pin(events)));
            }
        };
        let (progress_tx, progress_rx) = tokio::sync::mpsc::unbounded_channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let provider = self.provider.clone();
        let invoke = InvokeActionRequest {
            type_name: req.action_type,
            config,
            capabilities: wire::capabilities(req.client_capabilities.as_ref()),
        };
        // The action runs on its own task: a client that stops listening does not cut a
        // rollout short halfway (StopProvider does that).
        tokio::spawn(async move {
            let diags = provider
                .invoke_action(invoke, ActionProgress::new(progress_tx))
                .await;
            let _ = done_tx.send(diags);
        });
        // Progress ends when the action drops its sender, i.e. when it has finished.
        let events = tokio_stream::wrappers::UnboundedReceiverStream::new(progress_rx)
            .map(|m| Ok::<_, Status>(progress(m)))
            .chain(futures::stream::once(async move {
                let diags = done_rx.await.unwrap_or_else(|_| {
                    Diagnostic::error(
                        "Action stopped",
                        "The action ended without a result (the provider's task failed); this is a bug in the provider.",
                    )
                    .into()
                });
                Ok(completed(&diags))
            }));
        Ok(Response::new(Box::pin(events)))
    }
}
