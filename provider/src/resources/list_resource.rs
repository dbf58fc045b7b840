//! The shape every list resource has (`list` blocks of `terraform query`). A list resource
//! shares its type name with the managed resource whose instances it finds; the provider
//! connects as `guard` asks and hands it the same [`Connected`] context a resource gets.

use super::resource::{Connected, Guard};
use crate::plugin::{Diagnostics, ListRequest, ListSink, Schema, ValidateListRequest};

#[tonic::async_trait]
pub trait ListResource: Send + Sync {
    fn type_name(&self) -> &'static str;
    /// Schema of the list block's `config` block.
    fn schema(&self) -> Schema;
    fn guard(&self) -> Guard {
        Guard::Environment
    }
    /// Problems with a list block, without a cluster.
    fn validate(&self, req: &ValidateListRequest) -> Diagnostics;
    /// Send each result to `sink` as it is found; stop when a send fails (Terraform has
    /// read `limit` results, or went away).
    async fn list(&self, cx: &Connected<'_>, req: &ListRequest, sink: &ListSink);
}
