//! What git says about a secrets file: tracked, ignored, or outside any repository.
//!
//! Asks the `git` binary (it knows every ignore source: `.gitignore` files, `info/exclude`,
//! `core.excludesFile`). No git on PATH, or no repository, means there is nothing to guard.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;
use crate::shell::Shell;

/// Where a file stands in git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitState {
    /// Not inside a git work tree (or git is not installed).
    NoRepository,
    /// In the index: committed or staged. The values are (or are about to be) in history.
    Tracked {
        /// The work tree root.
        root: PathBuf,
    },
    /// Not tracked, and an ignore rule covers it.
    Ignored,
    /// Not tracked, and no ignore rule covers it: one `git add .` away from a commit.
    NotIgnored,
}

/// The git work tree holding `dir`, if any.
#[must_use]
pub fn work_tree(dir: &Path) -> Option<PathBuf> {
    let out = git(dir)
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    Some(PathBuf::from(text.trim_end_matches(['\n', '\r'])))
}

/// Where `file` stands in git. The file need not exist. Outside a repository no git runs; inside
/// one, whether it is tracked is answered as for `validate` (cached against the index), and one
/// `check-ignore` run judges an untracked file.
#[must_use]
pub fn state(file: &Path) -> GitState {
    let Some((repo, absolute)) = repository_of(file) else {
        return GitState::NoRepository;
    };
    if !tracked_in(&repo, &[(0, absolute.clone())]).is_empty() {
        return GitState::Tracked { root: repo };
    }
    let Some(dir) = existing_ancestor(&absolute) else {
        return GitState::NoRepository;
    };
    // `--no-index`: judge by the ignore rules alone. Exit 0: ignored, 1: not; else git cannot say.
    let ignored = git(&dir)
        .args(["check-ignore", "-q", "--no-index", "--"])
        .arg(&absolute)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()
        .and_then(|s| s.code());
    match ignored {
        Some(0) => GitState::Ignored,
        Some(1) => GitState::NotIgnored,
        _ => GitState::NoRepository,
    }
}

/// The work tree that holds `file` (the nearest ancestor with a `.git`), and `file` made absolute.
fn repository_of(file: &Path) -> Option<(PathBuf, PathBuf)> {
    let absolute = std::path::absolute(file).ok()?;
    let dir = existing_ancestor(&absolute)?;
    let repo = dir.ancestors().find(|d| d.join(".git").exists())?;
    Some((repo.to_path_buf(), absolute))
}

/// For each of `files`, the work tree root when git tracks it. One `ls-files` run per repository
/// for all of them (`validate --all-profiles` asks about every profile at once), and none at all
/// outside a repository or while the index is unchanged: the answer is cached against the index
/// file's identity, so a warm `validate` starts no git process.
#[must_use]
pub fn tracked_roots(files: &[&Path]) -> Vec<Option<PathBuf>> {
    let mut answers = vec![None; files.len()];
    // Each file by the repository that holds it (the nearest ancestor with a `.git`).
    let mut by_repo: std::collections::BTreeMap<PathBuf, Vec<(usize, PathBuf)>> =
        std::collections::BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        if let Some((repo, absolute)) = repository_of(file) {
            by_repo.entry(repo).or_default().push((i, absolute));
        }
    }
    for (repo, asked) in by_repo {
        for i in tracked_in(&repo, &asked) {
            answers[i] = Some(repo.clone());
        }
    }
    answers
}

