//! `export --format dotenv|json|shell|github-env|k8s-secret|docker-env [-o FILE]`: the profile's
//! secrets as text for other tools. Never to a terminal without `--reveal`; files are created 0600.

use clap::{Args, ValueEnum};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use super::{rel, Context};
use crate::error::Error;
use crate::keys;
use crate::shell::Shell;

/// `--format` of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// `NAME='value'` lines (double quotes where a value needs them), read alike by dotenvy,
    /// python-dotenv and Docker Compose.
    Dotenv,
    /// One JSON object.
    Json,
    /// `export NAME='value'` lines for a POSIX shell.
    Shell,
    /// `NAME<<DELIM` blocks for `$GITHUB_ENV`, after `::add-mask::` lines on stdout.
    GithubEnv,
    /// A Kubernetes `Secret` manifest (`stringData`, the keys the template's helm chart reads:
    /// anthropic, openai, gemini; --all-keys for every key) for `kubectl apply -f -`.
    K8sSecret,
    /// `NAME=value` lines for `docker run --env-file` (no quoting: values with a line break are
    /// refused; for Compose's `env_file`, use dotenv).
    DockerEnv,
    /// An External Secrets Operator `ExternalSecret` (and, with --store, its `SecretStore`) that
    /// maps each environment name to its property at the profile's OpenBao path: names only.
    ExternalSecret,
}

/// Write the profile's secrets as dotenv, docker env, JSON, shell, $GITHUB_ENV or a Kubernetes Secret
#[allow(clippy::doc_markdown)] // Reason: this line is the command's help, where backticks show.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets export -o .env.production            dotenv, the default format\n  cargo systemprompt-secrets export --format github-env >> \"$GITHUB_ENV\"\n  cargo systemprompt-secrets export --format k8s-secret --name gateway-ai-keys | kubectl apply -f -\n    then: helm install gw ./helm/gateway --set secrets.existingSecret=gateway-ai-keys\n  cargo systemprompt-secrets export --format docker-env -o .env.docker\n  cargo systemprompt-secrets export --format shell --reveal     To a terminal, on purpose"
)]
pub struct ExportArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "dotenv")]
    pub format: ExportFormat,
    /// Write to this file (created 0600) instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
    /// Allow writing values to a terminal
    #[arg(long)]
    pub reveal: bool,
    /// Use the secrets.json names instead of env-style names
    #[arg(long)]
    pub keys: bool,
    /// The `metadata.name` of the k8s-secret [default: systemprompt-PROFILE]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// k8s-secret: every key, not only those the template's helm chart gives its pod
    #[arg(long)]
    pub all_keys: bool,
    /// external-secret: also write the `SecretStore` it refers to, under this name
    #[arg(long, value_name = "NAME")]
    pub store: Option<String>,
}

