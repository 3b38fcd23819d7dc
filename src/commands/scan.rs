//! `scan`: look through git-tracked files (the index with `--staged`, every blob reachable from
//! HEAD with `--history`) for the values of the local profiles and `.env`, and for key formats.
//! `scan install-hook`: a pre-commit hook that runs `scan --staged`.

use clap::{Args, Subcommand, ValueEnum};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde_json::json;

use super::{rel, Context};
use crate::error::Error;
use crate::git;
use crate::project::Project;
use crate::scan::{is_binary, Matched, Needle, Scanner};
use crate::shell::Shell;

/// `--format` for `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ScanFormat {
    /// For people.
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
    /// SARIF 2.1.0 on stdout, for code-scanning dashboards.
    Sarif,
}

/// Look through git-tracked files for secret values and key formats (never printing them)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo systemprompt-secrets scan                       Tracked files in the work tree\n  cargo systemprompt-secrets scan --staged              Only what is staged (the pre-commit hook)\n  cargo systemprompt-secrets scan --history --format sarif > scan.sarif\n  cargo systemprompt-secrets scan install-hook          Run `scan --staged` before each commit\n\nExit codes: 0 nothing found, 1 something found, 2 usage or configuration error."
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ScanArgs {
    /// Scan only what is staged for the next commit
    #[arg(long, conflicts_with = "history")]
    pub staged: bool,
    /// Also scan every blob reachable from HEAD
    #[arg(long)]
    pub history: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: ScanFormat,
    /// `install-hook`.
    #[command(subcommand)]
    pub action: Option<ScanAction>,
}

/// What `scan` can do besides scanning.
#[derive(Debug, Subcommand)]
pub enum ScanAction {
    /// Write a git pre-commit hook that runs `scan --staged` (never over someone else's hook)
    InstallHook,
}

/// How many places of one finding the human report names.
const PLACES_SHOWN: usize = 5;

/// Files larger than this are read in pieces of about this size, cut at line ends, so that memory
/// stays bounded and no value (values hold no line break) is cut in two.
const MAX_FILE: u64 = 8 * 1024 * 1024;

/// A finding: where, what, and whether it is allowed (and why).
#[derive(Debug, serde::Serialize)]
struct Finding {
    /// Relative to the work tree root, `/`-separated.
    path: String,
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    #[serde(flatten)]
    matched: Matched,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<String>,
}

pub(crate) fn run(ctx: &Context, shell: &mut Shell, args: &ScanArgs) -> Result<(), Error> {
    let project = ctx.project(shell)?;
    let Some(root) = git::work_tree(&project.workspace_root) else {
        return Err(Error::usage(format!(
            "{} is not inside a git repository: `scan` looks through git-tracked files",
            rel(&project.workspace_root)
        ))
        .help("run it inside the repository, or `git init` first"));
    };
    if let Some(ScanAction::InstallHook) = args.action {
        return install_hook(shell, &project, &root);
    }
    let mut scan = Scan {
        scanner: Scanner::new(needles(ctx, shell, &project)),
        allow: allow_list(&project, &root)?,
        files: 0,
    };
    for skipped in scan.scanner.skipped() {
        shell.verbose(format_args!(
            "not looked for: the value of `{}` ({}): {}",
            skipped.key, skipped.origin, skipped.why
        ));
    }
    let dir = &project.workspace_root;
    let mut findings = if args.staged {
        scan.staged(dir)?
    } else {
        scan.work_tree(shell, &root, dir)?
    };
    if args.history {
        let mut history = scan.history(dir)?;
        // A finding already shown for the work tree is not repeated for the blob in HEAD.
        history.retain(|h| {
            !findings
                .iter()
                .any(|f| f.path == h.path && f.line == h.line && f.matched == h.matched)
        });
        findings.extend(history);
    }
    report(
        shell,
        &root,
        &findings,
        scan.files,
        scan.scanner.value_count(),
        args,
    )
}

fn git_error(e: std::io::Error) -> Error {
    Error::io("cannot read from git", e)
}

/// The needles, the allow-list, and a count of the files looked at.
struct Scan {
    scanner: Scanner,
    allow: Vec<(GlobMatcher, String)>,
    files: usize,
}

