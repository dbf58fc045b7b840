//! `jke <env> logs <app>`: the logs of every pod of the app (found by the app's labels), each
//! line prefixed with its pod's name, interleaved as the lines come. With `-f` it follows,
//! starting on pods that appear (a rollout) and dropping pods that go, until Ctrl-C.

use super::{CliError, Target};
use crate::app::application::bundle::app_label_selector;
use crate::app::formats::parse_duration;
use crate::kube::pods::{LogOptions, pod_name};
use clap::Args;
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The app's name.
    pub app: String,
    /// Keep following: new lines, and pods that start during a rollout.
    #[arg(short, long)]
    pub follow: bool,
    /// Only lines newer than this, e.g. 30s, 5m, 1h30m.
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
    /// Only the last N lines of each pod.
    #[arg(long, value_name = "N")]
    pub tail: Option<u32>,
    /// The previous (crashed) container's log.
    #[arg(long)]
    pub previous: bool,
    /// Container to read (default: the app's own container, named like the app).
    #[arg(short, long, value_name = "C")]
    pub container: Option<String>,
}

/// `--since` in seconds; a usage error saying what is accepted.
pub fn since_seconds(s: &str) -> Result<i64, CliError> {
    match parse_duration(s.trim()) {
        Some(d) if d.as_secs() > 0 => Ok(d.as_secs() as i64),
        _ => Err(CliError::Usage(format!(
            "--since {s:?} is not a duration of at least one second: use {}",
            crate::app::formats::DURATION_FORMS
        ))),
    }
}

/// Arguments that can be judged without the cluster.
pub fn check(a: &LogsArgs) -> Result<(), CliError> {
    if let Some(s) = &a.since {
        since_seconds(s)?;
    }
    if a.follow && a.previous {
        return Err(CliError::Usage(
            "--previous reads a log that has ended; it cannot be followed (drop -f)".into(),
        ));
    }
    Ok(())
}

/// One line of output: the pod's name padded to `width`, a separator, the line.
pub fn prefix(pod: &str, width: usize, line: &str) -> String {
    format!("{pod:<width$} | {line}")
}

/// What the per-pod readers send to the printer.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    Line {
        pod: String,
        text: String,
    },
    /// The pod's stream ended; with the error when it broke.
    Ended {
        pod: String,
        error: Option<String>,
    },
}

/// Interleaves line streams of several pods into one channel, whole lines at a time and in
/// the order they arrive; readers can be added and removed while it runs.
pub struct Mux {
    tx: mpsc::Sender<Event>,
    readers: BTreeMap<String, JoinHandle<()>>,
}

impl Mux {
    pub fn new() -> (Mux, mpsc::Receiver<Event>) {
        let (tx, rx) = mpsc::channel(1024);
        (
            Mux {
                tx,
                readers: BTreeMap::new(),
            },
            rx,
        )
    }

    /// Start forwarding `lines` as the pod's.
    pub fn add<S, E>(&mut self, pod: &str, lines: S)
    where
        S: Stream<Item = Result<String, E>> + Send + 'static,
        E: std::fmt::Display + Send,
    {
        let tx = self.tx.clone();
        let name = pod.to_string();
        let task = tokio::spawn(async move {
            let mut lines = std::pin::pin!(lines);
            let mut error = None;
            while let Some(item) = lines.next().await {
                match item {
                    Ok(text) => {
                        let ev = Event::Line {
                            pod: name.clone(),
                            text,
                        };
                        if tx.send(ev).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            let _ = tx.send(Event::Ended { pod: name, error }).await;
        });
        if let Some(old) = self.readers.insert(pod.to_string(), task) {
            old.abort();
        }
    }

    /// Stop the pod's reader (the pod went away).
    pub fn remove(&mut self, pod: &str) {
        if let Some(t) = self.readers.remove(pod) {
            t.abort();
        }
    }

    pub fn pods(&self) -> BTreeSet<String> {
        self.readers.keys().cloned().collect()
    }
}

impl Drop for Mux {
    fn drop(&mut self) {
        for t in self.readers.values() {
            t.abort();
        }
    }
}

/// Whether the container has started (running or ended), so that it has a log to read.
fn has_log(pod: &Pod, container: &str) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.name == container
                    && c.state
                        .as_ref()
                        .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
            })
        })
}

