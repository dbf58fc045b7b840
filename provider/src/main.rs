//! terraform-provider-jke: started by Terraform (go-plugin handshake), or by hand with
//! `--debug` to attach Terraform to a long-running provider, `render` to print the
//! manifests of a planned app, or `--version` to print the release version.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use terraform_provider_jke::plugin::serve::main_with;
use terraform_provider_jke::resources::{JkeProvider, render::render_values};

fn render() -> ExitCode {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("render: cannot read standard input: {e}");
        return ExitCode::from(1);
    }
    let values: serde_json::Value = match serde_json::from_str(&input) {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "render: standard input is not JSON: {e}\nusage: terraform-provider-jke render < values.json (a jke_application's values from `terraform show -json`)"
            );
            return ExitCode::from(2);
        }
    };
    match render_values(&values) {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("render: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("render") => return render(),
        Some("--version") => {
            println!("terraform-provider-jke {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    main_with(Arc::new(JkeProvider::new()))
}
