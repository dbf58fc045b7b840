//! Deploy notifications: the provider block's `notifications` setting, and the one message
//! posted after each `jke_application` apply. A notification never fails an apply: a receiver
//! that is down, slow or answers an error becomes a warning, within the setting's timeout.
//! The webhook URL is sensitive: never in logs, plan output or diagnostics.

use crate::app::formats::parse_duration;
use crate::app::notification::{Deploy, Event, Format, webhook_url_problem};
use crate::plugin::{AttrPath, Attribute, Diagnostic, Diagnostics, Nesting, Type, Value};
use crate::webhook;
use std::time::Duration;

pub const DEFAULT_TIMEOUT: &str = "5s";
/// A notification must never hold an apply up for long.
const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// A webhook URL: shown nowhere (its Debug form hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn new(url: impl Into<String>) -> Self {
        WebhookUrl(url.into())
    }
    /// The URL itself, only for the request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookUrl(<sensitive>)")
    }
}

/// The decoded `notifications` setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Notifications {
    pub webhook_url: WebhookUrl,
    pub format: Format,
    pub events: Vec<Event>,
    pub timeout: Duration,
}

pub fn attribute() -> Attribute {
    let s = |name: &str, d: &str| Attribute::typed(name, Type::String, d).optional();
    Attribute::nested(
        "notifications",
        Nesting::Single,
        vec![
            Attribute::typed(
                "webhook_url",
                Type::String,
                "Where to post: a Slack incoming-webhook URL, or any receiver's `https://` (or `http://`) URL. Sensitive: it never appears in logs or plan output.",
            )
            .required()
            .sensitive(),
            s(
                "format",
                "`slack` (default): Slack's incoming-webhook JSON (`{\"text\": ...}`); `json`: one object with `event`, `environment`, `app`, `namespace`, `image` (`old`, `new`), `changed`, `result`, `duration_seconds`, `reason` and `text`.",
            ),
            Attribute::typed(
                "events",
                Type::list(Type::String),
                "Which events to post: any of `deployed`, `rolled_back`, `failed`, `destroyed`. Default: all four.",
            )
            .optional(),
            s(
                "timeout",
                "How long to wait for the receiver, e.g. `5s` (default), at most `30s`; a receiver that does not answer in time gives a warning, never a failed apply.",
            ),
        ],
        "Post a message after each `jke_application` apply: environment, app, namespace, old -> new image (or the settings that changed), result, duration, and for a failed or rolled-back rollout the reason. Set it once here, for every app of the configuration.",
    )
    .optional()
}

/// The setting from the provider block (`None` when absent), with problems at their paths.
/// Unknown values (known only at apply) are not checked yet.
pub fn decode(config: &Value, diags: &mut Diagnostics) -> Option<Notifications> {
    let n = config
        .get("notifications")
        .filter(|v| matches!(v, Value::Object(_)))?;
    let path = AttrPath::attr("notifications");
    let mut out = Notifications {
        webhook_url: WebhookUrl::new(""),
        format: Format::Slack,
        events: Event::ALL.to_vec(),
        timeout: parse_duration(DEFAULT_TIMEOUT).unwrap_or(Duration::from_secs(5)),
    };
    let mut known = true;
    match n.get("webhook_url") {
        Some(Value::Unknown) => known = false,
        Some(v) => match v.as_str() {
            Some(url) => match webhook_url_problem(url) {
                None => out.webhook_url = WebhookUrl::new(url),
                Some(why) => diags.error_at(
                    path.then_attr("webhook_url"),
                    "Invalid webhook URL",
                    format!(
                        "notifications.webhook_url {why} (the value is not shown: it is sensitive)"
                    ),
                ),
            },
            None => known = false,
        },
        None => known = false,
    }
    match n.get("format") {
        Some(Value::Unknown) => known = false,
        Some(v) => {
            if let Some(f) = v.as_str() {
                match Format::parse(f) {
                    Some(f) => out.format = f,
                    None => diags.error_at(
                        path.then_attr("format"),
                        "Invalid notification format",
                        format!(
                            "notifications.format = {f:?}: must be one of {}",
                            Format::NAMES.join(", ")
                        ),
                    ),
                }
            }
        }
        None => {}
    }
    match n.get("events") {
        Some(v) if v.contains_unknown() => known = false,
        Some(v) => {
            if let Some(list) = v.elements() {
                out.events.clear();
                for (i, e) in list.iter().enumerate() {
                    let Some(name) = e.as_str() else { continue };
                    match Event::parse(name) {
                        Some(ev) if !out.events.contains(&ev) => out.events.push(ev),
                        Some(_) => {}
                        None => diags.error_at(
                            path.then_attr("events").then_index(i),
                            "Invalid notification event",
                            format!(
                                "notifications.events[{i}] = {name:?}: must be one of {}",
                                Event::ALL.map(Event::name).join(", ")
                            ),
                        ),
                    }
                }
            }
        }
        None => {}
    }
    match n.get("timeout") {
        Some(Value::Unknown) => known = false,
        Some(v) => {
            if let Some(t) = v.as_str() {
                match parse_duration(t) {
                    Some(d) if !d.is_zero() && d <= MAX_TIMEOUT => out.timeout = d,
                    _ => diags.error_at(
                        path.then_attr("timeout"),
                        "Invalid notification timeout",
                        format!(
                            "notifications.timeout = {t:?}: must be a duration from 1s to {}s, e.g. \"5s\"",
                            MAX_TIMEOUT.as_secs()
                        ),
                    ),
                }
            }
        }
        None => {}
    }
    known.then_some(out)
}