impl Scan {
    /// The findings in one file's content (none when it is binary).
    fn content(&mut self, path: &str, commit: Option<&String>, content: &[u8]) -> Vec<Finding> {
        if is_binary(content) {
            return Vec::new();
        }
        self.files += 1;
        self.scanner
            .scan(content)
            .into_iter()
            .map(|hit| Finding {
                path: path.to_owned(),
                line: hit.line,
                commit: commit.cloned(),
                matched: hit.matched,
                allowed: hit.allowed.or_else(|| {
                    self.allow
                        .iter()
                        .find(|(m, _)| m.is_match(path))
                        .map(|(_, reason)| reason.clone())
                }),
            })
            .collect()
    }

    /// A large tracked file, read in pieces of about [`MAX_FILE`] bytes that end at a line end; the
    /// findings carry the file's own line numbers.
    fn in_pieces(&mut self, path: &str, file: &Path) -> Result<Vec<Finding>, Error> {
        use std::io::Read;
        let cannot = |e| Error::io(format!("cannot read {}", rel(file)), e);
        let mut f = std::fs::File::open(file).map_err(cannot)?;
        let mut findings = Vec::new();
        let mut carry: Vec<u8> = Vec::new();
        let mut lines_before = 0;
        let files_before = self.files;
        let mut buf = vec![0u8; usize::try_from(MAX_FILE).unwrap_or(8 << 20)];
        loop {
            let n = f.read(&mut buf).map_err(cannot)?;
            let done = n == 0;
            carry.extend_from_slice(&buf[..n]);
            if !done && (carry.len() as u64) < MAX_FILE {
                continue;
            }
            // The piece ends at the last line end, unless a single line is longer than a piece.
            let cut = if done {
                carry.len()
            } else {
                carry
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(carry.len(), |i| i + 1)
            };
            let piece: Vec<u8> = carry.drain(..cut).collect();
            for mut finding in self.content(path, None, &piece) {
                finding.line += lines_before;
                findings.push(finding);
            }
            lines_before += piece.split(|b| *b == b'\n').count() - 1;
            if done {
                break;
            }
        }
        self.files = files_before + 1;
        Ok(findings)
    }

    /// What the next commit adds: the staged lines that are not in HEAD (what is already
    /// committed is `scan`'s and `scan --history`'s business, not the hook's).
    fn staged(&mut self, dir: &Path) -> Result<Vec<Finding>, Error> {
        let mut findings = Vec::new();
        for (path, lines) in git::staged_additions(dir).map_err(git_error)? {
            let mut content = Vec::new();
            for (_, line) in &lines {
                content.extend_from_slice(line);
                content.push(b'\n');
            }
            for mut f in self.content(&path, None, &content) {
                f.line = lines.get(f.line - 1).map_or(f.line, |(n, _)| *n);
                findings.push(f);
            }
        }
        Ok(findings)
    }

    /// The tracked files as they are in the work tree.
    fn work_tree(
        &mut self,
        shell: &mut Shell,
        root: &Path,
        dir: &Path,
    ) -> Result<Vec<Finding>, Error> {
        let mut findings = Vec::new();
        for path in git::tracked_files(dir).map_err(git_error)? {
            let file = root.join(&path);
            let Ok(meta) = std::fs::symlink_metadata(&file) else {
                continue; // deleted in the work tree
            };
            if !meta.is_file() {
                continue; // symlink or submodule
            }
            if meta.len() > MAX_FILE {
                shell.verbose(format_args!(
                    "{path} is larger than {MAX_FILE} bytes: read in pieces"
                ));
                findings.extend(self.in_pieces(&path, &file)?);
                continue;
            }
            let content = std::fs::read(&file)
                .map_err(|e| Error::io(format!("cannot read {}", rel(&file)), e))?;
            findings.extend(self.content(&path, None, &content));
        }
        Ok(findings)
    }

    /// Every blob reachable from HEAD, each finding with the commit that introduced the blob.
    fn history(&mut self, dir: &Path) -> Result<Vec<Finding>, Error> {
        let blobs = git::history_blobs(dir).map_err(git_error)?;
        let ids: Vec<String> = blobs.iter().map(|(id, _)| id.clone()).collect();
        let mut findings = Vec::new();
        // Each blob is scanned as it arrives and dropped: memory is the largest blob, not the
        // history.
        git::each_blob(dir, &ids, |i, blob| {
            if let Some(content) = blob {
                let (id, path) = &blobs[i];
                findings.extend(self.content(path, Some(id), content));
            }
        })
        .map_err(git_error)?;
        // One `git log` for every blob with a finding, however many findings there are.
        let ids: BTreeSet<String> = findings.iter().filter_map(|f| f.commit.clone()).collect();
        let commits: BTreeMap<String, String> = git::introducing_commits(dir, &ids);
        for f in &mut findings {
            f.commit = f.commit.as_ref().and_then(|id| commits.get(id).cloned());
        }
        Ok(findings)
    }
}

