//! `jke_notify`: posts a message to a webhook (Slack or generic JSON). Needs no cluster.
//! Without its own `webhook_url` it uses the provider's `notifications` setting, so the
//! platform team's receiver is set once.

use super::super::action::{Action, Invocation};
use super::super::notifications::{self, DEFAULT_TIMEOUT, WebhookUrl};
use super::super::provider_config::ProviderConfig;
use crate::app::formats::parse_duration;
use crate::app::notification::{Format, message_body, webhook_url_problem};
use crate::plugin::{AttrPath, Attribute, Block, Diagnostic, Diagnostics, Schema, Type, Value};
use crate::resources::Guard;
use std::time::Duration;

pub const TYPE_NAME: &str = "jke_notify";

pub struct Notify;

fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "Posts a message to a webhook: a Slack incoming webhook (or a Slack-compatible receiver), or any receiver of JSON. Run it with `terraform apply -invoke=action.jke_notify.NAME`, or from an app's `lifecycle { action_trigger { ... } }`. A receiver that fails or does not answer within the provider's `notifications.timeout` (default 5s) fails the action. Needs no cluster.".into(),
            deprecated: false,
            attributes: vec![
                Attribute::typed("message", Type::String, "The text to post.").required(),
                Attribute::typed(
                    "webhook_url",
                    Type::String,
                    "Where to post (`https://`, or `http://` on a private network). Default: the provider's `notifications.webhook_url`. Sensitive: never in logs or plan output.",
                )
                .optional()
                .sensitive(),
                Attribute::typed(
                    "format",
                    Type::String,
                    "`slack` (`{\"text\": message}`) or `json` (`{\"source\": \"jke\", \"event\": \"message\", \"text\": message}`). Default: the provider's `notifications.format`, else `slack`.",
                )
                .optional(),
            ],
        },
    }
}

fn known_str<'a>(config: &'a Value, attr: &str) -> Option<&'a str> {
    config.get(attr).and_then(Value::as_str)
}

fn is_null(config: &Value, attr: &str) -> bool {
    config.get(attr).is_none_or(Value::is_null)
}

/// Where and how to post, from the config over the provider's setting.
fn destination(
    config: &Value,
    provider: &ProviderConfig,
) -> Result<(WebhookUrl, Format, Duration), Diagnostic> {
    let n = provider.notifications.as_ref();
    let url = match known_str(config, "webhook_url") {
        Some(u) => WebhookUrl::new(u),
        None => n.map(|n| n.webhook_url.clone()).ok_or_else(no_url)?,
    };
    let format = known_str(config, "format")
        .and_then(Format::parse)
        .or(n.map(|n| n.format))
        .unwrap_or(Format::Slack);
    let timeout = n
        .map(|n| n.timeout)
        .or_else(|| parse_duration(DEFAULT_TIMEOUT))
        .unwrap_or(Duration::from_secs(5));
    Ok((url, format, timeout))
}

fn no_url() -> Diagnostic {
    Diagnostic::error(
        "No webhook URL",
        "webhook_url is not set and the provider block has no notifications = { webhook_url = ... }: set one of them",
    )
    .at(AttrPath::attr("webhook_url"))
}

#[tonic::async_trait]
impl Action for Notify {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn guard(&self) -> Option<Guard> {
        None
    }

    fn validate(&self, config: &Value, _provider: &ProviderConfig) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if known_str(config, "message").is_some_and(|m| m.trim().is_empty()) {
            diags.error_at(
                AttrPath::attr("message"),
                "Empty message",
                "message is empty: write the text to post",
            );
        }
        if let Some(why) = known_str(config, "webhook_url").and_then(webhook_url_problem) {
            diags.error_at(
                AttrPath::attr("webhook_url"),
                "Invalid webhook URL",
                format!("webhook_url {why} (the value is not shown: it is sensitive)"),
            );
        }
        if let Some(f) = known_str(config, "format").filter(|f| Format::parse(f).is_none()) {
            diags.error_at(
                AttrPath::attr("format"),
                "Invalid format",
                format!(
                    "format = {f:?}: must be one of {}",
                    Format::NAMES.join(", ")
                ),
            );
        }
        diags
    }

    fn plan(&self, config: &Value, provider: &ProviderConfig) -> Diagnostics {
        let mut diags = self.validate(config, provider);
        // Now the provider is configured: a missing URL must come from its setting.
        if is_null(config, "webhook_url") && provider.notifications.is_none() {
            diags.push(no_url());
        }
        diags
    }

    async fn invoke(&self, run: Invocation<'_>, config: &Value) -> Diagnostics {
        let mut diags = self.plan(config, run.provider);
        if diags.has_errors() {
            return diags;
        }
        let message = known_str(config, "message").unwrap_or_default();
        let (url, format, timeout) = match destination(config, run.provider) {
            Ok(d) => d,
            Err(d) => return d.into(),
        };
        let what = "The jke_notify message";
        match notifications::post(&url, &message_body(message, format), timeout, what).await {
            Ok(()) => run.progress.send("message posted"),
            // Posting is this action's whole job: not delivered is a failure.
            Err(e) => diags.error(
                "Message not delivered",
                format!("{what} was not posted: {e}. Check the receiver behind webhook_url (or the provider's notifications.webhook_url)."),
            ),
        }
        diags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::notifications::Notifications;

    fn config(kvs: &[(&str, Value)]) -> Value {
        Value::Object(
            kvs.iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn bad_config_is_refused_by_attribute() {
        let c = config(&[
            ("message", Value::string(" ")),
            ("webhook_url", Value::string("ftp://h/SECRET")),
            ("format", Value::string("teams")),
        ]);
        let d = Notify.validate(&c, &ProviderConfig::default());
        let paths: Vec<String> =
            d.0.iter()
                .filter_map(|x| x.path.as_ref().map(ToString::to_string))
                .collect();
        assert_eq!(paths, ["message", "webhook_url", "format"]);
        assert!(d.0.iter().all(|x| !x.detail.contains("SECRET")));
    }

    #[test]
    fn the_url_may_come_from_the_provider() {
        let c = config(&[
            ("message", Value::string("hi")),
            ("webhook_url", Value::Null),
        ]);
        let bare = ProviderConfig::default();
        assert!(
            Notify.validate(&c, &bare).is_empty(),
            "validate runs before configure"
        );
        let d = Notify.plan(&c, &bare);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].path, Some(AttrPath::attr("webhook_url")));
        let with = ProviderConfig {
            notifications: Some(Notifications {
                webhook_url: WebhookUrl::new("https://hooks.example.com/x"),
                format: Format::Json,
                events: Vec::new(),
                timeout: Duration::from_secs(2),
            }),
            ..ProviderConfig::default()
        };
        assert!(Notify.plan(&c, &with).is_empty());
        let Ok((url, format, timeout)) = destination(&c, &with) else {
            panic!("no destination");
        };
        assert_eq!(
            (url.expose(), format, timeout),
            (
                "https://hooks.example.com/x",
                Format::Json,
                Duration::from_secs(2)
            )
        );
        let own = config(&[
            ("message", Value::string("hi")),
            ("webhook_url", Value::string("http://10.0.0.1/h")),
            ("format", Value::string("slack")),
        ]);
        let Ok((url, format, _)) = destination(&own, &with) else {
            panic!("no destination");
        };
        assert_eq!((url.expose(), format), ("http://10.0.0.1/h", Format::Slack));
    }
}