/// The keys the template's helm chart (`helm/gateway`) reads from its Secret, each into the env
/// name of the pod (`secretKeyRef`); it has no `envFrom`, and takes `DATABASE_URL` from its values.
const CHART_KEYS: &[&str] = &["anthropic", "openai", "gemini"];

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &ExportArgs) -> Result<(), Error> {
    if args.format == ExportFormat::ExternalSecret {
        return external_secret(ctx, shell, args);
    }
    if args.store.is_some() {
        return Err(Error::usage("--store is for --format external-secret")
            .help("drop --store, or pass --format external-secret"));
    }
    if args.output.is_none() && !args.reveal && std::io::stdout().is_terminal() {
        return Err(
            Error::usage("refusing to print secret values to a terminal")
                .help("pipe the output, write it with -o FILE, or pass --reveal"),
        );
    }
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    if args.all_keys && args.format != ExportFormat::K8sSecret {
        return Err(Error::usage(
            "--all-keys is for --format k8s-secret (the other formats write every key)",
        )
        .help("drop --all-keys, or pass --format k8s-secret"));
    }
    if args.name.is_some() && args.format != ExportFormat::K8sSecret {
        return Err(
            Error::usage("--name is for --format k8s-secret or external-secret")
                .help("drop --name, or pass --format k8s-secret"),
        );
    }
    let resolved = ctx.load(shell, &project, &profile)?;
    // The helm chart reads secrets.json keys (`anthropic`); the other formats env names.
    let by_key = args.keys || args.format == ExportFormat::K8sSecret;
    // By environment name, as every verb resolves it (one key per name); with --keys or for
    // Kubernetes, under that key's own name.
    let pairs: Vec<(String, SecretString)> = resolved
        .by_env_name()
        .into_iter()
        .map(|(name, (key, value))| {
            let name = if by_key { key.to_owned() } else { name };
            (name, value.clone())
        })
        .collect();

    let mut pairs = if args.format == ExportFormat::K8sSecret && !args.all_keys {
        chart_pairs(shell, pairs)?
    } else {
        pairs
    };
    if args.format == ExportFormat::DockerEnv && !args.keys {
        let release = ctx.settings(&project, &profile).generation.release();
        list_custom(shell, &mut pairs, release);
    }
    if args.format == ExportFormat::DockerEnv {
        warn_compose(shell, &pairs);
    }
    if !matches!(args.format, ExportFormat::Json | ExportFormat::K8sSecret) {
        if let Some((bad, _)) = pairs.iter().find(|(n, _)| !keys::is_env_name(n)) {
            return Err(Error::failed(format!(
                "`{}` is not a valid environment variable name, so it cannot be exported as {}; nothing was written",
                crate::source::escape_controls(bad),
                args.format.to_possible_value().map_or_else(String::new, |v| v.get_name().to_owned())
            ))
            .help("rename the key in secrets.json to letters, digits and underscores"));
        }
    }
    let secret_name = args
        .name
        .clone()
        .unwrap_or_else(|| default_secret_name(&profile.name));
    let (masks, body) = render(args.format, &pairs, &secret_name)?;
    if !masks.expose_secret().is_empty() {
        // `::add-mask::` lines are for the Actions runner, which reads a step's stdout and stderr:
        // never to a terminal or a pipe outside Actions (they hold every value), and never into
        // the body's own stream (`>> "$GITHUB_ENV"` must get only the body).
        let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        if in_actions || args.reveal {
            if args.output.is_some() {
                shell.out_raw(masks.expose_secret());
            } else {
                shell.err_data(masks.expose_secret());
            }
        } else {
            shell.verbose("the ::add-mask:: lines are printed only inside GitHub Actions (GITHUB_ACTIONS=true), where the runner reads them");
        }
    }
    match &args.output {
        Some(path) => {
            write_output(path, body.expose_secret().as_bytes(), args.force)?;
            shell.status(
                "Exported",
                format_args!("{} secret(s) to {} (mode 0600)", pairs.len(), rel(path)),
            );
            warn_if_layer(ctx, shell, &project, path);
        }
        None => shell.out_raw(body.expose_secret()),
    }
    Ok(())
}

/// A container's environment: the app reads custom keys there only through
/// `SYSTEMPROMPT_CUSTOM_SECRETS`, as deploy and `run` set it (the service's own secret is not
/// custom; a list the profile sets itself is kept).
fn list_custom(
    shell: &mut Shell,
    pairs: &mut Vec<(String, SecretString)>,
    release: &crate::upstream::Release,
) {
    if let Some(list) = crate::remote::names::env_custom_list(pairs.iter().map(|(n, _)| n), release)
    {
        shell.verbose(format_args!(
            "and {} = {list}, as deploy sets it",
            crate::remote::CUSTOM_SECRETS
        ));
        pairs.push((
            crate::remote::CUSTOM_SECRETS.to_owned(),
            SecretString::from(list),
        ));
    }
}

