//! Logs through `tracing` to stderr. Terraform reads a provider's stderr line by line and
//! shows it under `TF_LOG` / `TF_LOG_PROVIDER`; lines in hclog's JSON form (`@level`,
//! `@message`, then fields) keep their level and fields there, so that is what the plugin
//! writes. With `--debug` a person reads stderr directly, so it is plain text.

use std::fmt;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The level from `TF_LOG_PROVIDER`, else `TF_LOG`: trace, debug, info, warn, error, off
/// (any case; Terraform's `JSON` means trace). Unset or unrecognised: warn.
pub fn level_from_env(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> LevelFilter {
    let chosen = [tf_log_provider, tf_log]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty());
    match chosen.map(str::to_ascii_lowercase).as_deref() {
        Some("trace" | "json") => LevelFilter::TRACE,
        Some("debug") => LevelFilter::DEBUG,
        Some("info") => LevelFilter::INFO,
        Some("warn") => LevelFilter::WARN,
        Some("error") => LevelFilter::ERROR,
        Some("off") => LevelFilter::OFF,
        _ => LevelFilter::WARN,
    }
}

/// The filter for a level: this crate at `level`; libraries (HTTP/2, TLS, Kubernetes client)
/// at most at warn, or debug when tracing, so `TF_LOG=debug` shows the provider's own story.
pub fn filter(level: LevelFilter) -> EnvFilter {
    let libraries = if level == LevelFilter::TRACE {
        LevelFilter::DEBUG
    } else {
        level.min(LevelFilter::WARN)
    };
    EnvFilter::new(format!("{libraries},{}={level}", env!("CARGO_CRATE_NAME")))
}

/// Installs the global subscriber: hclog JSON lines (`debug == false`) or plain text.
/// Does nothing if a subscriber is already installed.
pub fn init(debug: bool) {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = if debug {
        builder.try_init()
    } else {
        builder.event_format(Hclog).try_init()
    };
}

/// One JSON object per event, in the shape go-plugin's host parses: `@level` and `@message`
/// (strings), `@timestamp` (in the one layout it accepts), `@module`, and the event's fields.
pub struct Hclog;

impl<S, N> FormatEvent<S, N> for Hclog
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        writeln!(writer, "{}", hclog_line(event))
    }
}

fn hclog_line(event: &Event<'_>) -> String {
    let mut fields = JsonFields::default();
    event.record(&mut fields);
    let mut obj = serde_json::Map::new();
    let level = match *event.metadata().level() {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    };
    obj.insert("@level".into(), level.into());
    obj.insert(
        "@message".into(),
        fields.message.take().unwrap_or_default().into(),
    );
    obj.insert("@module".into(), "jke".into());
    obj.insert(
        "@timestamp".into(),
        timestamp(std::time::SystemTime::now()).into(),
    );
    for (k, v) in fields.fields {
        obj.insert(k, v);
    }
    serde_json::Value::Object(obj).to_string()
}

/// UTC time as go-plugin parses it (Go layout `2006-01-02T15:04:05.000000Z07:00`).
fn timestamp(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[derive(Default)]
struct JsonFields {
    message: Option<String>,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl JsonFields {
    fn put(&mut self, field: &Field, v: serde_json::Value) {
        if field.name() == "message" {
            self.message = Some(match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_string(), v);
        }
    }
}

impl Visit for JsonFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn levels() {
        assert_eq!(level_from_env(None, None), LevelFilter::WARN);
        assert_eq!(level_from_env(None, Some("DEBUG")), LevelFilter::DEBUG);
        assert_eq!(
            level_from_env(Some("trace"), Some("error")),
            LevelFilter::TRACE
        );
        assert_eq!(level_from_env(Some(""), Some("info")), LevelFilter::INFO);
        assert_eq!(level_from_env(None, Some("JSON")), LevelFilter::TRACE);
        assert_eq!(level_from_env(None, Some("off")), LevelFilter::OFF);
        assert_eq!(level_from_env(None, Some("loud")), LevelFilter::WARN);
    }

    #[test]
    fn timestamps_in_go_plugin_layout() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        // 2024-02-29T23:59:58.123456Z (a leap day).
        let t = UNIX_EPOCH + Duration::from_micros(1_709_251_198_123_456);
        assert_eq!(timestamp(t), "2024-02-29T23:59:58.123456Z");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_800); // 2100-01-01
        assert_eq!(timestamp(t), "2100-01-01T00:00:00.000000Z");
    }

    #[test]
    fn libraries_are_quieter_than_the_provider() {
        assert_eq!(
            filter(LevelFilter::DEBUG).to_string(),
            "terraform_provider_jke=debug,warn"
        );
        assert_eq!(
            filter(LevelFilter::ERROR).to_string(),
            "terraform_provider_jke=error,error"
        );
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn hclog_json_lines() {
        let buf = Buf::default();
        let b2 = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(LevelFilter::TRACE)
            .with_writer(move || b2.clone())
            .event_format(Hclog)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(type_name = "jke_application", n = 3, "planning \"web\"");
            tracing::warn!(ok = true, "careful");
        });
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["@level"], "debug");
        assert_eq!(lines[0]["@message"], "planning \"web\"");
        assert_eq!(lines[0]["type_name"], "jke_application");
        assert_eq!(lines[0]["n"], 3);
        assert_eq!(lines[1]["@level"], "warn");
        assert_eq!(lines[1]["ok"], true);
        assert!(lines[1]["@timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
