//! Cloud and OpenBao tokens: where they come from (env, keyring, upstream's plaintext file) and when they expire.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::env::Env;
use crate::keyring::{api_token_account, CredentialStore};

/// The cloud API used when none is given.
pub const DEFAULT_API_URL: &str = "https://api.systemprompt.io";
/// Env variable with the cloud API token (CI).
pub const TOKEN_ENV: &str = "SYSTEMPROMPT_API_TOKEN";
/// The variables this tool reads its own credentials from: `run` does not pass them on unless
/// the profile's `secrets.vault.auth` names one or `--keep-env` asks for it.
pub const CREDENTIAL_ENV: &[&str] = &[TOKEN_ENV, "BAO_TOKEN", "VAULT_TOKEN"];
/// Env variable with the cloud API URL.
pub const API_URL_ENV: &str = "SYSTEMPROMPT_API_URL";

/// The API URL: the flag, then `SYSTEMPROMPT_API_URL`, then the `api_url` of upstream's
/// `credentials.json` (the nearest walking up from `start`; it may be the sandbox), then the
/// default; without a trailing slash.
#[must_use]
pub fn api_url(flag: Option<&str>, env: &dyn Env, start: &Path) -> String {
    flag.map(str::to_owned)
        .or_else(|| env.var(API_URL_ENV).filter(|v| !v.trim().is_empty()))
        .or_else(|| {
            find_credentials_file(start)
                .and_then(|p| read_credentials(&p).ok())
                .and_then(|c| c.api_url)
                .filter(|u| !u.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
        .trim()
        .trim_end_matches('/')
        .to_owned()
}

/// Where a token came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TokenSource {
    /// `SYSTEMPROMPT_API_TOKEN`.
    Env,
    /// The OS keyring.
    Keyring {
        /// The store's name.
        store: String,
    },
    /// Another env variable (`BAO_TOKEN`, `VAULT_TOKEN`).
    EnvVar {
        /// Its name.
        name: String,
    },
    /// The plaintext `~/.vault-token`.
    VaultTokenFile {
        /// The file.
        path: PathBuf,
    },
    /// An `AppRole` login for this run, with the role id from this variable.
    AppRole {
        /// The variable holding the role id.
        role_id_env: String,
    },
    /// A Kubernetes service-account login for this run.
    Kubernetes {
        /// The Vault role.
        role: String,
        /// The service-account token file.
        jwt_path: PathBuf,
    },
    /// Upstream's plaintext `.systemprompt/credentials.json`.
    CredentialsFile {
        /// The file.
        path: PathBuf,
    },
}

impl std::fmt::Display for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Env => write!(f, "env ${TOKEN_ENV}"),
            TokenSource::Keyring { store } => write!(f, "keyring ({store})"),
            TokenSource::CredentialsFile { path } | TokenSource::VaultTokenFile { path } => {
                write!(f, "{} (plaintext)", path.display())
            }
            TokenSource::EnvVar { name } => write!(f, "env ${name}"),
            TokenSource::AppRole { role_id_env } => {
                write!(f, "an AppRole login (role id from ${role_id_env})")
            }
            TokenSource::Kubernetes { role, jwt_path } => write!(
                f,
                "a Kubernetes login (role `{role}`, service-account token {})",
                jwt_path.display()
            ),
        }
    }
}

/// A token and what is known about it.
#[derive(Debug)]
pub struct Token {
    /// The token.
    pub value: SecretString,
    /// Where it came from.
    pub source: TokenSource,
    /// Its JWT `exp` (seconds since the Unix epoch), when it is a JWT.
    pub expires_at: Option<u64>,
}

/// Why no usable token was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Nothing anywhere.
    #[error("not logged in: run `cargo systemprompt-secrets login` (or set {TOKEN_ENV} in CI)")]
    NotLoggedIn,
    /// No OpenBao token anywhere.
    #[error("no OpenBao token: set BAO_TOKEN, or run `cargo systemprompt-secrets login --backend openbao --address {address}`")]
    NoOpenBaoToken {
        /// The first address.
        address: String,
    },
    /// The token found cannot be sent: it holds a line break, an escape or another character no
    /// HTTP header can carry.
    #[error("the token from {from} contains a line break or another character no HTTP header can carry; set it again without it")]
    Unsendable {
        /// Where it came from.
        from: TokenSource,
    },
    /// The token found has expired.
    #[error("the API token from {from} expired at {}: run `cargo systemprompt-secrets login`", format_time(*expired_at))]
    Expired {
        /// Where it came from.
        from: TokenSource,
        /// When it expired.
        expired_at: u64,
    },
}