/// Which of `asked` (index, absolute path) the index of the work tree `repo` holds, by index.
fn tracked_in(repo: &Path, asked: &[(usize, PathBuf)]) -> Vec<usize> {
    let relative: Vec<(usize, PathBuf)> = asked
        .iter()
        .filter_map(|(i, p)| Some((*i, p.strip_prefix(repo).ok()?.to_path_buf())))
        .collect();
    let mut names = String::new();
    for (_, p) in &relative {
        names.push_str(&p.to_string_lossy());
        names.push('\n');
    }
    let key = index_identity(repo).map(|id| {
        format!(
            "tracked\n{}\n{id}\n{:016x}",
            repo.display(),
            crate::metadata_cache::fnv64(names.as_bytes())
        )
    });
    // The cache holds only the asked paths that are tracked: small, whatever the folder holds.
    if let Some(answer) = key.as_deref().and_then(crate::metadata_cache::recall) {
        let tracked: std::collections::BTreeSet<&Path> = answer.lines().map(Path::new).collect();
        return relative
            .iter()
            .filter(|(_, p)| tracked.contains(p.as_path()))
            .map(|(i, _)| *i)
            .collect();
    }
    let Some(listed) = ls_files(repo, &relative) else {
        return Vec::new();
    };
    let listed: std::collections::BTreeSet<PathBuf> = listed.into_iter().collect();
    let tracked: Vec<&(usize, PathBuf)> = relative
        .iter()
        .filter(|(_, p)| listed.contains(p))
        .collect();
    if let Some(key) = &key {
        let answer: Vec<std::borrow::Cow<'_, str>> =
            tracked.iter().map(|(_, p)| p.to_string_lossy()).collect();
        crate::metadata_cache::remember(key, &answer.join("\n"));
    }
    tracked.into_iter().map(|(i, _)| *i).collect()
}

/// The paths among `asked` (relative to `repo`) that git's index holds: one `ls-files` run over
/// the folder they all share (the profiles folder, usually), however many there are. `None` when
/// git cannot answer.
fn ls_files(repo: &Path, asked: &[(usize, PathBuf)]) -> Option<Vec<PathBuf>> {
    let mut common: Option<PathBuf> = None;
    for (_, p) in asked {
        let parent = p.parent().unwrap_or(Path::new(""));
        common = Some(match common {
            None => parent.to_path_buf(),
            Some(c) => c
                .ancestors()
                .find(|a| parent.starts_with(a))
                .unwrap_or(Path::new(""))
                .to_path_buf(),
        });
    }
    let common = common?;
    let pathspec = if common.as_os_str().is_empty() {
        Path::new(".")
    } else {
        common.as_path()
    };
    let out = git(repo)
        .env("GIT_LITERAL_PATHSPECS", "1")
        .args(["ls-files", "-z", "--full-name", "--"])
        .arg(pathspec)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(split_nul(&out.stdout).map(PathBuf::from).collect())
}