/// The values of every local profile's secrets.json and of the workspace `.env`.
fn needles(ctx: &Context, shell: &mut Shell, project: &Project) -> Vec<Needle> {
    let mut out = Vec::new();
    for name in &project.profiles.names {
        let path = project.profiles.dir.join(name).join("secrets.json");
        if !path.is_file() {
            continue;
        }
        match crate::secrets_file::read(&path) {
            Ok(file) => out.extend(file.entries.into_iter().filter_map(|e| {
                Some(Needle {
                    value: e.value?,
                    key: e.key,
                    origin: format!("profile {name}"),
                })
            })),
            Err(_) => shell.warn_help(
                format_args!(
                    "cannot read {}, so its values are not looked for",
                    rel(&path)
                ),
                format_args!(
                    "run `cargo systemprompt-secrets validate --profile {}`",
                    crate::git::shell_quote(name)
                ),
            ),
        }
    }
    for file in ctx.env_files(project) {
        if !file.path.is_file() {
            continue;
        }
        match crate::dotenv::read(&file.path) {
            Ok(entries) => out.extend(entries.into_iter().map(|e| Needle {
                value: e.value,
                key: e.var,
                origin: rel(&file.path),
            })),
            Err(e) => shell.warn(format_args!("{e}; its values are not looked for")),
        }
    }
    out
}

/// The manifest's `scan.allow` globs, as matchers on paths relative to the work tree root.
fn allow_list(project: &Project, root: &Path) -> Result<Vec<(GlobMatcher, String)>, Error> {
    project
        .config
        .scan_allow
        .iter()
        .map(|a| {
            let base = a.base.strip_prefix(root).unwrap_or(Path::new(""));
            let pattern = base.join(&a.path).to_string_lossy().replace('\\', "/");
            let glob = Glob::new(&pattern).map_err(|e| {
                Error::usage(format!(
                    "`scan.allow` path `{}` in {} is not a valid glob: {e}",
                    a.path,
                    rel(&a.base.join("Cargo.toml"))
                ))
                .help("use `*`, `**` and `?`, e.g. \"examples/**\"")
            })?;
            Ok((glob.compile_matcher(), a.reason.clone()))
        })
        .collect()
}