impl TokenError {
    /// What to do about it; these messages say it themselves.
    #[must_use]
    pub fn help(&self) -> Option<String> {
        None
    }
}

/// Whether a token can go into an `Authorization` header: visible ASCII only.
#[must_use]
pub fn sendable(token: &SecretString) -> bool {
    token.expose_secret().bytes().all(|b| b.is_ascii_graphic())
}

/// Seconds since the Unix epoch, now.
#[must_use]
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `exp` of a JWT (three base64url parts, the middle one JSON with a numeric `exp`); `None` otherwise.
#[must_use]
pub fn jwt_expiry(token: &SecretString) -> Option<u64> {
    let mut parts = token.expose_secret().split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    // The claims are a JSON object; a derived `Deserialize` would also take `[exp]`.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    // A fractional `exp` is rounded down to whole seconds; a negative one, or one past `u64::MAX`,
    // is not read.
    claims.exp.and_then(|n| {
        n.as_u64().or_else(|| {
            let secs = n.as_f64().filter(|f| *f >= 0.0)?;
            // `abs` turns `-0` into `0`.
            format!("{:.0}", secs.trunc().abs()).parse().ok()
        })
    })
}

#[derive(Deserialize)]
struct Claims {
    exp: Option<serde_json::Number>,
}

/// `2026-11-26 08:00:00 UTC` for seconds since the Unix epoch.
#[must_use]
pub fn format_time(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), valid for the Unix era.
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Upstream's `.systemprompt/credentials.json`.
#[derive(Debug)]
pub struct UpstreamCredentials {
    /// The file.
    pub path: PathBuf,
    /// `api_token`.
    pub api_token: SecretString,
    /// `api_url`, if present.
    pub api_url: Option<String>,
}

/// The nearest `.systemprompt/credentials.json` walking up from `start`.
#[must_use]
pub fn find_credentials_file(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(".systemprompt").join("credentials.json"))
        .find(|p| p.is_file())
}

/// Reads upstream's credentials file. Errors never quote the file.
pub fn read_credentials(path: &Path) -> Result<UpstreamCredentials, String> {
    #[derive(Deserialize)]
    struct Raw {
        api_token: Option<String>,
        api_url: Option<String>,
    }
    let bytes = crate::regular_file::read(path, 1024 * 1024)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{} is not valid UTF-8", path.display()))?;
    let raw: Raw = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not the expected JSON object with `api_token`",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let api_token = raw
        .api_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| format!("{} has no `api_token`", path.display()))?;
    Ok(UpstreamCredentials {
        path: path.to_path_buf(),
        api_token: SecretString::from(api_token),
        api_url: raw.api_url,
    })
}