struct Printer {
    width: usize,
    out: std::io::LineWriter<std::io::Stdout>,
}

impl Printer {
    /// Print one event; `false` when standard output is gone (e.g. `| head`).
    fn print(&mut self, ev: &Event) -> bool {
        match ev {
            Event::Line { pod, text } => {
                self.width = self.width.max(pod.len());
                writeln!(self.out, "{}", prefix(pod, self.width, text)).is_ok()
            }
            Event::Ended {
                pod,
                error: Some(e),
            } => {
                eprintln!("jke: {pod}: {e}");
                true
            }
            Event::Ended { .. } => true,
        }
    }
}

pub async fn run(t: &Target, a: LogsArgs) -> Result<(), CliError> {
    let since = a.since.as_deref().map(since_seconds).transpose()?;
    t.app(&a.app).await?;
    let selector = app_label_selector(&a.app);
    let container = a.container.clone().unwrap_or_else(|| a.app.clone());
    let opts = LogOptions {
        container: Some(container.clone()),
        follow: a.follow,
        since_seconds: since,
        tail_lines: a.tail.map(i64::from),
        previous: a.previous,
    };
    let pods = t.cluster.list_pods(&t.namespace, &selector).await?;
    let (mut mux, mut rx) = Mux::new();
    let mut printer = Printer {
        width: pods.iter().map(|p| pod_name(p).len()).max().unwrap_or(0),
        out: std::io::LineWriter::new(std::io::stdout()),
    };
    let mut failures = 0usize;
    let mut started = 0usize;
    // Pods whose stream ended normally: their log was printed, do not start them again.
    let mut done: BTreeSet<String> = BTreeSet::new();
    let start = |mux: &mut Mux, pod: &Pod, opts: &LogOptions| {
        let name = pod_name(pod).to_string();
        let cluster = t.cluster.clone();
        let ns = t.namespace.clone();
        let opts = opts.clone();
        // Open the stream inside the reader so that a slow pod does not hold the others.
        let lines =
            futures::stream::once(async move { cluster.pod_log_lines(&ns, &name, &opts).await })
                .flat_map(|r| match r {
                    Ok(s) => s.boxed(),
                    Err(e) => futures::stream::iter([Err(e)]).boxed(),
                });
        mux.add(pod_name(pod), lines);
    };
    if !a.follow {
        if pods.is_empty() {
            eprintln!(
                "jke: app {} has no pods in namespace {} (scaled to zero, or not created yet)",
                a.app, t.namespace
            );
            return Ok(());
        }
        for p in &pods {
            start(&mut mux, p, &opts);
            started += 1;
        }
        let mut ended = 0usize;
        while ended < started {
            let Some(ev) = rx.recv().await else { break };
            if let Event::Ended { error, .. } = &ev {
                ended += 1;
                if error.is_some() {
                    failures += 1;
                }
            }
            if !printer.print(&ev) {
                return Ok(());
            }
        }
        return if failures == started {
            Err(CliError::Failed(format!(
                "no pod of app {} gave its log (see above)",
                a.app
            )))
        } else {
            Ok(())
        };
    }

    // Follow: look for new and gone pods every 2 s, print lines as they come, stop on Ctrl-C.
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut first = true;
    let initial: BTreeSet<String> = pods.iter().map(|p| pod_name(p).to_string()).collect();
    loop {
        tokio::select! {
            _ = &mut ctrl_c => break,
            ev = rx.recv() => {
                let Some(ev) = ev else { break };
                if let Event::Ended { pod, error } = &ev {
                    mux.remove(pod);
                    if error.is_none() {
                        done.insert(pod.clone());
                    }
                }
                if !printer.print(&ev) {
                    break;
                }
            }
            _ = tick.tick() => {
                let pods = if first {
                    first = false;
                    pods.clone()
                } else {
                    match t.cluster.list_pods(&t.namespace, &selector).await {
                        Ok(p) => p,
                        Err(e) => {
                            eprintln!("jke: {e}");
                            continue;
                        }
                    }
                };
                let live: BTreeSet<String> = pods.iter().map(|p| pod_name(p).to_string()).collect();
                for gone in mux.pods().difference(&live) {
                    mux.remove(gone);
                }
                done.retain(|p| live.contains(p));
                let running = mux.pods();
                for p in &pods {
                    let name = pod_name(p);
                    if running.contains(name) || done.contains(name) || !has_log(p, &container) {
                        continue;
                    }
                    // A pod that appears later is read from its start.
                    let o = if initial.contains(name) { opts.clone() } else {
                        LogOptions { since_seconds: None, tail_lines: None, ..opts.clone() }
                    };
                    start(&mut mux, p, &o);
                }
            }
        }
    }
    let _ = printer.out.flush();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_their_pods_name_aligned() {
        assert_eq!(prefix("web-1", 7, "hello"), "web-1   | hello");
        assert_eq!(prefix("web-abc", 7, "x"), "web-abc | x");
    }

    #[test]
    fn since_takes_go_style_durations_only() {
        assert_eq!(since_seconds("5m").unwrap(), 300);
        assert_eq!(since_seconds("1h30m").unwrap(), 5400);
        for bad in ["5 parsecs", "5", "", "0s", "-5m"] {
            match since_seconds(bad) {
                Err(CliError::Usage(m)) => assert!(m.contains("not a duration"), "{m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    /// A stream whose lines the test releases one at a time.
    fn controlled() -> (
        mpsc::UnboundedSender<String>,
        impl Stream<Item = Result<String, String>>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel::<String>();
        let s =
            futures::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|l| (Ok(l), rx)) },
            );
        (tx, s)
    }

    #[tokio::test]
    async fn lines_from_several_pods_interleave_in_arrival_order() {
        let (mut mux, mut rx) = Mux::new();
        let (a, sa) = controlled();
        let (b, sb) = controlled();
        mux.add("web-a", sa);
        mux.add("web-b", sb);
        let line = |pod: &str, text: &str| Event::Line {
            pod: pod.into(),
            text: text.into(),
        };
        a.send("a1".into()).unwrap();
        assert_eq!(rx.recv().await, Some(line("web-a", "a1")));
        b.send("b1".into()).unwrap();
        assert_eq!(rx.recv().await, Some(line("web-b", "b1")));
        a.send("a2".into()).unwrap();
        assert_eq!(rx.recv().await, Some(line("web-a", "a2")));
        b.send("b2".into()).unwrap();
        b.send("b3".into()).unwrap();
        assert_eq!(rx.recv().await, Some(line("web-b", "b2")));
        assert_eq!(rx.recv().await, Some(line("web-b", "b3")));
        drop(b);
        assert_eq!(
            rx.recv().await,
            Some(Event::Ended {
                pod: "web-b".into(),
                error: None
            })
        );
        // A removed pod's reader stops; the others go on.
        mux.remove("web-a");
        assert_eq!(mux.pods(), BTreeSet::from(["web-b".to_string()]));
        assert!(a.send("lost".into()).is_err() || rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_broken_stream_ends_with_its_error() {
        let (mut mux, mut rx) = Mux::new();
        mux.add(
            "web-a",
            futures::stream::iter([Ok("x".to_string()), Err("connection reset".to_string())]),
        );
        assert!(matches!(rx.recv().await, Some(Event::Line { .. })));
        assert_eq!(
            rx.recv().await,
            Some(Event::Ended {
                pod: "web-a".into(),
                error: Some("connection reset".into())
            })
        );
    }
}
