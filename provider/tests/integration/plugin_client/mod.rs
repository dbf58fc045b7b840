//! Terraform's side of the plugin connection, for tests: a go-plugin style client
//! certificate, the handshake line parsed, and gRPC channels over the unix socket with or
//! without AutoMTLS.

#![allow(dead_code)]

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::SignatureScheme;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::sign::CertifiedKey;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint};

/// A client certificate made like go-plugin's (and so Terraform's): self-signed ECDSA
/// P-521, flagged as a CA, for `localhost`, organisation HashiCorp.
#[derive(Clone)]
pub struct ClientCert {
    pub pem: String,
    pub der: Vec<u8>,
    key: Arc<P521Key>,
}

struct P521Key {
    signing: p521::ecdsa::SigningKey,
    public_sec1: Vec<u8>,
}

impl std::fmt::Debug for P521Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P521Key")
    }
}

impl P521Key {
    fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        use p521::ecdsa::signature::Signer;
        let sig: p521::ecdsa::Signature = self.signing.sign(msg);
        sig.to_der().as_bytes().to_vec()
    }
}

pub fn client_cert() -> ClientCert {
    let signing = p521::ecdsa::SigningKey::random(&mut p521::elliptic_curve::rand_core::OsRng);
    let public_sec1 = p521::ecdsa::VerifyingKey::from(&signing)
        .to_encoded_point(false)
        .as_bytes()
        .to_vec();
    let key = P521Key {
        signing,
        public_sec1,
    };
    let der = go_plugin_certificate(&key);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    ClientCert {
        pem,
        der,
        key: Arc::new(key),
    }
}

/// The X.509 certificate go-plugin's `generateCert` makes, written out in DER (rcgen cannot
/// sign with P-521 on ring): self-signed, ecdsa-with-SHA512, CA, digitalSignature |
/// keyEncipherment | keyAgreement | certSign, client and server auth, SAN localhost.
fn go_plugin_certificate(key: &P521Key) -> Vec<u8> {
    use yasna::models::ObjectIdentifier as Oid;
    use yasna::{DERWriter, Tag};
    let oid = |c: &[u64]| Oid::from_slice(c);
    let ecdsa_sha512 = oid(&[1, 2, 840, 10045, 4, 3, 4]);
    let name = |w: DERWriter| {
        w.write_sequence(|w| {
            for (attr, value) in [
                (&[2u64, 5, 4, 10][..], "HashiCorp"),
                (&[2, 5, 4, 3], "localhost"),
            ] {
                w.next().write_set(|w| {
                    w.next().write_sequence(|w| {
                        w.next().write_oid(&oid(attr));
                        w.next().write_utf8_string(value);
                    })
                });
            }
        })
    };
    let utc_time = |w: DERWriter, t: &str| {
        w.write_tagged_implicit(yasna::tags::TAG_UTCTIME, |w| w.write_bytes(t.as_bytes()))
    };
    let extension = |w: DERWriter, id: &[u64], critical: bool, value: Vec<u8>| {
        w.write_sequence(|w| {
            w.next().write_oid(&oid(id));
            if critical {
                w.next().write_bool(true);
            }
            w.next().write_bytes(&value);
        })
    };
    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_tagged(Tag::context(0), |w| w.write_u8(2));
            w.next().write_u64(0x5eed_1234_abcd);
            w.next()
                .write_sequence(|w| w.next().write_oid(&ecdsa_sha512));
            name(w.next());
            w.next().write_sequence(|w| {
                utc_time(w.next(), "200101000000Z");
                utc_time(w.next(), "491231235959Z");
            });
            name(w.next());
            w.next().write_sequence(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_oid(&oid(&[1, 2, 840, 10045, 2, 1]));
                    w.next().write_oid(&oid(&[1, 3, 132, 0, 35]));
                });
                w.next()
                    .write_bitvec_bytes(&key.public_sec1, key.public_sec1.len() * 8);
            });
            w.next().write_tagged(Tag::context(3), |w| {
                w.write_sequence(|w| {
                    let key_usage = yasna::construct_der(|w| w.write_bitvec_bytes(&[0xac], 6));
                    extension(w.next(), &[2, 5, 29, 15], true, key_usage);
                    let ext_key_usage = yasna::construct_der(|w| {
                        w.write_sequence(|w| {
                            w.next().write_oid(&oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2]));
                            w.next().write_oid(&oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1]));
                        })
                    });
                    extension(w.next(), &[2, 5, 29, 37], false, ext_key_usage);
                    let basic =
                        yasna::construct_der(|w| w.write_sequence(|w| w.next().write_bool(true)));
                    extension(w.next(), &[2, 5, 29, 19], true, basic);
                    let san = yasna::construct_der(|w| {
                        w.write_sequence(|w| {
                            w.next().write_tagged_implicit(Tag::context(2), |w| {
                                w.write_ia5_string("localhost")
                            })
                        })
                    });
                    extension(w.next(), &[2, 5, 29, 17], false, san);
                })
            });
        })
    });
    let signature = key.sign_der(&tbs);
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_der(&tbs);
            w.next()
                .write_sequence(|w| w.next().write_oid(&ecdsa_sha512));
            w.next().write_bitvec_bytes(&signature, signature.len() * 8);
        })
    })
}

