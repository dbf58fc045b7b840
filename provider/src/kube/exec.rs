//! Running a command in a pod's container (the `pods/exec` subresource over WebSocket), with
//! or without a terminal, and the command's exit code.

use super::client::Cluster;
use super::error::KubeError;
use futures::SinkExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams, TerminalSize};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// What to run where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecTarget {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub command: Vec<String>,
    /// Allocate a terminal in the container (stderr then arrives on stdout, as on a terminal).
    pub tty: bool,
}

/// The local ends of an exec: where input comes from, where output goes, and terminal sizes
/// (width, height) to pass on when `tty` is set.
pub struct ExecIo<I, O, E> {
    pub stdin: I,
    pub stdout: O,
    pub stderr: E,
    pub resize: Option<mpsc::Receiver<(u16, u16)>>,
}

/// How the remote command ended, from the status the API server sends on the exec stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecEnd {
    /// The command ran and exited with this code.
    Exited(i32),
    /// The command could not be run (or the stream broke); the server's message.
    Failed(String),
}

/// The exit code in an exec stream's final status. A kubelet reports a non-zero exit as
/// reason `NonZeroExitCode` with an `ExitCode` cause; some node agents only say
/// "... exit status N" in the message of a failure, which is read as code N too.
pub fn exec_end(status: Option<&Status>) -> ExecEnd {
    let Some(s) = status else {
        return ExecEnd::Failed("the exec stream closed without a status".into());
    };
    if s.status.as_deref() == Some("Success") {
        return ExecEnd::Exited(0);
    }
    let reason = s.reason.as_deref().unwrap_or("");
    let message = s.message.as_deref().unwrap_or("");
    if reason == "NonZeroExitCode"
        && let Some(code) = s
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
            .and_then(|c| c.message.as_deref())
            .and_then(|m| m.trim().parse::<i32>().ok())
    {
        return ExecEnd::Exited(code);
    }
    if let Some(code) = message
        .trim_end()
        .rsplit_once("exit status ")
        .and_then(|(_, n)| n.parse::<i32>().ok())
    {
        return ExecEnd::Exited(code);
    }
    ExecEnd::Failed(if message.is_empty() {
        format!("the command failed ({reason})")
    } else {
        message.to_string()
    })
}

impl Cluster {
    /// Run `target.command` in the container and copy the streams until it exits. Returns
    /// how it ended; an error only when the exec could not be started.
    pub async fn exec<I, O, E>(
        &self,
        target: &ExecTarget,
        io: ExecIo<I, O, E>,
    ) -> Result<ExecEnd, KubeError>
    where
        I: AsyncRead + Unpin + Send + 'static,
        O: AsyncWrite + Unpin + Send + 'static,
        E: AsyncWrite + Unpin + Send + 'static,
    {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &target.namespace);
        let ap = AttachParams {
            container: Some(target.container.clone()),
            stdin: true,
            stdout: true,
            stderr: !target.tty,
            tty: target.tty,
            ..AttachParams::default()
        };
        let mut proc = api
            .exec(&target.pod, target.command.clone(), &ap)
            .await
            .map_err(|e| {
                KubeError::from_kube(
                    e,
                    &self.host,
                    &format!(
                        "exec in container {} of pod {} in namespace {}",
                        target.container, target.pod, target.namespace
                    ),
                )
            })?;
        let status = proc.take_status();
        let ExecIo {
            mut stdin,
            mut stdout,
            mut stderr,
            resize,
        } = io;
        // Input runs on its own: the command may end while stdin is still open.
        let input = proc.stdin().map(|mut remote| {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut stdin, &mut remote).await;
                let _ = remote.shutdown().await;
            })
        });
        let sizes = match (proc.terminal_size(), resize) {
            (Some(mut tx), Some(mut rx)) => Some(tokio::spawn(async move {
                while let Some((width, height)) = rx.recv().await {
                    if tx.send(TerminalSize { width, height }).await.is_err() {
                        break;
                    }
                }
            })),
            _ => None,
        };
        let out = proc.stdout().map(|mut r| {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut r, &mut stdout).await;
                let _ = stdout.flush().await;
            })
        });
        let err = proc.stderr().map(|mut r| {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut r, &mut stderr).await;
                let _ = stderr.flush().await;
            })
        });
        let end = match status {
            Some(s) => exec_end(s.await.as_ref()),
            None => ExecEnd::Failed("no exec status".into()),
        };
        // Output sent before the status is complete once the copies drain.
        for t in [out, err].into_iter().flatten() {
            let _ = t.await;
        }
        for t in [input, sizes].into_iter().flatten() {
            t.abort();
        }
        let _ = proc.join().await;
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

    fn failure(message: &str, reason: &str) -> Status {
        Status {
            status: Some("Failure".into()),
            message: Some(message.into()),
            reason: Some(reason.into()),
            ..Status::default()
        }
    }

    #[test]
    fn exit_codes_come_from_the_status() {
        let ok = Status {
            status: Some("Success".into()),
            ..Status::default()
        };
        assert_eq!(exec_end(Some(&ok)), ExecEnd::Exited(0));
        let mut nonzero = failure(
            "command terminated with non-zero exit code",
            "NonZeroExitCode",
        );
        nonzero.details = Some(StatusDetails {
            causes: Some(vec![StatusCause {
                reason: Some("ExitCode".into()),
                message: Some("3".into()),
                field: None,
            }]),
            ..StatusDetails::default()
        });
        assert_eq!(exec_end(Some(&nonzero)), ExecEnd::Exited(3));
        let wrapped = failure(
            "Internal error occurred: error executing command in container: cmd wait: sh -c exit 7: exit status 7",
            "InternalError",
        );
        assert_eq!(exec_end(Some(&wrapped)), ExecEnd::Exited(7));
        let broken = failure("container not found (\"web\")", "InternalError");
        assert_eq!(
            exec_end(Some(&broken)),
            ExecEnd::Failed("container not found (\"web\")".into())
        );
        assert!(matches!(exec_end(None), ExecEnd::Failed(_)));
    }
}
