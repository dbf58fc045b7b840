//! `terraform-provider-jke render`: the manifests a planned `jke_application` expands to,
//! from its values as `terraform show -json` prints them. Used for golden files and for
//! reviewing what an app will create.

use crate::app::application::bundle;
use crate::app::application::spec::{Input, Spec};
use crate::app::object::to_yaml;
use crate::resources::application::plan;
use crate::resources::convert;

/// Resource values (a JSON object) -> multi-document YAML of the app's objects.
pub fn render_values(values: &serde_json::Value) -> Result<String, String> {
    let values = convert::without(values.clone(), plan::computed_only());
    let input: Input = serde_json::from_value(values).map_err(|e| {
        format!("expected the values of one jke_application (terraform show -json): {e}")
    })?;
    if input.name.is_none() || input.image.is_none() {
        return Err(
            "expected the values of one jke_application: name and image are missing".into(),
        );
    }
    // Planned values carry every setting, so no defaults are needed.
    let spec = Spec::resolve(&input, &Input::default());
    Ok(to_yaml(&bundle::render(&spec)))
}
