//! Logging in to Vault/OpenBao as a `source: vault` profile's `secrets.vault.auth` says the app
//! does (systemprompt 0.50+): a token from a variable or a file, an `AppRole` login, or a
//! Kubernetes service-account login where the account's token file exists (inside a pod).
//! Tokens a login mints are for this run only, and join (with the secret id and the
//! service-account token) the values scrubbed from every message.

use secrecy::{ExposeSecret, SecretString};

use crate::env::{Env, ProcessEnv};
use crate::error::Error;
use crate::http::Http;
use crate::profile::{Profile, YamlVaultAuth};
use crate::project::Project;
use crate::source::rel;
use crate::token::{self, Token, TokenSource};

/// The largest service-account token read (they are a few KiB).
const JWT_LIMIT: u64 = 64 * 1024;

/// What the profile's own login gave.
pub(super) enum Own {
    /// A token the app itself would use.
    Token(Token),
    /// Nothing of the profile's own: the usual chain decides (`BAO_TOKEN`, `VAULT_TOKEN`, the
    /// keyring, `~/.vault-token`), and when it finds none, `instead` (if any) is the error.
    Chain {
        /// The error to give when the chain finds nothing.
        instead: Option<Error>,
    },
}

/// Where the server is, for a login request.
pub(super) struct Server<'a> {
    /// The client.
    pub http: &'a Http,
    /// The server's base URL.
    pub base: &'a url::Url,
    /// `X-Vault-Namespace`, if any.
    pub namespace: Option<&'a str>,
    /// The address as configured, for messages.
    pub address: &'a str,
}

/// Logs in as `auth` says. Relative `token_file` and `jwt_path` are read from the workspace
/// root, the directory the app runs in as the template runs it (upstream reads them as given).
pub(super) fn own_token(
    project: &Project,
    profile: &Profile,
    auth: &YamlVaultAuth,
    server: &Server<'_>,
) -> Result<Own, Error> {
    let in_root = |p: &std::path::Path| project.workspace_root.join(p);
    match auth.method() {
        "token" => {
            let file = auth.token_file.as_deref().map(in_root);
            Ok(match token::from_profile(auth.token_env(), file.as_deref(), &ProcessEnv) {
                Some(t) => Own::Token(t),
                None => Own::Chain { instead: None },
            })
        }
        "approle" => approle(auth, server).map(Own::Token),
        "kubernetes" => {
            let Some(role) = auth.role.as_deref().filter(|r| !r.trim().is_empty()) else {
                return Err(Error::usage(format!(
                    "profile `{}` logs in to Vault with `kubernetes` but names no `role`",
                    profile.name
                ))
                .help(format!(
                    "add `role:` under `secrets.vault.auth` in {}, as systemprompt needs it too",
                    rel(&profile.dir.join("profile.yaml"))
                )));
            };
            // An absolute path (the default) stays as it is.
            let jwt_path = in_root(auth.jwt_path());
            match service_account_token(&jwt_path)? {
                Some(jwt) => {
                    kubernetes(server, auth.mount(), role, &jwt, &jwt_path).map(Own::Token)
                }
                None => Ok(Own::Chain {
                    instead: Some(outside_pod(profile, &jwt_path, server.address)),
                }),
            }
        }
        method => Err(Error::usage(format!(
            "profile `{}` names the Vault login method `{method}`, which systemprompt does not know",
            profile.name
        ))
        .help(format!(
            "set `secrets.vault.auth.method` in {} to `token`, `approle` or `kubernetes`",
            rel(&profile.dir.join("profile.yaml"))
        ))),
    }
}

/// The error for a `kubernetes` login with no service-account token file, naming the ways on.
fn outside_pod(profile: &Profile, jwt_path: &std::path::Path, address: &str) -> Error {
    Error::usage(format!(
        "profile `{}` logs in to Vault with `kubernetes`, and there is no service-account token at {} (the tool is not running in a pod)",
        profile.name,
        jwt_path.display()
    ))
    .help(format!(
        "give the tool a token for {address}: set BAO_TOKEN or VAULT_TOKEN, or run `cargo systemprompt-secrets login --backend openbao --address {address}`; the app keeps its own `kubernetes` login"
    ))
}