/// Finds the API token for `api_url`: `SYSTEMPROMPT_API_TOKEN`, then the keyring, then upstream's
/// plaintext file (with a warning pushed to `warnings`). An expired JWT is an error.
pub fn resolve(
    api_url: &str,
    env: &dyn Env,
    store: impl FnOnce() -> Option<Arc<dyn CredentialStore>>,
    start: &Path,
    warnings: &mut Vec<String>,
) -> Result<Token, TokenError> {
    let token = if let Some(v) = env.var(TOKEN_ENV).filter(|v| !v.trim().is_empty()) {
        Some((SecretString::from(v.trim().to_owned()), TokenSource::Env))
    } else {
        let from_keyring = store().and_then(|s| match s.get(&api_token_account(api_url)) {
            Ok(v) => v.map(|v| {
                (
                    v,
                    TokenSource::Keyring {
                        store: s.name().to_owned(),
                    },
                )
            }),
            Err(e) => {
                warnings.push(format!("cannot read the token from the keyring: {e}"));
                None
            }
        });
        from_keyring.or_else(|| {
            let path = find_credentials_file(start)?;
            match read_credentials(&path) {
                Ok(c) if c.api_url.as_deref().is_none_or(|u| u.trim_end_matches('/') == api_url) => {
                    warnings.push(format!(
                        "using the plaintext token in {}: run `cargo systemprompt-secrets login --import` to move it into the OS keyring",
                        path.display()
                    ));
                    Some((c.api_token, TokenSource::CredentialsFile { path }))
                }
                Ok(_) => None,
                Err(e) => {
                    warnings.push(e);
                    None
                }
            }
        })
    };
    let (value, source) = token.ok_or(TokenError::NotLoggedIn)?;
    if !sendable(&value) {
        return Err(TokenError::Unsendable { from: source });
    }
    let expires_at = jwt_expiry(&value);
    if let Some(exp) = expires_at.filter(|exp| *exp <= now()) {
        return Err(TokenError::Expired {
            from: source,
            expired_at: exp,
        });
    }
    Ok(Token {
        value,
        source,
        expires_at,
    })
}

/// The token a `source: vault` profile names for the app: its `token_env` variable, else its
/// `token_file`. `None` when neither holds one (the usual OpenBao token chain follows).
#[must_use]
pub fn from_profile(token_env: &str, token_file: Option<&Path>, env: &dyn Env) -> Option<Token> {
    if let Some(v) = env.var(token_env).filter(|v| !v.trim().is_empty()) {
        return Some(Token {
            value: SecretString::from(v.trim().to_owned()),
            source: TokenSource::EnvVar {
                name: token_env.to_owned(),
            },
            expires_at: None,
        });
    }
    let path = token_file?;
    let text = crate::regular_file::read(path, 64 * 1024)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())?;
    (!text.trim().is_empty()).then(|| Token {
        value: SecretString::from(text.trim().to_owned()),
        source: TokenSource::VaultTokenFile {
            path: path.to_path_buf(),
        },
        expires_at: None,
    })
}