/// docker-env is for `docker run --env-file`, which takes each line as it is. Compose's
/// `env_file` reads the same file otherwise: it unquotes a leading quote, drops a ` #` comment and
/// expands `$`; the keys whose values it would change are named.
fn warn_compose(shell: &mut Shell, pairs: &[(String, SecretString)]) {
    let differ: Vec<&str> = pairs
        .iter()
        .filter(|(_, v)| {
            let v = v.expose_secret();
            v.starts_with(['\'', '"']) || v.contains(" #") || v.contains('$')
        })
        .map(|(n, _)| n.as_str())
        .collect();
    if !differ.is_empty() {
        shell.warn_help(
            format_args!(
                "Compose's env_file would read {} otherwise than `docker run --env-file` (it unquotes, drops ` #` comments and expands `$`): this file is for `docker run --env-file`",
                differ.join(", ")
            ),
            "for Compose's env_file, use --format dotenv, which Compose, dotenvy and python-dotenv read alike",
        );
    }
}

/// The k8s-secret's keys: those the template's chart gives its pod. The others are named, never
/// promised: no pod of the chart would receive them.
fn chart_pairs(
    shell: &mut Shell,
    pairs: Vec<(String, SecretString)>,
) -> Result<Vec<(String, SecretString)>, Error> {
    let (kept, left): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(k, _)| CHART_KEYS.contains(&k.as_str()));
    if !left.is_empty() {
        let names: Vec<&str> = left.iter().map(|(k, _)| k.as_str()).collect();
        shell.info(format_args!(
            "note: left out of the Secret: {} (the template's helm chart reads only {} from it, and DATABASE_URL from `externalDatabase.url`; --all-keys writes them all, for manifests of your own)",
            names.join(", "),
            CHART_KEYS.join(", ")
        ));
    }
    if kept.is_empty() {
        return Err(Error::failed(
            "the profile has none of the keys the template's helm chart reads from its Secret (anthropic, openai, gemini); nothing was written",
        )
        .help("set one of them, or pass --all-keys for a Secret of every key"));
    }
    shell.info("note: give the chart this Secret with `--set secrets.existingSecret=NAME` (its own default name is `<release>-gateway-ai-keys`)");
    Ok(kept)
}

/// A warning when the file just written is one this tool reads as a layer (the workspace `.env`,
/// an `--env-file`): from now on it shadows secrets.json, so a later `rotate`, `edit` or `set
/// --local` changes a value that `run` no longer uses.
fn warn_if_layer(
    ctx: &Context,
    shell: &mut Shell,
    project: &crate::project::Project,
    path: &std::path::Path,
) {
    let same = |a: &std::path::Path, b: &std::path::Path| match (
        std::fs::canonicalize(a),
        std::fs::canonicalize(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if ctx.env_files(project).iter().any(|f| same(&f.path, path)) {
        shell.warn_help(
            format_args!(
                "{} is a layer this tool reads, above secrets.json: its values now win in `run`, the build-script check and `validate`, and later changes to secrets.json (`rotate`, `edit`, `set --local`) do not show there",
                rel(path)
            ),
            "write the export elsewhere (for example `-o deploy/.env`), or delete it after use",
        );
    }
}

/// `systemprompt-<profile>`, made a valid Kubernetes name (lower case, `-`).
fn default_secret_name(profile: &str) -> String {
    let mut name: String = format!("systemprompt-{profile}")
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name.truncate(253);
    name.trim_matches('-').to_owned()
}

/// A `v1/Secret` with `stringData`. Keys and values are written as double-quoted scalars that
/// YAML 1.1 and 1.2 readers take alike ([`yaml_quoted`]).
fn k8s_secret(name: &str, pairs: &[(String, SecretString)]) -> Result<SecretString, Error> {
    let dns = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    if !dns(name) {
        return Err(Error::usage(format!("`{name}` is not a Kubernetes object name"))
            .help("use lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit, e.g. --name gateway-ai-keys"));
    }
    let mut out = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: Opaque\nstringData:\n"
    );
    if pairs.is_empty() {
        out.truncate(out.len() - 1);
        out.push_str(" {}\n");
    }
    for (key, value) in pairs {
        if key.is_empty()
            || key.len() > 253
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(Error::failed(format!(
                "`{key}` cannot be a key of a Kubernetes Secret (letters, digits, `-`, `_` and `.`); nothing was written"
            ))
            .help(format!("rename `{key}` in secrets.json to its snake_case spelling")));
        }
        let _ = writeln!(out, "  {key}: {}", yaml_quoted(value.expose_secret()));
    }
    Ok(SecretString::from(out))
}

