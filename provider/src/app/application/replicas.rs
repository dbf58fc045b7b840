//! Who owns a Deployment's `spec.replicas` when autoscaling is on. The provider then renders
//! no replica count: the autoscaler sets it through the scale subresource. A create still
//! starts the app at the autoscaling floor, in the server-side apply that creates it (one
//! write, and the controller makes every pod at once), and then hands the field from its apply
//! entry to a scale entry of its own, as if it had scaled. Otherwise the next apply, which no
//! longer sends the field, would remove it (server-side apply drops a field its only owner
//! stops sending) and the Deployment would fall to Kubernetes' default of one pod. The same
//! hand-over keeps the running count when autoscaling is turned on for an app that had a
//! fixed one.

use crate::app::managed_fields::{EntryKey, move_leaf};
use serde_json::Value as Json;

/// `spec.replicas` in a `fieldsV1` set.
fn replicas() -> [String; 2] {
    ["f:spec".to_string(), "f:replicas".to_string()]
}

/// Move `spec.replicas` from `own_manager`'s apply entry to its scale entry in `list` (a
/// Deployment's `managedFields`). Whether it moved (false: the apply did not own it).
pub fn hand_to_scale(list: &mut Vec<Json>, own_manager: &str) -> bool {
    let apply = EntryKey {
        manager: own_manager,
        operation: "Apply",
        subresource: "",
    };
    let scale = EntryKey {
        manager: own_manager,
        operation: "Update",
        subresource: "scale",
    };
    move_leaf(list, apply, scale, &replicas())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::managed_fields::entry_owns;
    use serde_json::json;

    #[test]
    fn the_count_a_create_applied_goes_to_the_providers_scale_entry() {
        let mut list = vec![
            json!({"manager": "jke", "operation": "Apply", "apiVersion": "apps/v1", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {}}}}),
            json!({"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1",
                "subresource": "status", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:replicas": {}}}}),
        ];
        assert!(hand_to_scale(&mut list, "jke"));
        let scale = EntryKey {
            manager: "jke",
            operation: "Update",
            subresource: "scale",
        };
        assert!(entry_owns(&list, scale, &replicas()));
        assert_eq!(list[0]["fieldsV1"], json!({"f:spec": {"f:template": {}}}));
        assert_eq!(list[1]["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));
        // Already handed over (or the autoscaler has it): nothing to do.
        assert!(!hand_to_scale(&mut list, "jke"));
        // Another manager's apply entry is not the provider's.
        assert!(!hand_to_scale(&mut list, "other"));
    }
}