/// The service-account token at `path`: `None` when there is no such file; an error when it is
/// there but cannot serve (not a regular file, too large, unreadable, empty).
fn service_account_token(path: &std::path::Path) -> Result<Option<SecretString>, Error> {
    let bad = |why: String| {
        Error::usage(format!(
            "the service-account token {} cannot be used: {why}",
            path.display()
        ))
        .help("check the pod's service-account token mount, or set `secrets.vault.auth.jwt_path`")
    };
    match crate::regular_file::read(path, JWT_LIMIT) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| bad("it is not UTF-8".to_owned()))?;
            let jwt = SecretString::from(text.trim().to_owned());
            crate::scrub::global().know(&jwt);
            if jwt.expose_secret().is_empty() {
                return Err(bad("it is empty".to_owned()));
            }
            Ok(Some(jwt))
        }
        Err(crate::regular_file::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(bad(e.to_string())),
    }
}

/// `AppRole`: the role id and secret id from their variables, `POST auth/<mount>/login`.
fn approle(auth: &YamlVaultAuth, server: &Server<'_>) -> Result<Token, Error> {
    let (role_id_env, secret_id_env, mount) =
        (auth.role_id_env(), auth.secret_id_env(), auth.mount());
    let var = |name: &str| {
        ProcessEnv
            .var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| {
                Error::usage(format!(
                    "the profile logs in to Vault with AppRole, and ${name} is not set"
                ))
                .help(format!(
                    "set ${role_id_env} and ${secret_id_env} as the app has them, or set BAO_TOKEN to a token for this run"
                ))
            })
    };
    let role_id = var(role_id_env)?;
    let secret_id = var(secret_id_env)?;
    crate::scrub::global().know(&secret_id);
    let body = serde_json::json!({
        "role_id": role_id.expose_secret(),
        "secret_id": secret_id.expose_secret(),
    });
    let value = login(server, mount, &body, "AppRole").map_err(|e| {
        e.help(format!(
            "check ${role_id_env} and ${secret_id_env} (a secret id may be used up or expired), and that AppRole is enabled at auth/{mount}"
        ))
    })?;
    Ok(Token {
        value,
        source: TokenSource::AppRole {
            role_id_env: role_id_env.to_owned(),
        },
        expires_at: None,
    })
}

/// Kubernetes: the service-account token and the Vault role, `POST auth/<mount>/login`.
fn kubernetes(
    server: &Server<'_>,
    mount: &str,
    role: &str,
    jwt: &SecretString,
    jwt_path: &std::path::Path,
) -> Result<Token, Error> {
    let body = serde_json::json!({"role": role, "jwt": jwt.expose_secret()});
    let value = login(server, mount, &body, "Kubernetes").map_err(|e| {
        e.help(format!(
            "check that Vault role `{role}` at auth/{mount} binds this pod's service account, and that {} is its token",
            jwt_path.display()
        ))
    })?;
    Ok(Token {
        value,
        source: TokenSource::Kubernetes {
            role: role.to_owned(),
            jwt_path: jwt_path.to_path_buf(),
        },
        expires_at: None,
    })
}

/// `POST /v1/auth/<mount>/login` with `body`; the client token, or an error with the server's
/// words (scrubbed) and no help yet.
fn login(
    server: &Server<'_>,
    mount: &str,
    body: &serde_json::Value,
    method: &str,
) -> Result<SecretString, Error> {
    #[derive(serde::Deserialize)]
    struct Answer {
        auth: Option<Auth>,
        #[serde(default)]
        errors: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct Auth {
        client_token: String,
    }
    let mut url = server.base.clone();
    url.path_segments_mut()
        .map_err(|()| Error::usage("the OpenBao address cannot carry a path"))?
        .pop_if_empty()
        .extend(["v1", "auth"])
        .extend(mount.split('/').filter(|s| !s.is_empty()))
        .push("login");
    let body = secrecy::zeroize::Zeroizing::new(body.to_string());
    let r = server.http.send("POST", &url, |client| {
        let mut rb = client
            .post(url.clone())
            .header("X-Vault-Request", "true")
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some(ns) = server.namespace {
            rb = rb.header("X-Vault-Namespace", ns);
        }
        rb
    })?;
    let answer: Option<Answer> = serde_json::from_str(&r.body).ok();
    let client_token = answer
        .as_ref()
        .and_then(|a| a.auth.as_ref())
        .filter(|_| (200..300).contains(&r.status))
        .map(|a| SecretString::from(a.client_token.clone()));
    let Some(value) = client_token else {
        let errors = answer
            .map(|a| crate::scrub::global().clean(&a.errors.join("; ")))
            .unwrap_or_default();
        let said = if errors.is_empty() {
            String::new()
        } else {
            format!(": {errors}")
        };
        return Err(Error::failed(format!(
            "the {method} login at auth/{mount} was refused ({}{said})",
            r.status
        )));
    };
    crate::scrub::global().know(&value);
    Ok(value)
}
