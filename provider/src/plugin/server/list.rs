//! List resources: ValidateListResourceConfig and ListResource, whose results the provider
//! produces on its own task and this file encodes into a stream as they come.

use super::ProviderService;
use crate::plugin::diagnostics::{Diagnostic, Diagnostics};
use crate::plugin::proto::tfplugin6 as pb;
use crate::plugin::provider::{ListRequest, ListResult, ValidateListRequest};
use crate::plugin::schema::Schema;
use crate::plugin::value::{Number, Type, Value};
use crate::plugin::{wire, write_only};
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

// List resources: results are typed by the managed resource type of the same name.

/// Encodes a list resource's results for one stream.
#[derive(Clone)]
struct ListEncoder {
    schema: Schema,
    ty: Type,
    identity_ty: Option<Type>,
}

impl ListEncoder {
    fn event(&self, r: ListResult) -> pb::list_resource::Event {
        let mut diags = r.diagnostics;
        let identity = r.identity.and_then(|v| {
            let Some(ty) = &self.identity_ty else {
                diags.push(Diagnostic::error(
                    "Provider listed a resource type without identity schema",
                    "This is a bug in the provider; please report it.",
                ));
                return None;
            };
            match wire::encode(&v, ty) {
                Ok(dv) => Some(pb::ResourceIdentityData {
                    identity_data: Some(dv),
                }),
                Err(e) => {
                    diags.push(wire::bad_output("resource identity", &e));
                    None
                }
            }
        });
        let resource_object = r.resource.and_then(|mut v| {
            write_only::null_write_only(&self.schema.block, &mut v);
            match wire::encode(&v, &self.ty) {
                Ok(dv) => Some(dv),
                Err(e) => {
                    diags.push(wire::bad_output("resource object", &e));
                    None
                }
            }
        });
        pb::list_resource::Event {
            identity,
            display_name: r.display_name,
            resource_object,
            diagnostic: wire::diagnostics(&diags),
        }
    }
}

/// A stream of one event that only carries diagnostics.
fn failed_list(diags: &Diagnostics) -> ListStream {
    let event = pb::list_resource::Event {
        diagnostic: wire::diagnostics(diags),
        ..Default::default()
    };
    Box::pin(futures::stream::iter([Ok(event)]))
}

pub(super) type ListStream = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<pb::list_resource::Event, Status>> + Send + 'static>,
>;

/// `include_resource` / `limit` of ValidateListResourceConfig: `None` when absent or unknown.
fn known<T>(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
    get: impl Fn(&Value) -> Option<T>,
) -> Option<T> {
    wire::decode(dv, ty).ok().as_ref().and_then(get)
}

impl ProviderService {
    pub(super) async fn handle_validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, "ValidateListResourceConfig");
        let respond = |diags: &Diagnostics| {
            Ok(Response::new(pb::validate_list_resource_config::Response {
                diagnostics: wire::diagnostics(diags),
            }))
        };
        let ty = match self.list_type(&req.type_name) {
            Ok(ty) => ty,
            Err(d) => return respond(&d),
        };
        let config = match wire::decode(req.config.as_ref(), ty) {
            Ok(v) => v,
            Err(e) => return respond(&wire::bad_input("list configuration", &e).into()),
        };
        let include_resource = known(
            req.include_resource_object.as_ref(),
            &Type::Bool,
            |v| match v {
                Value::Bool(b) => Some(*b),
                _ => None,
            },
        );
        let limit = known(req.limit.as_ref(), &Type::Number, |v| match v {
            Value::Number(Number::Int(i)) => Some(*i),
            Value::Number(Number::Float(f)) => Some(*f as i64),
            _ => None,
        });
        let diags = self
            .provider
            .validate_list_resource_config(ValidateListRequest {
                type_name: req.type_name,
                config,
                include_resource,
                limit,
            })
            .await;
        respond(&diags)
    }

    pub(super) async fn handle_list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<ListStream>, Status> {
        let req = request.into_inner();
        tracing::debug!(type_name = %req.type_name, limit = req.limit, include = req.include_resource_object, "ListResource");
        let ty = match self.list_type(&req.type_name) {
            Ok(ty) => ty,
            Err(d) => return Ok(Response::new(failed_list(&d))),
        };
        let rt = match self.resource(&req.type_name) {
            Ok(rt) => rt,
            Err(d) => return Ok(Response::new(failed_list(&d))),
        };
        let config = match wire::decode(req.config.as_ref(), ty) {
            Ok(v) => v,
            Err(e) => {
                let d = wire::bad_input("list configuration", &e).into();
                return Ok(Response::new(failed_list(&d)));
            }
        };
        let encoder = ListEncoder {
            schema: rt.schema.clone(),
            ty: rt.ty.clone(),
            identity_ty: rt.identity.as_ref().map(|(_, t)| t.clone()),
        };
        let limit = req.limit;
        let (results_tx, mut results) = mpsc::channel::<ListResult>(16);
        let (events_tx, events) = mpsc::channel(16);
        let provider = self.provider.clone();
        tokio::spawn(async move {
            provider
                .list_resource(
                    ListRequest {
                        type_name: req.type_name,
                        config,
                        include_resource: req.include_resource_object,
                        limit,
                    },
                    results_tx,
                )
                .await;
        });
        // Encode results as they come; after `limit` results the channels close, which
        // tells the lister to stop.
        tokio::spawn(async move {
            let mut sent = 0;
            while let Some(r) = results.recv().await {
                let counts = r.identity.is_some();
                if events_tx.send(Ok(encoder.event(r))).await.is_err() {
                    break;
                }
                if counts {
                    sent += 1;
                    if limit > 0 && sent >= limit {
                        break;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(events),
        )))
    }
}
