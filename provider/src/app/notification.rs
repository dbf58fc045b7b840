//! Deploy notifications and `jke_notify` messages: what an app's apply did, as the JSON a
//! Slack incoming webhook takes or as a generic JSON object for other receivers. Pure: the
//! caller posts the body (the webhook URL never reaches this module).

use serde_json::{Value, json};
use std::time::Duration;

/// What happened to an app, as the provider's `notifications.events` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Created or updated, rolled out.
    Deployed,
    /// The new version did not roll out; the previous one runs again.
    RolledBack,
    /// The apply failed (and was not rolled back).
    Failed,
    Destroyed,
}

impl Event {
    pub const ALL: [Event; 4] = [
        Event::Deployed,
        Event::RolledBack,
        Event::Failed,
        Event::Destroyed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Event::Deployed => "deployed",
            Event::RolledBack => "rolled_back",
            Event::Failed => "failed",
            Event::Destroyed => "destroyed",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.name() == s)
    }

    /// The result as a person reads it.
    fn result(self) -> &'static str {
        match self {
            Event::Deployed => "succeeded",
            Event::RolledBack => "rolled back",
            Event::Failed => "failed",
            Event::Destroyed => "destroyed",
        }
    }

    fn emoji(self) -> &'static str {
        match self {
            Event::Deployed => ":white_check_mark:",
            Event::RolledBack => ":leftwards_arrow_with_hook:",
            Event::Failed => ":x:",
            Event::Destroyed => ":wastebasket:",
        }
    }
}

/// The body the receiver gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Slack's incoming-webhook JSON (`{"text": ...}`), which Mattermost, Rocket.Chat and
    /// Teams' Slack-compatible connectors take too.
    Slack,
    /// One JSON object with a field per fact, for receivers of your own.
    Json,
}

