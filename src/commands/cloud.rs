//! What the remote verbs share: the tenant, the API URL, the token, the HTTP client, the plan
//! printout and the confirmation for protected profiles.

use std::io::IsTerminal;
use std::time::Duration;

use super::Context;
use crate::cli::{RemoteArgs, WriteArgs};
use crate::env::ProcessEnv;
use crate::error::Error;
use crate::http::{self, Http, HttpConfig};
use crate::profile::Profile;
use crate::project::Project;
use crate::remote::systemprompt::CloudClient;
use crate::shell::Shell;
use crate::token;

/// A cloud client for the profile's tenant.
pub(crate) struct Cloud {
    pub client: CloudClient,
    pub tenant: String,
    pub api_url: String,
}

/// The tenant: `--tenant`, then the manifest's `tenant-id`, then profile.yaml `cloud.tenant_id`.
pub(crate) fn tenant(
    project: &Project,
    profile: &Profile,
    flag: Option<&str>,
) -> Result<String, Error> {
    flag.map(str::to_owned)
        .or_else(|| project.config.for_profile(&profile.name).tenant_id)
        .or_else(|| profile.yaml.cloud.as_ref().and_then(|c| c.tenant_id.clone()))
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            Error::usage(format!("no tenant for profile `{}`", profile.name)).help(format!("pass --tenant ID, or set `tenant-id` in [workspace.metadata.systemprompt-secrets.profiles.{}], or `cloud.tenant_id` in {}", profile.name, super::rel(&profile.dir.join("profile.yaml"))))
        })
}

pub(crate) fn http_config(args: &RemoteArgs) -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(args.connect_timeout.max(1)),
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..HttpConfig::default()
    }
}

impl Context {
    /// The cloud client for `profile`: tenant, URL (https, or http on loopback), token, HTTP policy.
    pub(crate) fn cloud(
        &self,
        shell: &mut Shell,
        project: &Project,
        profile: &Profile,
        args: &RemoteArgs,
    ) -> Result<Cloud, Error> {
        let tenant = tenant(project, profile, args.tenant.as_deref())?;
        let api_url = token::api_url(args.api_url.as_deref(), &ProcessEnv);
        let base = http::parse_base_url(&api_url)?;
        let choice = self.global.keyring;
        let store = || crate::keyring::open(choice).ok().map(|o| o.store);
        let mut warnings = Vec::new();
        let cwd = std::env::current_dir().unwrap_or_default();
        let token = token::resolve(&api_url, &ProcessEnv, store, &cwd, &mut warnings)?;
        for w in warnings {
            shell.warn(w);
        }
        shell.verbose(format_args!(
            "API {api_url}, tenant {tenant}, token from {}",
            token.source
        ));
        let mut config = http_config(args);
        config.tls = base.scheme() == "https";
        let http = Http::new(config)?;
        Ok(Cloud {
            client: CloudClient::new(http, base, &tenant, token.value),
            tenant,
            api_url,
        })
    }
}

/// Prints every request made (method, URL, status, attempts, time) with `-v`.
pub(crate) fn log_requests(shell: &mut Shell, client: &CloudClient) {
    print_requests(shell, &client.requests());
}

fn print_requests(shell: &mut Shell, requests: &[crate::remote::systemprompt::RequestRecord]) {
    for r in requests {
        shell.verbose(format_args!(
            "{} {} -> {} ({} attempt{}, {} ms)",
            r.method,
            r.url,
            r.status,
            r.attempts,
            if r.attempts == 1 { "" } else { "s" },
            r.millis
        ));
    }
}

/// Prints every OpenBao request made with `-v`.
pub(crate) fn log_bao(shell: &mut Shell, client: &crate::remote::openbao::BaoClient) {
    print_requests(shell, &client.requests());
}

/// One group of a plan: a label and names.
pub(crate) fn plan_group(shell: &mut Shell, label: &str, names: &[String]) {
    if !names.is_empty() {
        shell.info(format_args!("{label:>16}: {}", names.join(", ")));
    }
}

/// Whether to go ahead with the writes: never on `--dry-run`; on a protected profile only after a
/// yes (asked on a terminal, or `--yes`).
pub(crate) fn confirm(
    shell: &mut Shell,
    write: &WriteArgs,
    profile: &str,
    protected: bool,
    what: &str,
) -> Result<bool, Error> {
    if write.dry_run {
        shell.status("Dry run", "nothing was changed");
        return Ok(false);
    }
    if !protected || write.yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::usage(format!("profile `{profile}` is protected and this is not an interactive terminal; nothing was changed")).help("review the plan above (or run with --dry-run), then pass --yes"));
    }
    shell.flush();
    let ok = dialoguer::Confirm::new()
        .with_prompt(format!("Profile `{profile}` is protected. {what}?"))
        .default(false)
        .interact()
        .map_err(|e| {
            Error::io(
                "cannot read the answer",
                std::io::Error::other(e.to_string()),
            )
        })?;
    if !ok {
        return Err(Error::failed("cancelled; nothing was changed"));
    }
    Ok(true)
}