fn report(
    shell: &mut Shell,
    root: &Path,
    findings: &[Finding],
    scanned: usize,
    values: usize,
    args: &ScanArgs,
) -> Result<(), Error> {
    let (allowed, found): (Vec<&Finding>, Vec<&Finding>) =
        findings.iter().partition(|f| f.allowed.is_some());
    let what = if args.staged {
        "staged files"
    } else if args.history {
        "tracked files and history"
    } else {
        "tracked files"
    };
    match args.format {
        ScanFormat::Json => shell.out(json!({
            "ok": found.is_empty(),
            "scanned": scanned,
            "values_looked_for": values,
            "findings": found,
            "allowed": allowed,
        })),
        ScanFormat::Sarif => shell.out(sarif(&found)),
        ScanFormat::Human => {
            // One entry per thing found, with its places (the first few named).
            let mut groups: BTreeMap<&crate::scan::Matched, Vec<&Finding>> = BTreeMap::new();
            for f in &found {
                groups.entry(&f.matched).or_default().push(f);
            }
            for (matched, places) in &groups {
                let shown: Vec<String> = places
                    .iter()
                    .take(PLACES_SHOWN)
                    .map(|f| {
                        let commit = f
                            .commit
                            .as_deref()
                            .map(|c| format!(" (commit {})", &c[..c.len().min(12)]))
                            .unwrap_or_default();
                        format!("{}:{}{commit}", rel(&root.join(&f.path)), f.line)
                    })
                    .collect();
                let more = places.len().saturating_sub(PLACES_SHOWN);
                let files: BTreeSet<&str> = places.iter().map(|f| f.path.as_str()).collect();
                shell.error(format_args!(
                    "{} in {} place{} ({} file{}): {}{}",
                    matched.describe(),
                    places.len(),
                    if places.len() == 1 { "" } else { "s" },
                    files.len(),
                    if files.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if more > 0 {
                        format!(", and {more} more (--format json lists all)")
                    } else {
                        String::new()
                    }
                ));
            }
            for f in &allowed {
                shell.verbose(format_args!(
                    "allowed {}:{}: {} — {}",
                    f.path,
                    f.line,
                    f.matched.describe(),
                    f.allowed.as_deref().unwrap_or_default()
                ));
            }
            shell.status(
                "Scanned",
                format_args!(
                    "{scanned} {what}, {values} value(s) and the key formats: {} finding(s), {} allowed",
                    found.len(),
                    allowed.len()
                ),
            );
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    if args.format != ScanFormat::Human {
        return Err(Error::exit(crate::exit_code::FAILURE));
    }
    // A first run finds test fakes most often: the allow entries for exactly these files, ready
    // to paste (only once each file is known to hold fakes, never by default).
    let files: BTreeSet<&str> = found.iter().map(|f| f.path.as_str()).collect();
    let entries: Vec<String> = files
        .iter()
        .map(|p| {
            format!(
                "    {{ path = {}, reason = \"test fake\" }},",
                serde_json::Value::from(*p)
            )
        })
        .collect();
    shell.info(format_args!(
        "note: if these are made-up test values, allow their files in Cargo.toml (each with its reason):\n  [package.metadata.systemprompt-secrets.scan]\n  allow = [\n{}\n  ]",
        entries.join("\n")
    ));
    Err(
        Error::exit_with(crate::exit_code::FAILURE, "secrets found in git-tracked content")
            .help("remove them (`git rm --cached` for whole files), rotate every value that was committed, and add the files to .gitignore; allow fakes as the note above shows"),
    )
}

fn sarif(found: &[&Finding]) -> serde_json::Value {
    let rules: BTreeSet<(&str, String)> = found
        .iter()
        .map(|f| {
            let text = match &f.matched {
                Matched::Value { .. } => {
                    "The value of a secret from a local profile or .env".to_owned()
                }
                Matched::Format { what, .. } => format!("Something shaped like {what}"),
            };
            (f.matched.rule_id(), text)
        })
        .collect();
    let results: Vec<serde_json::Value> = found
        .iter()
        .map(|f| {
            let mut message = f.matched.describe();
            if let Some(c) = &f.commit {
                message = format!("{message} (added in commit {c})");
            }
            json!({
                "ruleId": f.matched.rule_id(),
                "level": "error",
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.path, "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": f.line }
                    }
                }]
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        "runs": [{
            "tool": { "driver": {
                "name": "cargo-systemprompt-secrets",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|(id, text)| json!({
                    "id": id,
                    "shortDescription": { "text": text },
                })).collect::<Vec<_>>(),
            }},
            "results": results,
        }]
    })
}

const HOOK_MARKER: &str = "# Installed by cargo-systemprompt-secrets";

fn install_hook(shell: &mut Shell, project: &Project, root: &Path) -> Result<(), Error> {
    let hook = git::hook_path(root, "pre-commit")
        .map_err(|e| Error::io("cannot find the git hooks folder", e))?;
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if !existing.contains(HOOK_MARKER) {
            return Err(Error::failed(format!("{} already exists and was not written by cargo-systemprompt-secrets; nothing was changed", rel(&hook))).help("add `cargo systemprompt-secrets scan --staged` to that hook yourself"));
        }
    } else if hook.exists() {
        return Err(Error::failed(format!(
            "{} exists but cannot be read; nothing was changed",
            rel(&hook)
        )));
    }
    let manifest: PathBuf = project.manifest_dir.join("Cargo.toml");
    let manifest = manifest.strip_prefix(root).unwrap_or(&manifest);
    let script = format!(
        "#!/bin/sh\n{HOOK_MARKER}: stops a commit that would add secret values.\n# Skip once with `git commit --no-verify`; remove with `rm {hook}`.\nexec cargo systemprompt-secrets scan --staged --manifest-path {manifest}\n",
        hook = git::shell_quote(&hook.display().to_string()),
        manifest = git::shell_quote(&manifest.display().to_string()),
    );
    if let Some(dir) = hook.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("cannot create {}", rel(dir)), e))?;
    }
    write_executable(&hook, script.as_bytes())
        .map_err(|e| Error::io(format!("cannot write {}", rel(&hook)), e))?;
    shell.status(
        "Installed",
        format_args!("{} (runs `scan --staged` before each commit)", rel(&hook)),
    );
    Ok(())
}

fn write_executable(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o755))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