/// The identity of the repository's index (`.git/index`): its length, modification time and
/// inode. `None` for a `.git` that is a file (a linked worktree or submodule): no cache then.
fn index_identity(repo: &Path) -> Option<String> {
    let git_dir = repo.join(".git");
    if !git_dir.is_dir() {
        return None;
    }
    let index = git_dir.join("index");
    match std::fs::symlink_metadata(&index) {
        Ok(m) => {
            let modified = m
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            // An index written in the last two seconds may be written again within the same
            // timestamp tick with the same length: not cached, as git itself treats it ("racy").
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            if now.saturating_sub(modified) < 2_000_000_000 {
                return None;
            }
            #[cfg(unix)]
            let inode = std::os::unix::fs::MetadataExt::ino(&m);
            #[cfg(not(unix))]
            let inode = 0;
            Some(format!(
                "{} {} {modified} {inode}",
                index.display(),
                m.len()
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(format!("{} none", index.display()))
        }
        Err(_) => None,
    }
}

/// The warning `validate` gives for a tracked secrets file.
#[must_use]
pub fn tracked_finding(file: &Path, root: &Path) -> crate::finding::Finding {
    crate::finding::Finding::new(
        crate::finding::SECRETS_TRACKED,
        crate::finding::Severity::Warning,
        None,
        format!(
            "{} is tracked by git: its values are in the repository",
            file.file_name().unwrap_or_default().to_string_lossy()
        ),
        untrack_help(file, root),
    )
    .at(Some(crate::finding::Location::File {
        path: file.to_path_buf(),
        line: None,
        column: None,
    }))
}

/// The error for a tracked secrets file, naming the exact command that untracks it.
#[must_use]
pub fn tracked_error(file: &Path, root: &Path) -> Error {
    Error::failed(format!(
        "{} is tracked by git: its values are in the repository; nothing was changed",
        crate::source::rel(file)
    ))
    .help(untrack_help(file, root))
}

/// What to do about a tracked secrets file: untrack it, commit, rotate what git keeps.
fn untrack_help(file: &Path, root: &Path) -> String {
    format!(
        "run `{}`, commit, and rotate every value in it (they stay in git history)",
        rm_cached_command(file, root)
    )
}

/// The command that untracks `file`: `git rm --cached -- <path>` from the current directory when
/// it is inside the work tree, else `git -C <root> rm --cached -- <path relative to root>`.
#[must_use]
pub fn rm_cached_command(file: &Path, root: &Path) -> String {
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| c.canonicalize().ok())
        .unwrap_or_default();
    let file = file
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .zip(file.file_name())
        .map_or_else(|| file.to_path_buf(), |(dir, name)| dir.join(name));
    if cwd.starts_with(root) {
        if let Ok(relative) = file.strip_prefix(&cwd) {
            return format!(
                "git rm --cached -- {}",
                shell_quote(&relative.display().to_string())
            );
        }
    }
    let relative = file.strip_prefix(root).unwrap_or(&file);
    format!(
        "git -C {} rm --cached -- {}",
        shell_quote(&root.display().to_string()),
        shell_quote(&relative.display().to_string())
    )
}

/// The guard run before writing or pushing a secrets file (`init`, `sync`, `pull`): a tracked file
/// stops the command; a file that git would not ignore gives a warning.
pub fn guard(shell: &mut Shell, file: &Path) -> Result<GitState, Error> {
    let state = state(file);
    match &state {
        GitState::Tracked { root } => return Err(tracked_error(file, root)),
        GitState::NotIgnored => shell.warn_help(
            format_args!("git does not ignore {}", crate::source::rel(file)),
            "add it to .gitignore (`cargo systemprompt-secrets init` does), or run `cargo systemprompt-secrets doctor --fix`",
        ),
        GitState::NoRepository | GitState::Ignored => {}
    }
    Ok(state)
}

/// Runs git in `dir` and returns stdout, or an error naming the command and git's message.
fn output(dir: &Path, args: &[&str]) -> std::io::Result<Vec<u8>> {
    let out = git(dir).args(args).stderr(Stdio::piped()).output()?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(std::io::Error::other(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn split_nul(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
}

/// Tracked files below `dir`, as paths relative to the work tree root.
pub fn tracked_files(dir: &Path) -> std::io::Result<Vec<String>> {
    Ok(split_nul(&output(dir, &["ls-files", "-z", "--full-name", "--", "."])?).collect())
}

/// A staged file's path and the lines the commit adds to it (line number in the staged version,
/// bytes without the line end).
pub type StagedFile = (String, Vec<(usize, Vec<u8>)>);

/// The lines a commit would add: for each staged file (added, copied, modified or renamed), its
/// path relative to the work tree root and the added lines with their line numbers in the staged
/// version. Binary files are left out (git shows no lines for them).
pub fn staged_additions(dir: &Path) -> std::io::Result<Vec<StagedFile>> {
    let out = output(
        dir,
        &[
            "-c",
            "core.quotePath=false",
            "diff",
            "--cached",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            "--diff-filter=ACMR",
            "--no-prefix",
        ],
    )?;
    let mut files: Vec<StagedFile> = Vec::new();
    let mut next_line = 0;
    for raw in out.split(|b| *b == b'\n') {
        if let Some(path) = raw.strip_prefix(b"+++ ") {
            let path = String::from_utf8_lossy(path);
            let path = path.trim_matches('"').to_owned();
            files.push((path, Vec::new()));
        } else if raw.starts_with(b"@@ ") {
            // `@@ -a,b +c,d @@`: the added lines start at line c of the staged version.
            next_line = String::from_utf8_lossy(raw)
                .split_whitespace()
                .find_map(|w| w.strip_prefix('+'))
                .and_then(|w| w.split(',').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if let (Some(line), Some(file)) = (raw.strip_prefix(b"+"), files.last_mut()) {
            file.1.push((next_line, line.to_vec()));
            next_line += 1;
        }
    }
    files.retain(|(path, lines)| path != "/dev/null" && !lines.is_empty());
    Ok(files)
}

/// The commit that introduced each of `ids` (blob ids), oldest first along HEAD: one `git log`
/// run whatever the number of ids. Merges are diffed against each parent in the same pass (`-m`),
/// so a blob that only a merge brought is found there too; an id still not found (none, in
/// practice) is looked up on its own.
#[must_use]
pub fn introducing_commits(
    dir: &Path,
    ids: &std::collections::BTreeSet<String>,
) -> std::collections::BTreeMap<String, String> {
    let mut found = std::collections::BTreeMap::new();
    if ids.is_empty() {
        return found;
    }
    let log = output(
        dir,
        &[
            "log",
            "--reverse",
            "--root",
            "--raw",
            "--no-abbrev",
            "--no-renames",
            "-m",
            "--format=%x01%H",
            "HEAD",
        ],
    )
    .unwrap_or_default();
    let mut commit = String::new();
    for line in String::from_utf8_lossy(&log).lines() {
        if let Some(c) = line.strip_prefix('\u{1}') {
            c.clone_into(&mut commit);
        } else if line.starts_with(':') {
            // `:<old mode> <new mode> <old id> <new id> <status>\t<path>`
            if let Some(new_id) = line.split_whitespace().nth(3) {
                if ids.contains(new_id) && !found.contains_key(new_id) {
                    found.insert(new_id.to_owned(), commit.clone());
                }
            }
        }
    }
    for id in ids {
        if !found.contains_key(id) {
            if let Some(c) = introducing_commit(dir, id) {
                found.insert(id.clone(), c);
            }
        }
    }
    found
}

/// Every blob reachable from HEAD: (blob id, path relative to the work tree root). Empty when
/// the repository has no commit yet.
pub fn history_blobs(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    if output(dir, &["rev-parse", "--verify", "-q", "HEAD"]).is_err() {
        return Ok(Vec::new());
    }
    let out = output(
        dir,
        &["rev-list", "--objects", "--filter=object:type=blob", "HEAD"],
    )?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .filter_map(|l| {
            let (id, path) = l.split_once(' ')?;
            Some((id.to_owned(), path.to_owned()))
        })
        .collect())
}

/// Reads blobs by id with one `git cat-file --batch`, handing each to `each` in order (`None`
/// for an id that is not a blob) as it arrives: one buffer, reused, so memory is bounded by the
/// largest blob rather than the history.
pub fn each_blob(
    dir: &Path,
    ids: &[String],
    mut each: impl FnMut(usize, Option<&[u8]>),
) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = git(dir)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::other("`git cat-file --batch` has no pipes"));
    };
    let request: Vec<u8> = ids
        .iter()
        .flat_map(|id| id.bytes().chain([b'\n']))
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(&request));
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut header = String::new();
    let mut content = Vec::new();
    for index in 0..ids.len() {
        header.clear();
        if reader.read_line(&mut header)? == 0 {
            return Err(std::io::Error::other(
                "`git cat-file --batch` stopped early",
            ));
        }
        // `<id> <type> <size>` or `<id> missing`.
        let mut parts = header.split_whitespace();
        let (Some(_), Some(kind), Some(size), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            each(index, None);
            continue;
        };
        let size: usize = size
            .parse()
            .map_err(|_| std::io::Error::other("`git cat-file --batch` gave a bad size"))?;
        content.clear();
        content.resize(size + 1, 0);
        reader.read_exact(&mut content)?;
        content.pop();
        each(index, (kind == "blob").then_some(content.as_slice()));
    }
    writer
        .join()
        .map_err(|_| std::io::Error::other("writer thread panicked"))??;
    child.wait()?;
    Ok(())
}

/// The oldest commit reachable from HEAD that added blob `id`.
#[must_use]
fn introducing_commit(dir: &Path, id: &str) -> Option<String> {
    let out = output(
        dir,
        &[
            "log",
            "--format=%H",
            "--reverse",
            &format!("--find-object={id}"),
            "HEAD",
        ],
    )
    .ok()?;
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .map(str::to_owned)
}

/// The path of the repository's pre-commit hook (honours `core.hooksPath`).
pub fn hook_path(dir: &Path, hook: &str) -> std::io::Result<PathBuf> {
    let out = output(
        dir,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            &format!("hooks/{hook}"),
        ],
    )?;
    Ok(PathBuf::from(
        String::from_utf8_lossy(&out).trim_end_matches(['\n', '\r']),
    ))
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(dir).stdin(Stdio::null());
    // The caller's GIT_DIR / GIT_INDEX_FILE (set inside hooks) must not point git elsewhere.
    for var in ["GIT_DIR", "GIT_WORK_TREE"] {
        c.env_remove(var);
    }
    c
}