/// Post `body` to `url` within `timeout`, logging the result as `what` (never the URL).
pub async fn post(
    url: &WebhookUrl,
    body: &serde_json::Value,
    timeout: Duration,
    what: &str,
) -> Result<(), webhook::WebhookError> {
    let posted = webhook::post_json(url.expose(), body, timeout).await;
    match &posted {
        Ok(()) => tracing::info!("{what}: posted"),
        Err(e) => tracing::warn!("{what}: not delivered: {e}"),
    }
    posted
}

/// After an app's apply: post its message if the setting asks for this event. A failure is
/// a warning: the apply itself is done.
pub async fn after_apply(settings: Option<&Notifications>, deploy: &Deploy) -> Option<Diagnostic> {
    let n = settings?;
    if !n.events.contains(&deploy.event) {
        return None;
    }
    let what = format!(
        "The {} notification for {}/{}",
        deploy.event.name(),
        deploy.namespace,
        deploy.app
    );
    let e = post(&n.webhook_url, &deploy.body(n.format), n.timeout, &what)
        .await
        .err()?;
    Some(Diagnostic::warning(
        "Notification not delivered",
        format!(
            "{what} was not posted: {e}. The apply itself is not affected; check the receiver behind the provider's notifications.webhook_url."
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn block(kvs: &[(&str, Value)]) -> Value {
        let n = Value::Object(
            kvs.iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        );
        Value::Object(BTreeMap::from([("notifications".to_string(), n)]))
    }

    fn s(v: &str) -> Value {
        Value::string(v)
    }

    #[test]
    fn defaults_post_every_event_as_slack_within_five_seconds() {
        let mut d = Diagnostics::new();
        let n = decode(
            &block(&[("webhook_url", s("https://hooks.example.com/x"))]),
            &mut d,
        );
        assert!(d.is_empty(), "{d:?}");
        let n = n.expect("decoded");
        assert_eq!(n.format, Format::Slack);
        assert_eq!(n.events, Event::ALL.to_vec());
        assert_eq!(n.timeout, Duration::from_secs(5));
        assert!(
            !format!("{n:?}").contains("hooks.example.com"),
            "Debug hides the URL"
        );
        assert!(decode(&Value::Null, &mut d).is_none());
    }

    #[test]
    fn bad_values_are_named_by_path_without_the_url() {
        let mut d = Diagnostics::new();
        let events = Value::List(vec![s("deployed"), s("exploded")]);
        decode(
            &block(&[
                ("webhook_url", s("hooks.example.com/T/SECRET")),
                ("format", s("teams")),
                ("events", events),
                ("timeout", s("5 minutes")),
            ]),
            &mut d,
        );
        let shown: Vec<(String, String)> =
            d.0.iter()
                .map(|x| {
                    (
                        x.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                        x.detail.clone(),
                    )
                })
                .collect();
        let paths: Vec<&str> = shown.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "notifications.webhook_url",
                "notifications.format",
                "notifications.events[1]",
                "notifications.timeout"
            ]
        );
        assert!(
            shown.iter().all(|(_, detail)| !detail.contains("SECRET")),
            "{shown:?}"
        );
        assert!(shown[1].1.contains("slack, json"));
        assert!(
            shown[2]
                .1
                .contains("deployed, rolled_back, failed, destroyed")
        );
    }

    #[test]
    fn unknown_values_wait_for_apply() {
        let mut d = Diagnostics::new();
        assert!(decode(&block(&[("webhook_url", Value::Unknown)]), &mut d).is_none());
        assert!(d.is_empty());
    }

    #[tokio::test]
    async fn events_not_asked_for_are_not_posted() {
        let n = Notifications {
            // Nothing listens there: posting would give a warning.
            webhook_url: WebhookUrl::new("http://127.0.0.1:9/x"),
            format: Format::Json,
            events: vec![Event::Failed],
            timeout: Duration::from_secs(2),
        };
        let deploy = Deploy {
            environment: None,
            app: "web".into(),
            namespace: "shop".into(),
            event: Event::Deployed,
            old_image: None,
            new_image: Some("nginx:1.27".into()),
            changed: Vec::new(),
            duration: Duration::from_secs(1),
            reason: None,
        };
        assert_eq!(after_apply(Some(&n), &deploy).await, None);
        assert_eq!(after_apply(None, &deploy).await, None);
        let failed = Deploy {
            event: Event::Failed,
            ..deploy
        };
        let warning = after_apply(Some(&n), &failed).await.expect("a warning");
        assert_eq!(warning.severity, crate::plugin::Severity::Warning);
        assert!(
            !warning.detail.contains("127.0.0.1:9/x"),
            "{}",
            warning.detail
        );
    }
}