/// `NAME=value` lines, read literally by `docker run --env-file`: a value with a line break (or
/// a NUL) cannot be written, and the key is named.
fn docker_env(pairs: &[(String, SecretString)]) -> Result<SecretString, Error> {
    let mut out = String::new();
    for (name, value) in pairs {
        if value.expose_secret().contains(['\n', '\r', '\0']) {
            return Err(Error::failed(format!(
                "the value of {name} holds a line break, which an env file for docker cannot carry; nothing was written"
            ))
            .help("docker's --env-file has no quoting: remove the line break, or use --format dotenv or k8s-secret"));
        }
        let _ = writeln!(out, "{name}={}", value.expose_secret());
    }
    Ok(SecretString::from(out))
}

/// The `::add-mask::` lines (github-env only) and the body; `secret_name` names a k8s-secret.
fn render(
    format: ExportFormat,
    pairs: &[(String, SecretString)],
    secret_name: &str,
) -> Result<(SecretString, SecretString), Error> {
    let mut masks = String::new();
    let mut out = String::new();
    match format {
        ExportFormat::K8sSecret => return Ok((masks.into(), k8s_secret(secret_name, pairs)?)),
        ExportFormat::DockerEnv => return Ok((masks.into(), docker_env(pairs)?)),
        // Written by `external_secret`, which `run` hands this format to first.
        ExportFormat::ExternalSecret => {
            return Err(Error::usage("external-secret holds names only"))
        }
        ExportFormat::Dotenv => {
            for (name, value) in pairs {
                let _ = writeln!(out, "{name}={}", dotenv_value(name, value.expose_secret())?);
            }
        }
        ExportFormat::Shell => {
            for (name, value) in pairs {
                let v = value.expose_secret().replace('\'', "'\\''");
                let _ = writeln!(out, "export {name}='{v}'");
            }
        }
        ExportFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> = pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        serde_json::Value::String(v.expose_secret().to_owned()),
                    )
                })
                .collect();
            out = serde_json::to_string_pretty(&map).unwrap_or_default();
            out.push('\n');
        }
        ExportFormat::GithubEnv => {
            for (name, value) in pairs {
                for line in value.expose_secret().lines() {
                    let _ = writeln!(masks, "::add-mask::{line}");
                }
                let delimiter = delimiter_for(value.expose_secret());
                let _ = writeln!(
                    out,
                    "{name}<<{delimiter}\n{}\n{delimiter}",
                    value.expose_secret()
                );
            }
        }
    }
    Ok((SecretString::from(masks), SecretString::from(out)))
}

/// A value as the `dotenv` format writes it, read the same by dotenvy (this tool, Rust apps),
/// python-dotenv and Docker Compose:
///
/// - in single quotes, where all three take every character literally (`$` too), when the value
///   has no `'`, no line break and no `\\`;
/// - else in double quotes with `\\`, `\"` and `\n`, which all three decode, when the value has no
///   `$`: in double quotes dotenvy and Compose expand `$` and need `\$`, which python-dotenv
///   keeps as two characters.
///
/// Some values have no spelling all three read alike, and the key is named: a `$` with a quote,
/// a line break or a backslash pair; `${NAME}` or `${NAME:-…}` (python-dotenv expands it in every
/// quoting); a last `\` (python-dotenv takes the closing quote after it as escaped); a carriage
/// return or a NUL (the readers turn them into other characters).
fn dotenv_value(name: &str, value: &str) -> Result<String, Error> {
    let refuse = |why: &str| {
        Err(Error::failed(format!(
            "the value of {name} {why}, so no dotenv spelling means the same to dotenvy, python-dotenv and Docker Compose; nothing was written"
        ))
        .help("use --format json, shell or k8s-secret for this value"))
    };
    if value.contains(['\r', '\0']) {
        return refuse("holds a carriage return or a NUL (python-dotenv reads a carriage return as a line break)");
    }
    if value.ends_with('\\') {
        return refuse(
            "ends in a backslash (python-dotenv takes the closing quote after it as escaped)",
        );
    }
    if expands_in_python_dotenv(value) {
        return refuse("holds `${…}`, which python-dotenv expands in every quoting");
    }
    if !value.contains(['\'', '\n']) && !value.contains("\\\\") {
        return Ok(format!("'{value}'"));
    }
    if value.contains('$') {
        return refuse("holds a `$` and also a quote, a line break or a backslash pair (dotenvy and Docker Compose need `\\$` there, which python-dotenv reads as two characters)");
    }
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    Ok(format!("\"{escaped}\""))
}