fn existing_ancestor(file: &Path) -> Option<PathBuf> {
    file.ancestors()
        .skip(1)
        .find(|d| d.is_dir())
        .map(Path::to_path_buf)
}

/// Quotes a word for a POSIX shell when it needs it.
#[must_use]
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Makes sure `target` is ignored by git: asks git when in a repository, else reads the ignore file.
/// Appends the lines of `lines` that are missing from `gitignore`.
pub fn ensure_ignored(
    shell: &mut Shell,
    gitignore: &Path,
    lines: &str,
    target: &Path,
) -> Result<(), Error> {
    let dir = gitignore.parent().unwrap_or(Path::new("."));
    let git_says_ignored = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["check-ignore", "-q", "--no-index"])
        .arg(target)
        .output()
        .ok()
        .map(|o| o.status.code());
    if git_says_ignored == Some(Some(0)) {
        return Ok(());
    }
    let existing = std::fs::read_to_string(gitignore).unwrap_or_default();
    let missing: Vec<&str> = lines
        .lines()
        .filter(|l| {
            !l.trim().is_empty()
                && (l.starts_with('#') && existing.is_empty()
                    || !l.starts_with('#') && !existing.lines().any(|e| e.trim() == l.trim()))
        })
        .collect();
    if missing.iter().all(|l| l.starts_with('#')) {
        return Ok(());
    }
    let mut text = existing.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for l in &missing {
        text.push_str(l);
        text.push('\n');
    }
    // Explicit modes whatever the umask: the folder (`.systemprompt/`, which holds secrets) 0700,
    // the ignore file 0644.
    crate::atomic::create_private_dir(dir)
        .map_err(|e| Error::io(format!("cannot create {}", crate::source::rel(dir)), e))?;
    crate::atomic::write_shared(gitignore, text.as_bytes())
        .map_err(|e| Error::io(format!("cannot write {}", crate::source::rel(gitignore)), e))?;
    let added: Vec<&str> = missing
        .into_iter()
        .filter(|l| !l.starts_with('#'))
        .collect();
    shell.status(
        "Updated",
        format_args!(
            "{} (added {})",
            crate::source::rel(gitignore),
            added.join(", ")
        ),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_in(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs")
            .status
            .success();
        assert!(ok, "git {args:?}");
    }

    #[test]
    fn states() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let file = root.join("a/secrets.json");
        assert_eq!(state(&file), GitState::NoRepository);
        git_in(&root, &["init", "-q"]);
        assert_eq!(state(&file), GitState::NotIgnored);
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(&file, "{}").unwrap();
        std::fs::write(root.join(".gitignore"), "secrets.json\n").unwrap();
        assert_eq!(state(&file), GitState::Ignored);
        git_in(&root, &["add", "-f", "a/secrets.json"]);
        assert_eq!(state(&file), GitState::Tracked { root: root.clone() });
        let cmd = rm_cached_command(&file, &root);
        assert!(cmd.ends_with("rm --cached -- a/secrets.json"), "{cmd}");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a/b.json"), "a/b.json");
        assert_eq!(shell_quote("my dir"), "'my dir'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
