//! UpgradeResourceState without migrations: stored state JSON read with the current schema.

use super::codec;
use super::diagnostics::{Diagnostic, Diagnostics};
use super::provider::{ProviderSchemas, UpgradeStateRequest, UpgradeStateResponse};

/// Reads `req.raw_state` with the current schema of `req.type_name`. Attributes the schema no
/// longer has are dropped and attributes it gained are null, so state written by an older
/// provider version still loads. State from a newer schema version is refused: this provider
/// cannot know what that version's attributes mean.
pub fn read_stored_state(
    schemas: &ProviderSchemas,
    req: &UpgradeStateRequest,
) -> UpgradeStateResponse {
    let mut diagnostics = Diagnostics::new();
    let Some((_, schema)) = schemas.resources.iter().find(|(n, _)| *n == req.type_name) else {
        diagnostics.error(
            "Unknown resource type",
            format!("This provider has no resource type {:?}.", req.type_name),
        );
        return UpgradeStateResponse {
            diagnostics,
            ..Default::default()
        };
    };
    if req.version > schema.version {
        diagnostics.error(
            "Resource state from a newer provider version",
            format!(
                "The state of this {} was written with schema version {}, but this provider \
                 version only knows versions up to {}. Use the provider version that wrote \
                 the state, or a newer one.",
                req.type_name, req.version, schema.version
            ),
        );
        return UpgradeStateResponse {
            diagnostics,
            ..Default::default()
        };
    }
    match codec::decode_json_lenient(&req.raw_state, &schema.block.value_type()) {
        Ok(upgraded_state) => UpgradeStateResponse {
            upgraded_state,
            diagnostics,
        },
        Err(e) => {
            diagnostics.push(
                Diagnostic::error(
                    "Unreadable resource state",
                    format!(
                        "The stored state of this {} does not fit the provider's schema: {e}.",
                        req.type_name
                    ),
                )
                .at(e.path.clone()),
            );
            UpgradeStateResponse {
                diagnostics,
                ..Default::default()
            }
        }
    }
}