/// Whether python-dotenv's interpolation (on by default, in every quoting) finds `${NAME}` or
/// `${NAME:-default}` in `value`: a name of anything but `}` and `:`, then `}` or `:-…}`.
fn expands_in_python_dotenv(value: &str) -> bool {
    value.match_indices("${").any(|(at, _)| {
        let rest = &value[at + 2..];
        match rest.find(['}', ':']) {
            Some(i) if rest[i..].starts_with('}') => true,
            Some(i) => rest[i..].starts_with(":-") && rest[i..].contains('}'),
            None => false,
        }
    })
}

/// A JSON string, which YAML reads as a double-quoted scalar, with the characters a YAML 1.1
/// reader (`PyYAML`, many Kubernetes tools) would change escaped too: U+0085, U+2028 and U+2029 are
/// line breaks there (folded into a space), and DEL, the C1 controls and U+FEFF, U+FFFE, U+FFFF
/// are not allowed unescaped.
fn yaml_quoted(value: &str) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        ) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// A heredoc delimiter that does not occur in the value.
fn delimiter_for(value: &str) -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    let mut d: String = std::iter::once("EOF_".to_owned())
        .chain(bytes.iter().map(|b| format!("{b:02x}")))
        .collect();
    while value.contains(&d) {
        d.push('_');
    }
    d
}

/// Writes `-o FILE` (0600, atomically); an existing file only with `--force`.
fn write_output(path: &std::path::Path, bytes: &[u8], force: bool) -> Result<(), Error> {
    crate::atomic::write_private(path, bytes, force).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::failed(format!("{} already exists; nothing was written", rel(path)))
                .help("pass --force to replace it")
        } else {
            Error::io(format!("cannot write {}", rel(path)), e)
        }
    })
}

