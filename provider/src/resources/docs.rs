//! Registry-style documentation generated from the schema (`docs/index.md`,
//! `docs/resources/application.md`, `docs/resources/cluster.md`, `docs/actions/restart.md`,
//! `docs/actions/notify.md`); a test keeps the committed files up to date.

use crate::plugin::{AttrKind, Attribute, Nesting, Schema, Type};

fn type_name(t: &Type) -> String {
    match t {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object(_) => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}

fn kind_name(a: &Attribute) -> String {
    match &a.kind {
        AttrKind::Typed(t) => type_name(t),
        AttrKind::Nested(Nesting::Single, _) => "Attributes".into(),
        AttrKind::Nested(Nesting::List, _) => "Attributes List".into(),
        AttrKind::Nested(Nesting::Set, _) => "Attributes Set".into(),
        AttrKind::Nested(Nesting::Map, _) => "Attributes Map".into(),
    }
}

fn flags(a: &Attribute) -> String {
    let mut f = vec![kind_name(a)];
    if a.sensitive {
        f.push("Sensitive".into());
    }
    if a.write_only {
        f.push("Write-only".into());
    }
    f.join(", ")
}

fn anchor(path: &str) -> String {
    format!("nestedatt--{}", path.replace('.', "--"))
}

/// One section (Required / Optional / Read-Only) per level, nested attributes after.
fn render_attrs(out: &mut String, attrs: &[Attribute], prefix: &str) {
    type Pick = fn(&Attribute) -> bool;
    let groups: [(&str, Pick); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    let mut nested = Vec::new();
    for (title, pick) in groups {
        let chosen: Vec<&Attribute> = attrs.iter().filter(|a| pick(a)).collect();
        if chosen.is_empty() {
            continue;
        }
        out.push_str(&format!("### {title}\n\n"));
        for a in chosen {
            let full = if prefix.is_empty() {
                a.name.clone()
            } else {
                format!("{prefix}.{}", a.name)
            };
            let more = match &a.kind {
                AttrKind::Nested(_, inner) => {
                    nested.push((full.clone(), inner.clone()));
                    format!(" (see [below for nested schema](#{}))", anchor(&full))
                }
                AttrKind::Typed(_) => String::new(),
            };
            out.push_str(&format!(
                "- `{}` ({}) {}{}\n",
                a.name,
                flags(a),
                a.description,
                more
            ));
        }
        out.push('\n');
    }
    for (path, inner) in nested {
        out.push_str(&format!(
            "<a id=\"{}\"></a>\n### Nested Schema for `{path}`\n\n",
            anchor(&path)
        ));
        render_attrs(out, &inner, &path);
    }
}

fn page(
    front_title: &str,
    subcategory: &str,
    heading: &str,
    schema: &Schema,
    example: &str,
    extra: &str,
) -> String {
    let mut out = format!(
        "---\npage_title: \"{front_title}\"\nsubcategory: \"{subcategory}\"\ndescription: |-\n  {}\n---\n\n# {heading}\n\n{}\n\n## Example Usage\n\n```terraform\n{}```\n\n{extra}## Schema\n\n",
        schema.block.description, schema.block.description, example
    );
    render_attrs(&mut out, &schema.block.attributes, "");
    out.trim_end().to_string() + "\n"
}

pub const PROVIDER_EXAMPLE: &str = r#"provider "jke" {
  environment = "prod"

  eks = {
    cluster_name = "prod-eu"
    region       = "eu-west-1"
  }

  defaults = {
    namespace = "shop"
    memory    = "1Gi"
    ingress = {
      class_name = "nginx"
      issuer     = "letsencrypt"
    }
  }

  notifications = {
    webhook_url = var.slack_webhook_url
    events      = ["deployed", "rolled_back", "failed"]
  }
}
"#;

pub const RESTART_EXAMPLE: &str = r#"action "jke_restart" "web" {
  config {
    app = jke_application.web.id
  }
}

# terraform apply -invoke=action.jke_restart.web
"#;

pub const NOTIFY_EXAMPLE: &str = r#"action "jke_notify" "deployed" {
  config {
    message = "web ${jke_application.web.image} is live in prod"
    # webhook_url defaults to the provider's notifications.webhook_url
  }
}

resource "jke_application" "web" {
  name  = "web"
  image = "nginx:1.27"
  port  = 80

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.jke_notify.deployed]
    }
  }
}
"#;

