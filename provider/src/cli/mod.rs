//! `jke`: the app engineer's command. `jke init` writes an app's `jke_application` block;
//! `jke <env> logs | connect | status | restart <app>` work on the app in one environment's
//! cluster, reached and checked exactly as the provider does it ([`Cluster::connect`] with
//! the environment guard). Knows nothing of Terraform.
//!
//! Exit codes: 0 success; 1 failure (the cluster said no, the guard refused, a rollout
//! failed, the app is unknown); 2 usage errors (bad arguments, unknown environment, missing
//! or invalid environments file). `connect` exits with the remote command's code.

pub mod config;
pub mod connect;
pub mod envs;
pub mod init;
pub mod logs;
pub mod restart;
pub mod status;

use crate::app::object::{LABEL_MANAGED_BY, MANAGED_BY};
use crate::kube::{Cluster, KubeError};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use k8s_openapi::api::apps::v1::Deployment;
use std::process::ExitCode;

/// Why `jke` stopped, and so its exit code.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments or configuration: exit 2.
    Usage(String),
    /// The work failed (cluster, guard, rollout, unknown app): exit 1.
    Failed(String),
    /// A remote command's own exit code (`connect`), passed through silently.
    Exit(i32),
}

impl CliError {
    pub fn code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) => 1,
            CliError::Exit(c) => *c,
        }
    }
}

impl From<KubeError> for CliError {
    fn from(e: KubeError) -> Self {
        CliError::Failed(e.to_string())
    }
}

const AFTER_HELP: &str = "\
Environment commands (the environment comes first; see `jke envs`):
  jke <env> logs <app> [-f] [--since DURATION] [--tail N] [--previous] [--container C]
  jke <env> connect <app> [--pod P] [-- CMD ARGS...]
  jke <env> status <app> [--output text|json]
  jke <env> restart <app>
Options for every environment command: -n/--namespace NS (default: the environment's).

Environments come from jke.toml (JKE_CONFIG, or the nearest jke.toml from the current folder
up, or ~/.config/jke/config.toml). Before anything else jke checks that the cluster says it is
that environment, and refuses otherwise.

Exit codes: 0 success, 1 failure, 2 usage error; connect: the command's exit code.";

#[derive(Debug, Parser)]
#[command(
    name = "jke",
    version,
    about = "The app engineer's command for JKE: write an app's settings, then see its logs, open a shell in it, check it and restart it in any environment.",
    after_help = AFTER_HELP,
    subcommand_value_name = "COMMAND|ENV"
)]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(Debug, Subcommand)]
enum Top {
    /// Write a jke_application block for a new app (default file app.tf).
    Init(init::InitArgs),
    /// List the configured environments and where each points.
    Envs,
    /// `jke <env> <command> ...`: work on an app in that environment.
    #[command(external_subcommand)]
    Env(Vec<String>),
}

/// What follows `jke <env>`.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct EnvCli {
    #[command(flatten)]
    common: EnvArgs,
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Args)]
struct EnvArgs {
    /// Namespace to look in (default: the environment's `namespace`, else "default").
    #[arg(short, long, global = true)]
    namespace: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Logs of every pod of the app, each line prefixed with its pod's name.
    Logs(logs::LogsArgs),
    /// Run a command (default: a shell) in one ready pod of the app.
    Connect(connect::ConnectArgs),
    /// Image, pods, rollout, autoscaler, disruption budget, URL and recent warnings.
    Status(status::StatusArgs),
    /// Restart every pod of the app with a rolling update and wait for it.
    Restart(restart::RestartArgs),
}

/// An environment's cluster, connected and checked, and where its apps live.
pub struct Target {
    pub cluster: Cluster,
    pub environment: String,
    pub namespace: String,
}

impl Target {
    /// The app's Deployment; an unknown app names the namespace searched and the apps there.
    pub async fn app(&self, app: &str) -> Result<Deployment, CliError> {
        if let Some(d) = self
            .cluster
            .get_namespaced::<Deployment>(&self.namespace, app)
            .await?
        {
            return Ok(d);
        }
        let apps = self
            .cluster
            .list_names::<Deployment>(&self.namespace, &format!("{LABEL_MANAGED_BY}={MANAGED_BY}"))
            .await?;
        Err(CliError::Failed(format!(
            "no app {app:?} in namespace {:?} of environment {}: {}. Check the name, or pick another namespace with --namespace.",
            self.namespace,
            self.environment,
            if apps.is_empty() {
                "there are no apps there".to_string()
            } else {
                format!("the apps there are {}", apps.join(", "))
            }
        )))
    }
}

async fn connect(env_name: &str, namespace: Option<String>) -> Result<Target, CliError> {
    let config = config::load()?;
    let env = config.environment(env_name)?;
    let namespace = namespace.unwrap_or_else(|| env.namespace.clone());
    let cluster = Cluster::connect(&env.cluster_settings())
        .await
        .map_err(|e| match e {
            KubeError::WrongEnvironment { message: m, .. } => CliError::Failed(format!(
                "refusing to work on this cluster: {m} (environment {env_name} in {})",
                config.path.display()
            )),
            other => CliError::Failed(format!(
                "cannot connect to environment {env_name} ({}): {other}",
                env.describe()
            )),
        })?;
    Ok(Target {
        cluster,
        environment: env_name.to_string(),
        namespace,
    })
}

async fn run_env(words: Vec<String>) -> Result<(), CliError> {
    let mut words = words.into_iter();
    let env_name = words.next().unwrap_or_default();
    let rest: Vec<String> = words.collect();
    let command = EnvCli::command().bin_name(format!("jke {env_name}"));
    let parsed = match command
        .try_get_matches_from(&rest)
        .and_then(|m| EnvCli::from_arg_matches(&m))
    {
        Ok(p) => p,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return if code == 0 {
                Ok(())
            } else {
                Err(CliError::Exit(code))
            };
        }
    };
    // Check the arguments before anything touches the network.
    match &parsed.verb {
        Verb::Logs(a) => {
            logs::check(a)?;
        }
        Verb::Connect(_) | Verb::Status(_) | Verb::Restart(_) => {}
    }
    let target = connect(&env_name, parsed.common.namespace).await?;
    match parsed.verb {
        Verb::Logs(a) => logs::run(&target, a).await,
        Verb::Connect(a) => connect::run(&target, a).await,
        Verb::Status(a) => status::run(&target, a).await,
        Verb::Restart(a) => restart::run(&target, a).await,
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Top::Init(a) => init::run(a),
        Top::Envs => envs::run(),
        Top::Env(words) => run_env(words).await,
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("JKE_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

/// The `jke` binary's main: parse, run, print the error, and exit with its code. Exits the
/// process directly so that a pending read of standard input (connect) does not hold it.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            std::process::exit(e.exit_code());
        }
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("jke: error: cannot start: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(run(cli));
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            if let CliError::Usage(m) | CliError::Failed(m) = &e {
                eprintln!("jke: error: {m}");
            }
            e.code()
        }
    };
    use std::io::Write;
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}