impl Format {
    pub const NAMES: [&'static str; 2] = ["slack", "json"];

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "slack" => Some(Format::Slack),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// One app's apply, as the notification tells it.
#[derive(Clone, Debug, PartialEq)]
pub struct Deploy {
    /// The provider's `environment`, if set.
    pub environment: Option<String>,
    pub app: String,
    pub namespace: String,
    pub event: Event,
    /// Image before the apply (none when the app was created).
    pub old_image: Option<String>,
    /// Image after the apply (none when the app was destroyed).
    pub new_image: Option<String>,
    /// Settings (top-level attributes) whose value changed, other than the image.
    pub changed: Vec<String>,
    pub duration: Duration,
    /// Why it failed or was rolled back, as the rollout said.
    pub reason: Option<String>,
}

impl Deploy {
    /// "nginx:1.27 -> nginx:1.28", "nginx:1.27 (new)", ...
    fn image_change(&self) -> String {
        match (&self.old_image, &self.new_image) {
            (None, Some(n)) => format!("{n} (new)"),
            (Some(o), None) => format!("{o} (removed)"),
            (Some(o), Some(n)) if o != n => format!("{o} -> {n}"),
            (Some(o), Some(_)) => format!("{o} (unchanged)"),
            (None, None) => "unknown".to_string(),
        }
    }

    /// One line a person reads: what, where, result.
    pub fn headline(&self) -> String {
        let env = self.environment.as_deref().unwrap_or("(no environment)");
        format!(
            "{}/{} in {env}: {}",
            self.namespace,
            self.app,
            self.event.result()
        )
    }

    /// The human text (Slack mrkdwn) with every fact on its own line.
    pub fn text(&self) -> String {
        let mut lines = vec![
            format!("{} *{}*", self.event.emoji(), self.headline()),
            format!(
                "environment: {}",
                self.environment.as_deref().unwrap_or("(not set)")
            ),
            format!("app: {}", self.app),
            format!("namespace: {}", self.namespace),
            format!("image: {}", self.image_change()),
        ];
        if !self.changed.is_empty() {
            lines.push(format!("changed: {}", self.changed.join(", ")));
        }
        lines.push(format!("result: {}", self.event.result()));
        lines.push(format!("duration: {}", seconds(self.duration)));
        if let Some(r) = &self.reason {
            lines.push(format!("reason: {r}"));
        }
        lines.join("\n")
    }

    /// The body to post.
    pub fn body(&self, format: Format) -> Value {
        match format {
            Format::Slack => json!({ "text": self.text() }),
            Format::Json => json!({
                "source": "jke",
                "event": self.event.name(),
                "environment": self.environment,
                "app": self.app,
                "namespace": self.namespace,
                "image": { "old": self.old_image, "new": self.new_image },
                "changed": self.changed,
                "result": self.event.result(),
                "duration_seconds": (self.duration.as_secs_f64() * 10.0).round() / 10.0,
                "reason": self.reason,
                "text": self.text(),
            }),
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// A free-form message (`jke_notify`).
pub fn message_body(message: &str, format: Format) -> Value {
    match format {
        Format::Slack => json!({ "text": message }),
        Format::Json => json!({ "source": "jke", "event": "message", "text": message }),
    }
}

/// The top-level settings that differ between two specs (as JSON objects), the image and
/// bookkeeping fields left out: "env, memory".
pub fn changed_settings(old: &Value, new: &Value) -> Vec<String> {
    const NOT_SETTINGS: [&str; 3] = ["image", "name", "namespace"];
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !NOT_SETTINGS.contains(&k.as_str()))
        .filter(|k| o.get(*k) != n.get(*k))
        .cloned()
        .collect()
}

/// Why a webhook URL is refused, without repeating it (it is a secret: Slack's URL is the
/// credential). `None` when it is acceptable.
pub fn webhook_url_problem(url: &str) -> Option<&'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some(
            "must start with https:// (or http:// for a receiver on a private network), e.g. https://hooks.slack.com/services/...",
        );
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Some("has no host: write it as https://HOST/PATH");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("contains spaces or control characters");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout_failed() -> Deploy {
        Deploy {
            environment: Some("prod".into()),
            app: "web".into(),
            namespace: "shop".into(),
            event: Event::RolledBack,
            old_image: Some("nginx:1.27".into()),
            new_image: Some("nginx:1.28".into()),
            changed: vec!["env".into()],
            duration: Duration::from_millis(31_200),
            reason: Some("0/2 pods available: 0/3 nodes are available".into()),
        }
    }

    #[test]
    fn slack_text_has_every_fact() {
        let body = rollout_failed().body(Format::Slack);
        let text = body["text"].as_str().unwrap_or_default();
        for want in [
            "shop/web in prod: rolled back",
            "environment: prod",
            "app: web",
            "namespace: shop",
            "image: nginx:1.27 -> nginx:1.28",
            "changed: env",
            "result: rolled back",
            "duration: 31.2s",
            "reason: 0/2 pods available: 0/3 nodes are available",
        ] {
            assert!(text.contains(want), "{want:?} missing from {text}");
        }
        assert_eq!(
            body.as_object().map(|o| o.len()),
            Some(1),
            "Slack gets only text"
        );
    }

    #[test]
    fn generic_json_has_a_field_per_fact() {
        let body = rollout_failed().body(Format::Json);
        assert_eq!(body["event"], "rolled_back");
        assert_eq!(body["environment"], "prod");
        assert_eq!(body["app"], "web");
        assert_eq!(body["namespace"], "shop");
        assert_eq!(
            body["image"],
            json!({"old": "nginx:1.27", "new": "nginx:1.28"})
        );
        assert_eq!(body["changed"], json!(["env"]));
        assert_eq!(body["result"], "rolled back");
        assert_eq!(body["duration_seconds"], 31.2);
        assert!(body["reason"].as_str().is_some_and(|r| r.contains("nodes")));
    }

    #[test]
    fn created_and_destroyed_apps_say_so() {
        let mut d = rollout_failed();
        d.event = Event::Deployed;
        d.old_image = None;
        d.reason = None;
        d.changed.clear();
        let text = d.text();
        assert!(text.contains("image: nginx:1.28 (new)") && text.contains("result: succeeded"));
        assert!(!text.contains("reason") && !text.contains("changed"));
        d.event = Event::Destroyed;
        d.old_image = Some("nginx:1.28".into());
        d.new_image = None;
        d.environment = None;
        let text = d.text();
        assert!(text.contains("nginx:1.28 (removed)") && text.contains("environment: (not set)"));
        assert_eq!(d.body(Format::Json)["environment"], Value::Null);
    }

    #[test]
    fn changed_settings_name_top_level_attributes_but_not_the_image() {
        let old =
            json!({"name": "web", "image": "a:1", "env": {"A": "1"}, "memory": "1Gi", "port": 80});
        let new =
            json!({"name": "web", "image": "a:2", "env": {"A": "2"}, "memory": "2Gi", "port": 80});
        assert_eq!(changed_settings(&old, &new), vec!["env", "memory"]);
        assert!(changed_settings(&old, &old).is_empty());
        assert!(changed_settings(&Value::Null, &new).is_empty());
    }

    #[test]
    fn events_and_formats_parse_by_name() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.name()), Some(e));
        }
        assert_eq!(Event::parse("rolledback"), None);
        assert_eq!(Format::parse("slack"), Some(Format::Slack));
        assert_eq!(Format::parse("Slack"), None);
        assert_eq!(message_body("hi", Format::Slack), json!({"text": "hi"}));
        assert_eq!(message_body("hi", Format::Json)["text"], "hi");
    }

    #[test]
    fn webhook_urls_need_a_scheme_and_host_and_are_never_echoed() {
        assert_eq!(
            webhook_url_problem("https://hooks.slack.com/services/T/B/X"),
            None
        );
        assert_eq!(webhook_url_problem("http://127.0.0.1:8080/hook"), None);
        for bad in [
            "hooks.slack.com/SECRET",
            "ftp://h/SECRET",
            "https://",
            "https:///SECRET",
            "https://h/a SECRET",
        ] {
            let why = webhook_url_problem(bad);
            assert!(why.is_some(), "{bad:?} accepted");
            assert!(
                !why.unwrap_or_default().contains("SECRET"),
                "{bad:?} echoed"
            );
        }
    }
}