const ACTION_NOTES: &str = "Actions need Terraform 1.14 or later (`action` blocks and `action_trigger` are new syntax); with an older Terraform or OpenTofu, leave them out: the rest of the provider works as before.\n\n";

pub const APPLICATION_EXAMPLE: &str = r#"resource "jke_application" "web" {
  name  = "web"
  image = "nginx:1.27"
  port  = 80

  env = {
    LOG_LEVEL = "info"
  }

  ingress = {
    hosts = ["shop.example.com"]
  }
}
"#;

pub const CLUSTER_EXAMPLE: &str = r#"resource "jke_cluster" "this" {
  environment   = "prod"
  ingress_class = "nginx"
  base_domain   = "apps.example.com"

  issuers = [
    {
      name                 = "letsencrypt"
      email                = "platform@example.com"
      http01_ingress_class = "nginx"
    },
    {
      name  = "letsencrypt-dns"
      email = "platform@example.com"
      dns01_route53 = {
        region         = "eu-west-1"
        hosted_zone_id = "Z0123456789ABCDEFGHIJ"
      }
    },
  ]

  namespaces = {
    shop = {
      labels      = { team = "shop" }
      limit_range = { default_cpu = "500m", default_memory = "512Mi" }
      quota       = { cpu = "16", memory = "32Gi", pods = 100 }
    }
  }

  # cert-manager (and its ClusterIssuer CRD) comes with the add-ons.
  depends_on = [module.addons]
}
"#;

const CLUSTER_NOTES: &str = "## Environment guard and one apply\n\nA cluster without the marker ConfigMap gets it from `jke_cluster`, even when the provider block sets `environment` (both must name the same environment). A cluster marked with another environment is refused before anything is written. Give every `jke_application` of the same configuration `depends_on = [jke_cluster.this]` (or reference one of its namespaces), so apps are applied after the marker exists.\n\nPlans never need cert-manager. When the ClusterIssuer CRD is not installed yet (cert-manager installed by `modules/eks-addons` in the same apply), apply waits for it up to `crd_wait_timeout`, then fails naming the CRD.\n\n## Drift and deletion\n\n`terraform plan` reads every object back: changes made outside Terraform show in `drift` and the next apply restores them; objects removed from the configuration are deleted (they are found by the labels `app.kubernetes.io/managed-by=jke` and `jke.dev/component=cluster`). Destroying the resource deletes its namespaces and ClusterIssuers but keeps the environment marker. A namespace that still has Deployments is never deleted: the apply fails and names them.\n\n## Permissions\n\nThe ClusterRole and the `kube-system` Role in `docs/rbac/jke-cluster-role.yaml` are all it needs (an end-to-end test runs the lifecycle with exactly them): namespaces, LimitRanges, ResourceQuotas and ClusterIssuers (get, list, create, patch, delete), Deployments (list), and the marker ConfigMap.\n\n## Import\n\nBy ID (the environment the cluster's marker names):\n\n```shell\nterraform import jke_cluster.this prod\n```\n\n";

const IMPORT: &str = "## Import\n\nBy ID (`namespace/name`):\n\n```shell\nterraform import jke_application.web shop/web\n```\n\nOr with an `import` block, by ID or by identity:\n\n```terraform\nimport {\n  to       = jke_application.web\n  identity = { namespace = \"shop\", name = \"web\" }\n}\n```\n\n";

pub const APPLICATION_LIST_EXAMPLE: &str = r#"# search.tfquery.hcl, beside the configuration that has the provider's required_providers
provider "jke" {
  kubernetes = {
    config_path    = "~/.kube/config"
    config_context = "prod-eu"
  }
  environment = "prod"
}

list "jke_application" "to_adopt" {
  provider         = jke
  include_resource = true
  limit            = 50

  config {
    namespace = "shop"
    managed   = false
    labels    = { team = "checkout" }
  }
}
"#;

const LIST_NOTES: &str = "## Results