/// Finds the OpenBao/Vault token for `address`: `BAO_TOKEN`, `VAULT_TOKEN`, the keyring, then the
/// plaintext `~/.vault-token` (with a warning).
pub fn resolve_openbao(
    address: &str,
    env: &dyn Env,
    store: impl FnOnce() -> Option<Arc<dyn CredentialStore>>,
    home: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Result<Token, TokenError> {
    for name in ["BAO_TOKEN", "VAULT_TOKEN"] {
        if let Some(v) = env.var(name).filter(|v| !v.trim().is_empty()) {
            return Ok(Token {
                value: SecretString::from(v.trim().to_owned()),
                source: TokenSource::EnvVar {
                    name: name.to_owned(),
                },
                expires_at: None,
            });
        }
    }
    if let Some(store) = store() {
        match store.get(&crate::keyring::openbao_token_account(address)) {
            Ok(Some(v)) => {
                return Ok(Token {
                    value: v,
                    source: TokenSource::Keyring {
                        store: store.name().to_owned(),
                    },
                    expires_at: None,
                })
            }
            Ok(None) => {}
            Err(e) => warnings.push(format!(
                "cannot read the OpenBao token from the keyring: {e}"
            )),
        }
    }
    if let Some(path) = home.map(|h| h.join(".vault-token")).filter(|p| p.is_file()) {
        if let Some(text) = crate::regular_file::read(&path, 64 * 1024)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            if !text.trim().is_empty() {
                warnings.push(format!(
                    "using the plaintext token in {}: run `cargo systemprompt-secrets login --backend openbao` to keep it in the OS keyring",
                    path.display()
                ));
                return Ok(Token {
                    value: SecretString::from(text.trim().to_owned()),
                    source: TokenSource::VaultTokenFile { path },
                    expires_at: None,
                });
            }
        }
    }
    Err(TokenError::NoOpenBaoToken {
        address: address.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MapEnv;
    use crate::keyring::MemoryStore;

    pub(crate) fn jwt(exp: u64) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.{}",
            enc("{\"alg\":\"HS256\"}"),
            enc(&format!("{{\"sub\":\"u\",\"exp\":{exp}}}")),
            enc("sig")
        )
    }

    #[test]
    fn reads_jwt_expiry_only_from_jwts() {
        assert_eq!(
            jwt_expiry(&SecretString::from(jwt(1_900_000_000))),
            Some(1_900_000_000)
        );
        assert_eq!(jwt_expiry(&SecretString::from("sp_live_opaque")), None);
        assert_eq!(jwt_expiry(&SecretString::from("a.b.c")), None);
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(1_795_651_200), "2026-11-26 00:00:00 UTC");
    }

    #[test]
    fn reads_float_exp_in_range_only() {
        // Found by the `jwt_exp` fuzz target: an `exp` past u64::MAX was read as 1 (the text of
        // the float was `1.8446744073709752e19`, cut at the `.`), so the token looked expired;
        // and `-0` was not read at all.
        let exp = |claims: &str| {
            let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            jwt_expiry(&SecretString::from(format!("e30.{}.c2ln", enc(claims))))
        };
        assert_eq!(exp("{\"exp\":18446744073709751615}"), None);
        assert_eq!(exp("{\"exp\":18446744073709551615}"), Some(u64::MAX));
        assert_eq!(exp("{\"exp\":2.5e16}"), Some(25_000_000_000_000_000));
        assert_eq!(exp("{\"exp\":1.9e9}"), Some(1_900_000_000));
        assert_eq!(exp("{\"exp\":1900000000.75}"), Some(1_900_000_000));
        assert_eq!(exp("{\"exp\":1e-7}"), Some(0));
        assert_eq!(exp("{\"exp\":-1.5}"), None);
        assert_eq!(exp("{\"exp\":-0}"), Some(0));
    }

    #[test]
    fn reads_exp_only_from_a_claims_object() {
        // Found by the `jwt_exp` fuzz target: a payload of `[9]` was read as `exp` 9.
        let exp = |claims: &str| {
            let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            jwt_expiry(&SecretString::from(format!("e30.{}.c2ln", enc(claims))))
        };
        assert_eq!(exp("[9]"), None);
        assert_eq!(exp(" [9, 1]"), None);
        assert_eq!(exp(" \n{\"exp\": 9}"), Some(9));
    }

    #[test]
    fn resolution_order_env_keyring_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".systemprompt")).unwrap();
        std::fs::write(
            dir.path().join(".systemprompt/credentials.json"),
            "{\"api_token\": \"from-file\", \"api_url\": \"https://api.systemprompt.io\"}",
        )
        .unwrap();
        let store: Arc<dyn CredentialStore> = Arc::new(MemoryStore::default());
        let with = || Some(Arc::clone(&store));
        let url = DEFAULT_API_URL;
        let mut w = Vec::new();
        let t = resolve(url, &MapEnv::default(), with, dir.path(), &mut w).unwrap();
        assert!(matches!(t.source, TokenSource::CredentialsFile { .. }));
        assert!(w[0].contains("login --import"));
        store
            .set(&api_token_account(url), &SecretString::from("from-keyring"))
            .unwrap();
        let t = resolve(url, &MapEnv::default(), with, dir.path(), &mut Vec::new()).unwrap();
        assert_eq!(t.value.expose_secret(), "from-keyring");
        let env = MapEnv::from_pairs([(TOKEN_ENV, "from-env")]);
        let t = resolve(url, &env, with, dir.path(), &mut Vec::new()).unwrap();
        assert_eq!(
            (t.value.expose_secret(), t.source),
            ("from-env", TokenSource::Env)
        );
        let none = tempfile::tempdir().unwrap();
        let err = resolve(
            "https://other",
            &MapEnv::default(),
            || None,
            none.path(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err
            .to_string()
            .starts_with("not logged in: run `cargo systemprompt-secrets login`"));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let env_owned = jwt(1000);
        let env = MapEnv::from_pairs([(TOKEN_ENV, env_owned.as_str())]);
        let err = resolve(
            DEFAULT_API_URL,
            &env,
            || None,
            Path::new("/"),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            TokenError::Expired {
                expired_at: 1000,
                ..
            }
        ));
        assert!(!err.to_string().contains(&env_owned));
    }
}
