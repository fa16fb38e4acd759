//! Where the server is: a DSN (URL or `key=value`), `DATABASE_URL`, or the
//! libpq `PG*` variables; and the same place shown without its password.

use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum DsnError {
    #[error("cannot read the PostgreSQL connection string {shown}: {reason}")]
    Invalid { shown: String, reason: String },
}

/// A connection string with its parts known, so it can be shown safely.
#[derive(Clone)]
pub struct Dsn {
    pub config: tokio_postgres::Config,
    /// How the DSN appears in output: the password replaced by `***`.
    pub shown: String,
    /// `sslmode` as asked: `disable`, `prefer`, `require`, `verify-ca`, `verify-full`.
    pub sslmode: String,
    /// `sslrootcert` (or `PGSSLROOTCERT`): the CA file for `verify-ca`/`verify-full`.
    pub sslrootcert: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Dsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Replaces the password of a URL or `key=value` DSN by `***`.
pub fn mask(dsn: &str) -> String {
    if let Some(scheme_end) = dsn.find("://") {
        let (scheme, rest) = dsn.split_at(scheme_end + 3);
        let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (auth, tail) = rest.split_at(auth_end);
        if let Some(at) = auth.rfind('@') {
            let (cred, host) = auth.split_at(at);
            if let Some(colon) = cred.find(':') {
                let user = cred.get(..colon).unwrap_or_default();
                return mask_query(&format!("{scheme}{user}:***{host}{tail}"));
            }
        }
        return mask_query(dsn);
    }
    let mut out = Vec::new();
    for part in split_kv(dsn) {
        match part.split_once('=') {
            Some((k, _)) if k.trim() == "password" => out.push("password=***".to_string()),
            _ => out.push(part),
        }
    }
    out.join(" ")
}

fn mask_query(url: &str) -> String {
    match url.split_once('?') {
        None => url.to_string(),
        Some((base, q)) => {
            let parts: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some(("password", _)) => "password=***".to_string(),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{base}?{}", parts.join("&"))
        }
    }
}

/// `key=value` pairs, honouring single quotes around values.
fn split_kv(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Builds the connection: an explicit DSN, else `DATABASE_URL`, else the
/// `PG*` variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
/// `PGDATABASE`, `PGSSLMODE`, `PGAPPNAME`), which also fill what a DSN leaves out.
pub fn resolve(explicit: Option<&str>, env: &BTreeMap<String, String>) -> Result<Dsn, DsnError> {
    let text = explicit.map(str::to_string).or_else(|| env.get("DATABASE_URL").cloned()).unwrap_or_default();
    let shown = if text.is_empty() { "(from PG* variables)".to_string() } else { mask(&text) };
    let invalid = |reason: String| DsnError::Invalid { shown: shown.clone(), reason };
    // TLS settings are this collector's to apply (tokio-postgres knows only
    // disable/prefer/require); the rest goes to its parser, whose own message
    // may quote the input and is never let through.
    let (stripped, tls) = take_tls_params(&text);
    if tls.iter().any(|(k, _)| k == "sslcert" || k == "sslkey") {
        return Err(invalid("client certificates (sslcert, sslkey) are not supported".into()));
    }
    let tls_param = |k: &str| tls.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let mut config: tokio_postgres::Config = if stripped.is_empty() {
        tokio_postgres::Config::new()
    } else {
        let normalised = stripped.replacen("postgresql+psycopg2://", "postgresql://", 1);
        normalised.parse().map_err(|_| invalid("not a URL or key=value list that libpq would accept".into()))?
    };
    if config.get_hosts().is_empty() {
        match env.get("PGHOST") {
            Some(h) if h.starts_with('/') => config.host_path(h),
            Some(h) => config.host(h),
            None => config.host("localhost"),
        };
    }
    if config.get_ports().is_empty() {
        if let Some(p) = env.get("PGPORT") {
            let port = p.parse::<u16>().map_err(|_| invalid(format!("PGPORT {p:?} is not a port")))?;
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        if let Some(u) = env.get("PGUSER").or_else(|| env.get("USER")) {
            config.user(u);
        }
    }
    if config.get_password().is_none() {
        if let Some(p) = env.get("PGPASSWORD") {
            config.password(p);
        }
    }
    if config.get_dbname().is_none() {
        if let Some(d) = env.get("PGDATABASE") {
            config.dbname(d);
        }
    }
    if config.get_application_name().is_none() {
        config.application_name("reconstruct");
    }
    let sslmode = tls_param("sslmode").or_else(|| env.get("PGSSLMODE").cloned()).unwrap_or_else(|| "prefer".into());
    if !["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(&sslmode.as_str()) {
        return Err(invalid(format!("unknown sslmode {sslmode:?}")));
    }
    let sslrootcert = tls_param("sslrootcert").or_else(|| env.get("PGSSLROOTCERT").cloned()).map(Into::into);
    Ok(Dsn { config, shown, sslmode, sslrootcert })
}

const TLS_KEYS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

/// Removes the TLS parameters from a URL's query or a `key=value` list.
fn take_tls_params(text: &str) -> (String, Vec<(String, String)>) {
    let mut taken = Vec::new();
    if text.contains("://") {
        let Some((base, query)) = text.split_once('?') else { return (text.to_string(), taken) };
        let mut kept = Vec::new();
        for kv in query.split('&') {
            match kv.split_once('=') {
                Some((k, v)) if TLS_KEYS.contains(&k) => taken.push((k.to_string(), v.to_string())),
                _ => kept.push(kv),
            }
        }
        let rebuilt = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
        return (rebuilt, taken);
    }
    let mut kept = Vec::new();
    for part in split_kv(text) {
        match part.split_once('=') {
            Some((k, v)) if TLS_KEYS.contains(&k.trim()) => {
                taken.push((k.trim().to_string(), v.trim_matches('\'').to_string()))
            }
            _ => kept.push(part),
        }
    }
    (kept.join(" "), taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            mask("postgres://app:s3cr3t@db:5432/app?sslmode=require"),
            "postgres://app:***@db:5432/app?sslmode=require"
        );
        assert_eq!(mask("postgresql://app@db/app"), "postgresql://app@db/app");
        assert_eq!(mask("postgres://db/app?user=a&password=x"), "postgres://db/app?user=a&password=***");
        assert_eq!(mask("host=db user=app password='p w' dbname=app"), "host=db user=app password=*** dbname=app");
        assert_eq!(mask("postgres://u:p@ss@db/x"), "postgres://u:***@db/x");
    }

    #[test]
    fn resolves_from_env_and_never_leaks_in_errors() {
        let mut env = BTreeMap::new();
        env.insert("PGHOST".to_string(), "127.0.0.1".to_string());
        env.insert("PGPORT".to_string(), "5433".to_string());
        env.insert("PGUSER".to_string(), "u".to_string());
        env.insert("PGPASSWORD".to_string(), "pw".to_string());
        let d = resolve(None, &env).unwrap();
        assert_eq!(d.config.get_ports(), &[5433]);
        assert_eq!(d.config.get_password(), Some(&b"pw"[..]));
        let err = resolve(Some("postgres://u:topsecret@db:notaport/x"), &env).unwrap_err().to_string();
        assert!(!err.contains("topsecret"), "{err}");
        assert!(err.contains("***"), "{err}");
        let d = resolve(Some("postgres://u:pw@db/x?sslmode=require"), &env).unwrap();
        assert_eq!(d.sslmode, "require");
        let d = resolve(Some("postgres://u:pw@db/x?application_name=a&sslmode=verify-full&sslrootcert=/ca.pem"), &env)
            .unwrap();
        assert_eq!(
            (d.sslmode.as_str(), d.sslrootcert.as_deref()),
            ("verify-full", Some(std::path::Path::new("/ca.pem")))
        );
        assert_eq!(d.config.get_application_name(), Some("a"));
        let d = resolve(Some("host=db user=u sslmode=verify-ca dbname=x"), &env).unwrap();
        assert_eq!((d.sslmode.as_str(), d.config.get_dbname()), ("verify-ca", Some("x")));
        assert!(resolve(Some("postgres://db/x?sslmode=sometimes"), &env).is_err());
        assert!(resolve(Some("postgres://db/x?sslcert=/c.pem"), &env).is_err());
    }
}
