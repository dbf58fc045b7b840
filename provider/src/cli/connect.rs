//! `jke <env> connect <app>`: run a command (default: a shell) in one ready pod's app
//! container, with a terminal when standard input is one. `jke` exits with the command's
//! exit code.

use super::{CliError, Target};
use crate::app::application::bundle::app_label_selector;
use crate::kube::exec::{ExecEnd, ExecIo, ExecTarget};
use crate::kube::pods::{is_ready, pod_name};
use clap::Args;
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The app's name.
    pub app: String,
    /// The pod to use (default: the first ready one).
    #[arg(long, value_name = "P")]
    pub pod: Option<String>,
    /// The command and its arguments, after `--` (default: bash if there is one, else sh).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// The shell when no command is given: bash where the image has it, else sh.
pub fn default_command() -> Vec<String> {
    [
        "/bin/sh",
        "-c",
        "command -v bash >/dev/null 2>&1 && exec bash || exec sh",
    ]
    .map(String::from)
    .to_vec()
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Unknown")
}

/// The pod to run in: the named one (which must be the app's and ready), else the first
/// ready pod by name.
pub fn choose<'a>(
    pods: &'a [Pod],
    wanted: Option<&str>,
    app: &str,
    ns: &str,
) -> Result<&'a Pod, CliError> {
    let summary = || {
        if pods.is_empty() {
            "it has no pods".to_string()
        } else {
            format!(
                "its pods: {}",
                pods.iter()
                    .map(|p| format!(
                        "{} ({}{})",
                        pod_name(p),
                        phase(p),
                        if is_ready(p) {
                            ", ready"
                        } else {
                            ", not ready"
                        }
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    match wanted {
        Some(w) => match pods.iter().find(|p| pod_name(p) == w) {
            Some(p) if is_ready(p) => Ok(p),
            Some(_) => Err(CliError::Failed(format!(
                "pod {w} of app {app} is not ready; {}",
                summary()
            ))),
            None => Err(CliError::Failed(format!(
                "{w} is not a pod of app {app} in namespace {ns}; {}",
                summary()
            ))),
        },
        None => pods.iter().find(|p| is_ready(p)).ok_or_else(|| {
            CliError::Failed(format!(
                "app {app} has no ready pod in namespace {ns}; {}. `jke <env> status {app}` says why.",
                summary()
            ))
        }),
    }
}

/// Standard input's terminal in raw mode for as long as this lives (keys go to the remote
/// terminal as typed, Ctrl-C included); restored on drop.
struct RawMode {
    saved: libc::termios,
}

impl RawMode {
    fn enter() -> Option<RawMode> {
        // SAFETY: tcgetattr/tcsetattr on fd 0 with a termios the C library initialises.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return None;
            }
            let saved = t;
            libc::cfmakeraw(&mut t);
            if libc::tcsetattr(0, libc::TCSANOW, &t) != 0 {
                return None;
            }
            Some(RawMode { saved })
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the attributes read in `enter`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}

fn stdin_is_terminal() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(0) == 1 }
}

/// (columns, rows) of the terminal on standard input or output.
fn terminal_size() -> Option<(u16, u16)> {
    for fd in [0, 1] {
        // SAFETY: TIOCGWINSZ fills a winsize; a non-terminal fd returns an error.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0 {
                return Some((ws.ws_col, ws.ws_row));
            }
        }
    }
    None
}

pub async fn run(t: &Target, a: ConnectArgs) -> Result<(), CliError> {
    t.app(&a.app).await?;
    let pods = t
        .cluster
        .list_pods(&t.namespace, &app_label_selector(&a.app))
        .await?;
    let pod = choose(&pods, a.pod.as_deref(), &a.app, &t.namespace)?;
    let containers: Vec<String> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    let container = if containers.contains(&a.app) {
        a.app.clone()
    } else {
        containers
            .first()
            .cloned()
            .ok_or_else(|| CliError::Failed(format!("pod {} has no containers", pod_name(pod))))?
    };
    let tty = stdin_is_terminal();
    let command = if a.command.is_empty() {
        default_command()
    } else {
        a.command.clone()
    };
    let target = ExecTarget {
        namespace: t.namespace.clone(),
        pod: pod_name(pod).to_string(),
        container,
        command,
        tty,
    };
    let resize = if tty {
        let (tx, rx) = mpsc::channel(4);
        if let Some(size) = terminal_size() {
            let _ = tx.try_send(size);
        }
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut winch) = signal(SignalKind::window_change()) else {
                return;
            };
            while winch.recv().await.is_some() {
                if let Some(size) = terminal_size()
                    && tx.send(size).await.is_err()
                {
                    break;
                }
            }
        });
        Some(rx)
    } else {
        None
    };
    let raw = if tty { RawMode::enter() } else { None };
    let end = t
        .cluster
        .exec(
            &target,
            ExecIo {
                stdin: tokio::io::stdin(),
                stdout: tokio::io::stdout(),
                stderr: tokio::io::stderr(),
                resize,
            },
        )
        .await;
    drop(raw);
    match end? {
        ExecEnd::Exited(0) => Ok(()),
        ExecEnd::Exited(code) => Err(CliError::Exit(code)),
        ExecEnd::Failed(m) => Err(CliError::Failed(format!(
            "in pod {} of app {}: {m}",
            target.pod, a.app
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(name: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..ObjectMeta::default()
            },
            status: Some(PodStatus {
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..PodCondition::default()
                }]),
                ..PodStatus::default()
            }),
            ..Pod::default()
        }
    }

    #[test]
    fn picks_the_first_ready_pod_or_the_named_one() {
        let pods = [pod("web-a", false), pod("web-b", true), pod("web-c", true)];
        assert_eq!(pod_name(choose(&pods, None, "web", "ns").unwrap()), "web-b");
        assert_eq!(
            pod_name(choose(&pods, Some("web-c"), "web", "ns").unwrap()),
            "web-c"
        );
        for (wanted, says) in [
            (Some("web-a"), "not ready"),
            (Some("api-1"), "not a pod of app web"),
        ] {
            match choose(&pods, wanted, "web", "ns") {
                Err(CliError::Failed(m)) => assert!(
                    m.contains(says) && m.contains("web-b (Running, ready)"),
                    "{m}"
                ),
                other => panic!("{other:?}"),
            }
        }
        match choose(&[], None, "web", "ns") {
            Err(CliError::Failed(m)) => {
                assert!(m.contains("no ready pod") && m.contains("no pods"))
            }
            other => panic!("{other:?}"),
        }
    }
}
