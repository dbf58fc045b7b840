//! `jke`: the app engineer's command (see `terraform_provider_jke::cli`).

fn main() -> std::process::ExitCode {
    terraform_provider_jke::cli::main()
}