Each result is an app's identity (`{ namespace, name }`, the same as the resource's import identity) and a display name (`shop/web`, or `shop/legacy (not managed by JKE)`). With `include_resource = true` it also carries the full `jke_application` object, exactly what importing the app would put in the state; settings the app's objects have that `jke_application` cannot hold (extra containers, volumes, env from references, scheduling settings) come as warnings. Results stream as the provider finds them, a page of Deployments at a time; `limit` is honoured.\n\nWithout `namespace`, the provider lists Deployments in every namespace with one request, or, when its credentials may not list them cluster-wide, namespace by namespace (skipping, with a warning, namespaces it may not list). The environment guard applies: a cluster marked as another environment is refused.\n\n## Adopting apps\n\n```shell\nterraform query -generate-config-out=adopted.tf\n```\n\nwrites one `jke_application` block and one `import` block per result. For an app JKE manages, the block holds only the settings that differ from the provider's `defaults`, and the import plans no changes. For a Deployment JKE does not manage, the block carries what its owner chose (image, command, ports, env, resources, replicas or autoscaling, probes, service, ingress, labels and annotations, node selector, grace period) and leaves the rest to JKE's defaults, so `terraform plan` shows what JKE adds or changes: new in `objects` the ServiceAccount, PodDisruptionBudget and NetworkPolicy (a missing Service shows as `deleted` in `drift`), as attribute changes the disruption budget, network policy, spreading, rollout and pre-stop settings, and in `drift` JKE's labels, selectors and security settings. A Deployment whose pod selector is not JKE's cannot be changed in place (Kubernetes forbids changing a selector): the warning says so, and `terraform apply -replace=jke_application.<name>` recreates it.\n\n";

/// (path relative to the repository root, contents)
pub fn generate() -> Vec<(&'static str, String)> {
    let s = super::schemas();
    let mut files = vec![(
        "docs/index.md",
        page(
            "Provider: jke",
            "",
            "JKE Provider",
            &s.provider,
            PROVIDER_EXAMPLE,
            "",
        ),
    )];
    for (name, schema) in &s.resources {
        if name == super::application::TYPE_NAME {
            files.push((
                "docs/resources/application.md",
                page(
                    "jke_application Resource - jke",
                    "",
                    "jke_application (Resource)",
                    schema,
                    APPLICATION_EXAMPLE,
                    IMPORT,
                ),
            ));
        }
        if name == super::cluster::TYPE_NAME {
            files.push((
                "docs/resources/cluster.md",
                page(
                    "jke_cluster Resource - jke",
                    "",
                    "jke_cluster (Resource)",
                    schema,
                    CLUSTER_EXAMPLE,
                    CLUSTER_NOTES,
                ),
            ));
        }
    }
    for (name, schema) in &s.list_resources {
        if name == super::application::TYPE_NAME {
            files.push((
                "docs/list-resources/application.md",
                page(
                    "jke_application List Resource - jke",
                    "",
                    "jke_application (List Resource)",
                    schema,
                    APPLICATION_LIST_EXAMPLE,
                    LIST_NOTES,
                ),
            ));
        }
    }
    for (name, schema) in &s.actions {
        let (file, example) = match name.as_str() {
            super::actions::restart::TYPE_NAME => ("docs/actions/restart.md", RESTART_EXAMPLE),
            super::actions::notify::TYPE_NAME => ("docs/actions/notify.md", NOTIFY_EXAMPLE),
            _ => continue,
        };
        files.push((
            file,
            page(
                &format!("{name} Action - jke"),
                "",
                &format!("{name} (Action)"),
                schema,
                example,
                ACTION_NOTES,
            ),
        ));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_attribute_has_a_description(attrs: &[Attribute], path: &str) {
        for a in attrs {
            assert!(
                !a.description.trim().is_empty(),
                "{path}{} has no description",
                a.name
            );
            if let AttrKind::Nested(_, inner) = &a.kind {
                every_attribute_has_a_description(inner, &format!("{path}{}.", a.name));
            }
        }
    }

    #[test]
    fn every_attribute_is_described() {
        let s = super::super::schemas();
        every_attribute_has_a_description(&s.provider.block.attributes, "provider.");
        for (n, r) in s
            .resources
            .iter()
            .chain(&s.list_resources)
            .chain(&s.actions)
        {
            every_attribute_has_a_description(&r.block.attributes, &format!("{n}."));
        }
    }

    /// The committed docs match the schema. `UPDATE_GOLDEN=1 cargo test` rewrites them.
    #[test]
    fn committed_docs_are_up_to_date() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for (rel, want) in generate() {
            let path = root.join(rel);
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
                }
                std::fs::write(&path, &want)
                    .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            }
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                have == want,
                "{rel} is out of date: run `UPDATE_GOLDEN=1 cargo test -p terraform-provider-jke docs` and commit it"
            );
        }
    }
}
