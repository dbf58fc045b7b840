//! go-plugin's handshake, as Terraform drives it: the magic cookie that says "Terraform
//! started me", the protocol version negotiation, and the one line on stdout that tells
//! Terraform where to connect.

use base64::Engine;
use std::path::Path;

/// The environment variable and value every Terraform (and OpenTofu) sets for providers.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// go-plugin's own protocol version (the first handshake field).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this provider speaks.
pub const PROTOCOL_VERSION: u32 = 6;

/// What a person running the binary by hand sees.
pub const NOT_STARTED_BY_TERRAFORM: &str = "\
This binary is a plugin for Terraform (the JKE provider, jke/jke). It is not meant to be run
directly: Terraform starts it when a configuration uses the jke provider.

To debug the provider, run it with --debug and follow the printed instructions.";

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("{NOT_STARTED_BY_TERRAFORM}")]
    NotStartedByTerraform,
    #[error(
        "Terraform offered plugin protocol versions {offered:?}, but this provider speaks only \
         version {PROTOCOL_VERSION} (Terraform 0.15.4 or later, or OpenTofu)"
    )]
    UnsupportedProtocol { offered: String },
}

/// Checks the magic cookie Terraform sets in the plugin's environment.
pub fn check_cookie(value: Option<&str>) -> Result<(), HandshakeError> {
    if value == Some(MAGIC_COOKIE_VALUE) {
        Ok(())
    } else {
        Err(HandshakeError::NotStartedByTerraform)
    }
}

/// Picks protocol 6 from `PLUGIN_PROTOCOL_VERSIONS` (a comma-separated list). Hosts too old
/// to send the list are assumed to want 6 as well (go-plugin falls back the same way, and
/// Terraform will refuse the handshake line if it cannot speak it).
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, HandshakeError> {
    let Some(list) = offered.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    let speaks_6 = list
        .split(',')
        .any(|v| v.trim().parse::<u32>() == Ok(PROTOCOL_VERSION));
    if speaks_6 {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(HandshakeError::UnsupportedProtocol {
            offered: list.to_string(),
        })
    }
}

/// The handshake line (without newline):
/// `CORE|APP-VERSION|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT`, where SERVER-CERT is the DER of
/// the AutoMTLS server certificate in base64 without padding, or empty without TLS.
pub fn handshake_line(socket: &Path, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{}|grpc|{cert}",
        socket.display()
    )
}

/// The `TF_REATTACH_PROVIDERS` value that attaches Terraform to a provider started with
/// `--debug` and listening on `socket`.
pub fn reattach_config(provider_address: &str, socket: &Path, pid: u32) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "unix", "String": socket.to_string_lossy() },
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie() {
        assert!(check_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert_eq!(
            check_cookie(None),
            Err(HandshakeError::NotStartedByTerraform)
        );
        assert!(check_cookie(Some("d602bf8f")).is_err());
        assert!(
            HandshakeError::NotStartedByTerraform
                .to_string()
                .starts_with("This binary is a plugin for Terraform")
        );
    }

    #[test]
    fn version_negotiation() {
        assert_eq!(negotiate_version(Some("5,6")), Ok(6));
        assert_eq!(negotiate_version(Some("6")), Ok(6));
        assert_eq!(negotiate_version(Some(" 6 , 7")), Ok(6));
        assert_eq!(negotiate_version(None), Ok(6));
        assert_eq!(negotiate_version(Some("")), Ok(6));
        let err = negotiate_version(Some("4,5")).unwrap_err();
        assert_eq!(
            err,
            HandshakeError::UnsupportedProtocol {
                offered: "4,5".into()
            }
        );
        assert!(err.to_string().contains("\"4,5\""));
        assert!(negotiate_version(Some("x,60")).is_err());
    }

    #[test]
    fn line_format() {
        let p = Path::new("/tmp/plugin123");
        assert_eq!(handshake_line(p, None), "1|6|unix|/tmp/plugin123|grpc|");
        // Standard alphabet, no padding (go's base64.RawStdEncoding).
        assert_eq!(
            handshake_line(p, Some(&[0xfb, 0xff, 0x01, 0x02])),
            "1|6|unix|/tmp/plugin123|grpc|+/8BAg"
        );
    }

    #[test]
    fn reattach_json() {
        let j = reattach_config("registry.terraform.io/jke/jke", Path::new("/tmp/p\"x"), 42);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        let c = &v["registry.terraform.io/jke/jke"];
        assert_eq!(c["Protocol"], "grpc");
        assert_eq!(c["ProtocolVersion"], 6);
        assert_eq!(c["Pid"], 42);
        assert_eq!(c["Test"], true);
        assert_eq!(c["Addr"]["Network"], "unix");
        assert_eq!(c["Addr"]["String"], "/tmp/p\"x");
    }
}