/// `--format external-secret`: the manifests that make a Kubernetes Secret from the profile's
/// OpenBao document, for `cloud.provider: kubernetes | gke` (deploy pushes nothing there: the
/// cluster's External Secrets provide the names). Names only, so a terminal may see it.
fn external_secret(ctx: &Context, shell: &mut Shell, args: &ExportArgs) -> Result<(), Error> {
    use crate::external_secret::{Manifests, Mapping, StoreAuth};
    let project = ctx.project(shell)?;
    let profile = ctx.select(shell, &project)?;
    let provider = profile.yaml.cloud_provider().unwrap_or("systemprompt");
    if !matches!(provider, "kubernetes" | "gke") {
        return Err(Error::usage(format!(
            "--format external-secret is for pods that read a Kubernetes Secret, and profile `{}` has `cloud.provider: {provider}`",
            profile.name
        ))
        .help("set `cloud.provider: kubernetes` (or `gke`) in profile.yaml, or export --format k8s-secret"));
    }
    if args.all_keys || args.keys {
        return Err(Error::usage(
            "--all-keys and --keys are not for --format external-secret (it maps every name deploy reports)",
        )
        .help("drop them"));
    }
    // The trust gate: the manifests carry the repository's address and path to the cluster.
    let flags = ctx.remote_flags(&crate::cli::RemoteArgs::default());
    crate::trust::require_remote(&project, &profile, &flags)?;
    let location = crate::remote::kv_location(&project, &profile)?;
    let resolved = ctx.load(shell, &project, &profile)?;
    let names: Vec<Mapping> = resolved
        .by_env_name()
        .into_iter()
        .map(
            |(env, (key, _))| match location.redirects.iter().find(|r| r.key == key) {
                // `secrets.vault.keys`: that document's field.
                Some(r) => Mapping {
                    env,
                    path: r.path.trim_matches('/').to_owned(),
                    property: r.field.clone(),
                },
                None => Mapping {
                    property: match location.names {
                        crate::config::RemoteNames::Keys => key.to_owned(),
                        crate::config::RemoteNames::Env => env.clone(),
                    },
                    env,
                    path: location.path.clone(),
                },
            },
        )
        .collect();
    let release = ctx.settings(&project, &profile).generation.release();
    let custom_list = crate::remote::names::env_custom_list(names.iter().map(|m| &m.env), release);
    let auth = profile
        .yaml
        .secrets
        .as_ref()
        .and_then(|s| s.vault.as_ref())
        .and_then(|v| v.auth.clone())
        .unwrap_or_default();
    let auth = match auth.method() {
        "approle" => StoreAuth::AppRole {
            mount: auth.mount().to_owned(),
        },
        "kubernetes" => StoreAuth::Kubernetes {
            mount: auth.mount().to_owned(),
            role: auth.role.clone().unwrap_or_else(|| profile.name.clone()),
        },
        _ => StoreAuth::Token,
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_secret_name(&profile.name));
    let store = args
        .store
        .clone()
        .unwrap_or_else(|| "systemprompt-openbao".to_owned());
    let body = Manifests {
        name: &name,
        store: &store,
        with_store: args.store.is_some(),
        location: &location,
        auth,
        names,
        custom_list,
    }
    .render();
    if args.store.is_none() {
        shell.info(format_args!(
            "note: the ExternalSecret refers to the SecretStore `{store}`; pass --store NAME to write one too"
        ));
    }
    match &args.output {
        Some(path) => {
            write_output(path, body.as_bytes(), args.force)?;
            shell.status("Exported", format_args!("the manifests to {}", rel(path)));
        }
        None => shell.out_raw(&body),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_values_are_quoted_the_way_every_reader_agrees_on() {
        let spell = |v: &str| dotenv_value("K", v).map_err(|e| e.to_string());
        assert_eq!(spell("pa$word").unwrap(), "'pa$word'");
        assert_eq!(spell("a # b").unwrap(), "'a # b'");
        assert_eq!(spell(r"a\b").unwrap(), r"'a\b'");
        assert_eq!(spell("it's").unwrap(), r#""it's""#);
        assert_eq!(spell("a\nb").unwrap(), r#""a\nb""#);
        assert_eq!(spell(r#"x\\y"z"#).unwrap(), r#""x\\\\y\"z""#);
        for (odd, why) in [
            ("it's $5", "holds a `$`"),
            ("${HOME}", "`${…}`"),
            ("${A:-b}", "`${…}`"),
            (r"ends\", "ends in a backslash"),
            ("a\rb", "carriage return"),
        ] {
            let e = spell(odd).expect_err(odd);
            assert!(e.contains(why) && e.contains("nothing was written"), "{e}");
        }
    }

    #[test]
    fn only_what_python_dotenv_expands_counts_as_an_expansion() {
        for yes in ["${A}", "x${}y", "${A:-}", "${A:-b c}", "$${A}"] {
            assert!(expands_in_python_dotenv(yes), "{yes}");
        }
        for no in ["$A", "${A", "${A:b}", "$ {A}", "{A}"] {
            assert!(!expands_in_python_dotenv(no), "{no}");
        }
    }

    #[test]
    fn yaml_scalars_escape_what_yaml_1_1_would_change() {
        assert_eq!(yaml_quoted("plain"), r#""plain""#);
        assert_eq!(
            yaml_quoted("a\u{85}b\u{2028}c\u{7f}"),
            r#""a\u0085b\u2028c\u007f""#
        );
        assert_eq!(yaml_quoted("line\nbreak"), r#""line\nbreak""#);
    }
}
