//! The live sample: one read-only transaction with a short statement
//! timeout, over TLS when the DSN asks for it. Errors name the server by
//! its masked DSN; the password never reaches a message.

use std::time::Duration;

use tokio_postgres::{NoTls, SimpleQueryMessage};

use crate::activity::{self, Row};
use crate::dsn::Dsn;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot connect to PostgreSQL at {dsn}: {reason}")]
    Connect { dsn: String, reason: String },
    #[error("connecting to PostgreSQL at {dsn} took longer than {secs}s")]
    ConnectTimeout { dsn: String, secs: u64 },
    #[error("the pg_stat_activity query failed on {dsn}: {reason}")]
    Query { dsn: String, reason: String },
}

pub struct Sample {
    pub rows: Vec<Row>,
    pub version: String,
}

fn reason(e: &tokio_postgres::Error) -> String {
    // `db error: FATAL: …` hides the server's words behind `db error`;
    // the chain holds them. None of it contains the password.
    let mut s = e.to_string();
    if let Some(db) = e.as_db_error() {
        s = format!("{}: {}", db.severity(), db.message());
    } else if let Some(src) = std::error::Error::source(e) {
        s = format!("{s}: {src}");
    }
    s
}

/// The TLS settings libpq's `sslmode` means: `require` encrypts without
/// checking the certificate (as libpq does); `verify-ca` and `verify-full`
/// check it against `sslrootcert` (else the Web PKI roots) and the host name.
fn tls_config(dsn: &Dsn) -> Result<rustls::ClientConfig, String> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    if dsn.sslmode == "require" {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(EncryptOnly(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    match &dsn.sslrootcert {
        Some(path) => {
            use rustls::pki_types::pem::PemObject;
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
            for c in certs {
                let c = c.map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
                roots.add(c).map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// `sslmode=require`: the channel is encrypted and the handshake signed, but
/// the certificate is not checked (libpq's meaning of `require`).
#[derive(Debug)]
struct EncryptOnly(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Takes one sample of pg_stat_activity, on the caller's async runtime.
pub async fn sample(dsn: &Dsn, connect_timeout: Duration) -> Result<Sample, FetchError> {
    let client = connect(dsn, connect_timeout).await?;
    let shown = dsn.shown.clone();
    let query_err = |e: tokio_postgres::Error| FetchError::Query { dsn: shown.clone(), reason: reason(&e) };
    let version_num: i32 =
        client.query_one("SELECT current_setting('server_version_num')::int", &[]).await.map_err(query_err)?.get(0);
    let version: String = client.query_one("SHOW server_version", &[]).await.map_err(query_err)?.get(0);
    client
        .batch_execute("BEGIN READ ONLY; SET LOCAL statement_timeout = '10s'; SET LOCAL TimeZone = 'UTC'")
        .await
        .map_err(query_err)?;
    let msgs = client.simple_query(&activity::query_for_version(version_num)).await.map_err(query_err)?;
    let _ = client.batch_execute("COMMIT").await;
    let mut rows = Vec::new();
    for m in msgs {
        if let SimpleQueryMessage::Row(r) = m {
            let map = r
                .columns()
                .iter()
                .enumerate()
                .filter_map(|(i, c)| Some((c.name().to_string(), r.get(i)?.to_string())))
                .collect();
            rows.push(Row(map));
        }
    }
    Ok(Sample { rows, version })
}

/// The server's words for a failed statement, and whether a statement timeout cancelled it.
pub fn statement_error(e: &tokio_postgres::Error) -> (String, bool) {
    let timed_out = e.as_db_error().is_some_and(|d| d.code() == &tokio_postgres::error::SqlState::QUERY_CANCELED);
    (reason(e), timed_out)
}

/// A session with the server (over TLS when the DSN asks), on the caller's async runtime.
pub async fn connect(dsn: &Dsn, connect_timeout: Duration) -> Result<tokio_postgres::Client, FetchError> {
    let shown = dsn.shown.clone();
    let mut config = dsn.config.clone();
    config.connect_timeout(connect_timeout);
    let connect_err = |e: tokio_postgres::Error| FetchError::Connect { dsn: shown.clone(), reason: reason(&e) };
    let tls = matches!(dsn.sslmode.as_str(), "require" | "verify-ca" | "verify-full");
    let client = if tls {
        let tls_config = tls_config(dsn).map_err(|reason| FetchError::Connect { dsn: shown.clone(), reason })?;
        config.ssl_mode(tokio_postgres::config::SslMode::Require);
        let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config);
        let fut = config.connect(connector);
        let (client, conn) = tokio::time::timeout(connect_timeout, fut)
            .await
            .map_err(|_| FetchError::ConnectTimeout { dsn: shown.clone(), secs: connect_timeout.as_secs() })?
            .map_err(connect_err)?;
        tokio::spawn(conn);
        client
    } else {
        let (client, conn) = tokio::time::timeout(connect_timeout, config.connect(NoTls))
            .await
            .map_err(|_| FetchError::ConnectTimeout { dsn: shown.clone(), secs: connect_timeout.as_secs() })?
            .map_err(connect_err)?;
        tokio::spawn(conn);
        client
    };
    Ok(client)
}
