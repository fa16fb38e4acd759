//! The secret shapes redaction knows, as data: one row per vendor token or
//! credential format, each with a sample the tests mask. The token
//! families follow the public rule sets secret scanners maintain (gitleaks
//! is the broadest); the regular expressions are written here.

/// What part of a match is the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The whole match is the secret.
    Whole,
    /// Group 1 is kept, group 2 is the secret.
    Value,
    /// Groups 1 and 3 are kept, group 2 is the secret.
    Middle,
}

/// One secret shape.
pub struct Rule {
    pub id: &'static str,
    pub pattern: &'static str,
    pub keep: Keep,
    /// A line the rule must mask, and the secret in it that must not survive.
    pub sample: (&'static str, &'static str),
}

const fn token(id: &'static str, pattern: &'static str, sample: &'static str) -> Rule {
    Rule { id, pattern, keep: Keep::Whole, sample: (sample, sample) }
}

/// Vendor tokens recognisable by their own prefix or shape: masked wherever
/// they appear, whatever names them.
pub const TOKENS: &[Rule] = &[
    token("1password-secret-key", r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}", "A3-ABC123-DEF456GHI78-JKL90-MNO12-PQR34"),
    token("1password-service-account", r"ops_eyJ[A-Za-z0-9+/]{100,}={0,3}", "ops_eyJhbGciOiJFUzI1NiIsImtpZCI6IjEyMyJ9aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8"),
    token("age-secret-key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", "AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE"),
    token("anthropic-key", r"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{80,120}", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvAA"),
    token("artifactory-api-key", r"AKCp[A-Za-z0-9]{69}", "AKCp8jQ2abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abc"),
    token("aws-access-key-id", r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}", "AKIAIOSFODNN7EXAMPLE"),
    token("aws-bedrock-key", r"ABSK[A-Za-z0-9+/]{109,269}={0,2}", "ABSKQmVkcm9ja0FQSUtleS1hYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODlhYmNkZWZnaGlqaw=="),
    token("azure-ad-client-secret", r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}", "abc8Q~AbCdEfGhIjKlMnOpQrStUvWxYz0123456"),
    token("clickhouse-cloud-secret", r"4b1d[A-Za-z0-9]{38}", "4b1dAbCdEfGhIjKlMnOpQrStUvWxYz012345678901"),
    token("clojars-token", r"CLOJARS_[A-Za-z0-9]{60}", "CLOJARS_abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwx"),
    token("cloudflare-origin-ca-key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}", "v1.0-0123456789abcdef01234567-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01"),
    token("databricks-token", r"dapi[a-f0-9]{32}(?:-\d)?", "dapi0123456789abcdef0123456789abcdef"),
    token("digitalocean-token", r"do[opr]_v1_[a-f0-9]{64}", "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
    token("doppler-token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}", "dp.pt.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
    token("duffel-token", r"duffel_(?:test|live)_[A-Za-z0-9_=-]{43}", "duffel_test_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
    token("dynatrace-token", r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}", "dt0c01.ABCDEFGHIJKLMNOPQRSTUVWX.abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01"),
    token("easypost-key", r"EZ[AT]K[A-Za-z0-9]{54}", "EZAKabcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqr"),
    token("facebook-page-token", r"EAA[MC][A-Za-z0-9]{100,}", "EAAMabcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123"),
    token("flutterwave-key", r"FLW(?:SECK|PUBK)_TEST-[A-Za-h0-9]{12,32}(?:-X)?", "FLWSECK_TEST-0123456789abcdef0123456789abcdef-X"),
    token("flyio-token", r"(?:fo1_[\w-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3})", "fo1_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
    token("frameio-token", r"fio-u-[A-Za-z0-9_=-]{64}", "fio-u-abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01"),
    token("gcp-api-key", r"AIza[\w-]{35}", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
    token("github-token", r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{40,})", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    token("gitlab-token", r"(?:glpat|gldt|glrt|glsoat|glft|glffct|glimt|glagent|gloas|glcbt|glptt)-[\w-]{20,}(?:\.[0-9a-z]{9})?", "glpat-abcdefghijklmnopqrst"),
    token("gitlab-runner-registration", r"GR1348941[\w-]{20}", "GR1348941abcdefghijklmnopqrst"),
    token("grafana-token", r"(?:glc_[A-Za-z0-9+/]{32,400}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{70,400}={0,3})", "glsa_abcdefghijklmnopqrstuvwxyz012345_0a1b2c3d"),
    token("harness-key", r"(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}", "pat.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwx.abcdefghijklmnopqrst"),
    token("heroku-key", r"HRKU-AA[0-9A-Za-z_-]{58}", "HRKU-AAabcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuv"),
    token("huggingface-token", r"(?:hf_|api_org_)[A-Za-z]{34}", "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
    token("infracost-token", r"ico-[A-Za-z0-9]{32}", "ico-abcdefghijklmnopqrstuvwxyz012345"),
    token("linear-key", r"lin_api_[A-Za-z0-9]{40}", "lin_api_abcdefghijklmnopqrstuvwxyz0123456789abcd"),
    token("maxmind-key", r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk", "abc123_abcdefghijklmnopqrstuvwxyz012_mmk"),
    token("newrelic-key", r"NR(?:AK|JS|II)-[A-Za-z0-9-]{19,32}", "NRAK-ABCDEFGHIJKLMNOPQRSTUVWXYZ1"),
    token("notion-token", r"ntn_[0-9]{11}[A-Za-z0-9]{35}", "ntn_12345678901abcdefghijklmnopqrstuvwxyz012345678"),
    token("npm-token", r"npm_[A-Za-z0-9]{36}", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
    token("octopus-key", r"API-[A-Z0-9]{26}", "API-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    token("openai-key", r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,200}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123456789"),
    token("openshift-token", r"sha256~[\w-]{43}", "sha256~abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
    token("perplexity-key", r"pplx-[A-Za-z0-9]{48}", "pplx-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL"),
    token("planetscale-token", r"pscale_(?:tkn|oauth|pw)_[\w=.-]{32,64}", "pscale_tkn_abcdefghijklmnopqrstuvwxyz0123456789"),
    token("postman-key", r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}", "PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01"),
    token("prefect-key", r"pnu_[A-Za-z0-9]{36}", "pnu_abcdefghijklmnopqrstuvwxyz0123456789"),
    token("pulumi-token", r"pul-[a-f0-9]{40}", "pul-0123456789abcdef0123456789abcdef01234567"),
    token("pypi-token", r"pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}", "pypi-AgEIcHlwaS5vcmcCJGI4ZjQ0ZDI4LWVhYmQtNGYxMy04ZmQ3LWRkY2IxNzk4ZDk5NQACKlsz"),
    token("readme-key", r"rdme_[a-z0-9]{70}", "rdme_abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01234567"),
    token("rubygems-key", r"rubygems_[a-f0-9]{48}", "rubygems_0123456789abcdef0123456789abcdef0123456789abcdef"),
    token("scalingo-token", r"tk-us-[\w-]{48}", "tk-us-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL"),
    token("sendgrid-key", r"SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}", "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"),
    token("sendinblue-key", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", "xkeysib-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-AbCdEfGhIjKlMnOp"),
    token("sentry-token", r"(?:sntryu_[a-f0-9]{64}|sntrys_eyJpYXQiO[A-Za-z0-9+/=_]{40,})", "sntryu_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
    token("settlemint-token", r"sm_(?:aat|pat|sat)_[A-Za-z0-9]{16}", "sm_pat_abcdefghijklmnop"),
    token("shippo-token", r"shippo_(?:live|test)_[a-fA-F0-9]{40}", "shippo_live_0123456789abcdef0123456789abcdef01234567"),
    token("shopify-token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", "shpat_0123456789abcdef0123456789abcdef"),
    token("slack-token", r"(?:xox[abposer]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}|xoxe\.xox[bp]-\d-[A-Za-z0-9]{100,})", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    token("square-token", r"(?:EAAA|sq0atp-|sq0csp-)[\w-]{22,60}", "sq0atp-abcdefghijklmnopqrstuv"),
    token("stripe-key", r"(?:sk|rk|pk)_(?:live|test|prod)_[A-Za-z0-9]{10,99}|whsec_[A-Za-z0-9]{16,}", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    token("twilio-key", r"SK[0-9a-fA-F]{32}", "SK2a0747e1e4a0d4e7b7c5f3e1d9a8b6c4"),
    token("vault-token", r"(?:hvs\.[\w-]{90,120}|hvb\.[\w-]{138,300})", "hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghGh4KHGh2cy5BYkNkRWZHaElqS2xNbk9wUXJTdFV2V3hZejAxMjM0NTY3ODk"),
];

/// Credentials on a command line and in the files that hold them: an
/// argument after a flag that takes one, `sshpass -p`, `docker login -p`,
/// `curl -u user:pass`, `.netrc` lines and Docker/Podman `auths` entries.
pub const ARGUMENTS: &[Rule] = &[
    Rule {
        id: "password-flag",
        pattern: r#"(?i)((?:^|\s)--(?:http-|proxy-|db-|admin-)?(?:password|passwd|pass|token|api-key|apikey|secret|client-secret|access-token|auth-token|private-key)(?:=|\s+)["']?)([^\s"']+)"#,
        keep: Keep::Value,
        sample: ("vault login --token s.Xy12Ab34Cd56Ef78Gh90 -address=x", "s.Xy12Ab34Cd56Ef78Gh90"),
    },
    Rule {
        id: "mysql-p",
        pattern: r#"((?i:\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mysqlimport|mysqlcheck))\b[^\n|;&]*?\s-p["']?)([^\s"']+)"#,
        keep: Keep::Value,
        sample: ("backup: mysqldump -u root -pS3cr3tMy app > app.sql", "S3cr3tMy"),
    },
    Rule {
        id: "sshpass",
        pattern: r#"(\bsshpass\s+(?:-[a-oq-zA-Z]\S*\s+)*-p\s*["']?)([^\s"']+)"#,
        keep: Keep::Value,
        sample: ("ran sshpass -p Ssh9Pass ssh deploy@web", "Ssh9Pass"),
    },
    Rule {
        id: "docker-login",
        pattern: r#"(\b(?:docker|podman|nerdctl|buildah)\s+login\b[^\n|;&]*?\s-p\s*["']?)([^\s"']+)"#,
        keep: Keep::Value,
        sample: ("docker login -u ci -p D0ckerPw registry.example.com", "D0ckerPw"),
    },
    Rule {
        id: "redis-cli-a",
        pattern: r#"(?i)(\bredis-cli\b[^\n|;&]*?\s-a\s+["']?)([^\s"']+)"#,
        keep: Keep::Value,
        sample: ("redis-cli -h cache -a R3disPw ping", "R3disPw"),
    },
    Rule {
        id: "curl-user",
        pattern: r#"(\b(?:curl|wget|http|https)\b[^\n|;&]*?\s(?:-u|--user|--proxy-user|-U)(?:=|\s*)["']?[^\s:"']*:)([^\s"']+)"#,
        keep: Keep::Value,
        sample: ("curl -sS -u admin:Cu5lPass https://api/x", "Cu5lPass"),
    },
    Rule {
        id: "netrc",
        pattern: r"(?i)(\b(?:machine\s+\S+|default)\b[^\n]*?\bpassword\s+)(\S+)",
        keep: Keep::Value,
        sample: ("machine api.example.com login deploy password N3trcPw", "N3trcPw"),
    },
    Rule {
        id: "docker-auths",
        pattern: r#"(?i)("(?:auth|identitytoken|registrytoken)"\s*:\s*")([^"]+)(")"#,
        keep: Keep::Middle,
        sample: (r#"{"auths":{"registry.example.com":{"auth":"Y2k6RDBja2VyUHcxMjM="}}}"#, "Y2k6RDBja2VyUHcxMjM="),
    },
];