impl ClientCert {
    /// This certificate, but signing with `other`'s key: an impostor who copied the
    /// certificate (it is in the plugin's environment) without its private key.
    pub fn with_key_of(&self, other: &ClientCert) -> ClientCert {
        ClientCert {
            key: other.key.clone(),
            ..self.clone()
        }
    }
}

/// Presents the certificate and signs the TLS handshake with its P-521 key.
#[derive(Debug)]
struct ClientAuth(Arc<CertifiedKey>);

impl ResolvesClientCert for ClientAuth {
    fn resolve(&self, _hints: &[&[u8]], schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        schemes
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
            .then(|| self.0.clone())
    }
    fn has_certs(&self) -> bool {
        true
    }
}

#[derive(Debug)]
struct P521Signing(Arc<P521Key>);

impl rustls::sign::SigningKey for P521Signing {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
            .then(|| Box::new(P521Signer(self.0.clone())) as Box<dyn rustls::sign::Signer>)
    }
    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        rustls::SignatureAlgorithm::ECDSA
    }
}

#[derive(Debug)]
struct P521Signer(Arc<P521Key>);

impl rustls::sign::Signer for P521Signer {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        Ok(self.0.sign_der(message))
    }
    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP521_SHA512
    }
}

/// The handshake line's fields.
#[derive(Debug)]
pub struct Handshake {
    pub core_version: String,
    pub app_version: String,
    pub network: String,
    pub address: PathBuf,
    pub protocol: String,
    pub server_cert_der: Option<Vec<u8>>,
}

pub fn parse_handshake(line: &str) -> Handshake {
    let parts: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line {line:?}");
    let server_cert_der = if parts[5].is_empty() {
        None
    } else {
        Some(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(parts[5])
                .expect("server certificate in raw standard base64"),
        )
    };
    Handshake {
        core_version: parts[0].into(),
        app_version: parts[1].into(),
        network: parts[2].into(),
        address: PathBuf::from(parts[3]),
        protocol: parts[4].into(),
        server_cert_der,
    }
}

fn endpoint() -> Endpoint {
    Endpoint::from_static("http://localhost").connect_timeout(Duration::from_secs(5))
}

/// A plaintext gRPC channel over the unix socket at `path`.
pub async fn connect_plain(path: PathBuf) -> Result<Channel, tonic::transport::Error> {
    endpoint()
        .connect_with_connector(tower::service_fn(move |_| {
            let path = path.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?)) }
        }))
        .await
}

/// A gRPC channel over the unix socket with mutual TLS: the server must present
/// `server_cert_der` for `localhost` (as go-plugin's client checks), and we present `client`.
pub async fn connect_mtls(
    path: PathBuf,
    server_cert_der: &[u8],
    client: &ClientCert,
) -> Result<Channel, tonic::transport::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(server_cert_der.to_vec()))
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_cert_resolver(Arc::new(ClientAuth(Arc::new(CertifiedKey::new(
        vec![CertificateDer::from(client.der.clone())],
        Arc::new(P521Signing(client.key.clone())),
    )))));
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    endpoint()
        .connect_with_connector(tower::service_fn(move |_| {
            let path = path.clone();
            let connector = connector.clone();
            async move {
                let tcp = UnixStream::connect(path).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), tcp)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

/// A fresh directory for sockets, short enough for unix socket path limits.
pub fn socket_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jke-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Plugin-mode options as Terraform would set them, without touching the process
/// environment: cookie, protocol versions, and the client certificate when given.
pub fn plugin_opts(
    dir: PathBuf,
    client_cert_pem: Option<String>,
) -> (
    terraform_provider_jke::plugin::ServeOpts,
    tokio::sync::oneshot::Receiver<String>,
) {
    use terraform_provider_jke::plugin::{go_plugin::Shutdown, handshake};
    let (tx, rx) = tokio::sync::oneshot::channel();
    let opts = terraform_provider_jke::plugin::ServeOpts {
        debug: false,
        magic_cookie: Some(handshake::MAGIC_COOKIE_VALUE.to_string()),
        protocol_versions: Some("5,6".into()),
        client_cert_pem,
        unix_socket_dir: Some(dir),
        provider_address: terraform_provider_jke::plugin::PROVIDER_ADDRESS.into(),
        announce: Some(tx),
        handle_signals: false,
        shutdown: Shutdown::new(),
    };
    (opts, rx)
}
