#!/usr/bin/env python3
"""Side-by-side figures of issue 27, run by scripts/bench.sh: each as ours ÷ theirs, the pair timed
together by hyperfine (alternating, so load hits both alike), three repetitions, the median ratio
with its min–max spread, and the load average while it ran. Prints Markdown on stdout.

  compare.py BIN WORKDIR --template REPO --core REPO --bao BAO --secretspec BIN --jq BIN

The repositories are git clones (of systempromptio/systemprompt-template and -core); every other
input is made here. Nothing is sent anywhere but 127.0.0.1.
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

REPS = int(os.environ.get("BENCH_REPS", "3"))
PEPPER = "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQZq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5"


def sh(cmd, cwd=None, env=None, check=True):
    return subprocess.run(cmd, cwd=cwd, env=env, check=check, capture_output=True, text=True)


def load():
    return os.getloadavg()[0]


def pair(cwd, ours, theirs, runs=15, warmup=3, prepare=None, env=None, ignore_failure=False):
    """Three repetitions of hyperfine over both commands; the ratios ours ÷ theirs."""
    ratios, times, loads = [], [], []
    for _ in range(REPS):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            cmd = ["hyperfine", "--style", "none", "-N", "--warmup", str(warmup), "--runs", str(runs),
                   "--export-json", out.name, "-n", "ours", ours, "-n", "theirs", theirs]
            if prepare:
                cmd[1:1] = ["--prepare", prepare]
            if ignore_failure:
                cmd[1:1] = ["-i"]
            loads.append(load())
            sh(cmd, cwd=cwd, env=env)
            r = {x["command"]: x["median"] for x in json.load(open(out.name))["results"]}
        ratios.append(r["ours"] / r["theirs"])
        times.append((r["ours"], r["theirs"]))
    return {
        "ratio": statistics.median(ratios), "lo": min(ratios), "hi": max(ratios),
        "ours": statistics.median(t[0] for t in times), "theirs": statistics.median(t[1] for t in times),
        "load": statistics.mean(loads),
    }


def row(name, r, target=""):
    return (f"| {name} | {r['ours'] * 1000:.1f} ms | {r['theirs'] * 1000:.1f} ms | "
            f"{r['ratio']:.2f}× ({r['lo']:.2f}–{r['hi']:.2f}) | {r['load']:.2f} | {target} |")


HEADER = "| figure | ours | theirs | ours ÷ theirs (spread of 3) | load | target |\n|---|---|---|---|---|---|"


def project(root, secrets, manifest_extra=""):
    os.makedirs(f"{root}/src", exist_ok=True)
    open(f"{root}/src/lib.rs", "w").close()
    open(f"{root}/Cargo.toml", "w").write(
        '[package]\nname = "bench"\nversion = "0.1.0"\nedition = "2021"\n[workspace]\n'
        '[package.metadata.systemprompt-secrets]\nrequire-ai-provider = false\n' + manifest_extra)
    for name, values in secrets.items():
        d = f"{root}/.systemprompt/profiles/{name}"
        os.makedirs(d, exist_ok=True)
        json.dump(values, open(f"{d}/secrets.json", "w"), indent=2)
        os.chmod(f"{d}/secrets.json", 0o600)


def validate_section(a, work):
    # One profile of three secrets, in a git repository, beside secretspec's check of the same three.
    p = f"{work}/validate"
    project(p, {"local": {"oauth_at_rest_pepper": PEPPER, "database_url": "postgres://app:pw@db:5432/app",
                          "anthropic": "sk-ant-api03-" + "AbCdEfGhIj" * 9 + "kLmAA"}})
    open(f"{p}/.gitignore", "w").write("secrets.json\n/target\n")
    open(f"{p}/.env", "w").write(f"OAUTH_AT_REST_PEPPER={PEPPER}\nDATABASE_URL=postgres://app:pw@db:5432/app\n")
    open(f"{p}/secretspec.toml", "w").write(
        '[project]\nname = "bench"\nrevision = "1.0"\n\n[profiles.default]\n'
        'OAUTH_AT_REST_PEPPER = { description = "pepper" }\nDATABASE_URL = { description = "database" }\n')
    sh(["git", "init", "-q"], cwd=p)
    sh(["git", "add", "-A"], cwd=p)
    sh(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init"], cwd=p)
    time.sleep(2.1)  # the index must leave git's racy window before its answer is cached
    out = [HEADER]
    r = pair(p, f"{a.bin} systemprompt-secrets validate -q", f"{a.secretspec} check --provider dotenv")
    out.append(row("`validate` ÷ `secretspec check` (3 secrets, warm)", r, "≤ 0.8×"))
    # --all-profiles over 1,000 profiles against jq reading the same files.
    q = f"{work}/profiles1000"
    project(q, {f"p{i:04}": {"oauth_at_rest_pepper": PEPPER, "database_url": f"postgres://a:b@localhost/db{i}"}
                for i in range(1000)})
    open(f"{q}/.gitignore", "w").write("secrets.json\n/target\n")
    sh(["git", "init", "-q"], cwd=q)
    sh(["git", "add", "-A"], cwd=q)
    sh(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init"], cwd=q)
    time.sleep(2.1)
    files = " ".join(f".systemprompt/profiles/p{i:04}/secrets.json" for i in range(1000))
    r = pair(q, f"{a.bin} systemprompt-secrets validate -q --all-profiles", f"{a.jq} -c . {files}", runs=10)
    out.append(row("`validate --all-profiles` (1,000 profiles) ÷ `jq` of the same files", r, "≤ 5×"))
    return out


def run_section(a, work):
    out = ["| keys | `run -- true` | per key above 1,000 keys |", "|---|---|---|"]
    med = {}
    for n in (1000, 4000, 12000):
        p = f"{work}/run{n}"
        values = {"oauth_at_rest_pepper": PEPPER, "database_url": "postgres://a:b@localhost/db"}
        values.update({f"k{i:05}": f"value-{i}-abcdefghijklmnopqrstuvwxyz" for i in range(n - 2)})
        project(p, {"local": values})
        reps = []
        for _ in range(REPS):
            with tempfile.NamedTemporaryFile(suffix=".json") as f:
                sh(["hyperfine", "--style", "none", "-N", "--warmup", "3", "--runs", "15", "--export-json", f.name,
                    f"{a.bin} systemprompt-secrets run -q -- true"], cwd=p)
                reps.append(json.load(open(f.name))["results"][0]["median"])
        med[n] = (statistics.median(reps), min(reps), max(reps))
    for n, (m, lo, hi) in med.items():
        per = "" if n == 1000 else f"{(m - med[1000][0]) / (n - 1000) * 1e6:.2f} µs"
        out.append(f"| {n:,} | {m * 1000:.1f} ms ({lo * 1000:.1f}–{hi * 1000:.1f}) | {per} |")
    return out


def bao_section(a, work):
    def free():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return port
    port, dev = free(), free()
    hcl = f"{work}/listener.hcl"
    open(hcl, "w").write(f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n  tls_disable = true\n'
                         '  max_request_json_strings = 1000000\n  max_request_json_memory = 268435456\n}\n')
    server = subprocess.Popen([a.bao, "server", "-dev", "-dev-root-token-id=root", "-dev-no-store-token",
                               f"-dev-listen-address=127.0.0.1:{dev}", f"-config={hcl}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    addr = f"http://127.0.0.1:{port}"
    env = dict(os.environ, BAO_TOKEN="root", SYSTEMPROMPT_SECRETS_KEYRING="none",
               SYSTEMPROMPT_SECRETS_TRUST_PROJECT="1", SYSTEMPROMPT_SECRETS_STATE_DIR=f"{work}/state")
    out = [HEADER]
    try:
        for _ in range(100):
            if sh(["curl", "-sf", f"{addr}/v1/sys/health"], check=False).returncode == 0:
                break
            time.sleep(0.1)
        for n in (10, 1000, 10000):
            p = f"{work}/bao{n}"
            values = {"jwt_secret": "Zq3vN8pR1tY6wB0eK4mJ7hL2sD9fG5cXaQ", "database_url": "postgres://a:b@h:5432/d", "rev": "0"}
            values.update({f"custom_key_{i:05}": f"value-{i}-abcdefghijklmnopqrstuvwxyz" for i in range(n - 3)})
            project(p, {"local": values}, f'backend = "openbao"\n[package.metadata.systemprompt-secrets.openbao]\naddress = "{addr}"\n')
            json.dump(values, open(f"{p}/data.json", "w"))
            json.dump({"data": values}, open(f"{p}/body.json", "w"))
            sh([a.bin, "systemprompt-secrets", "sync", "-q", "--force"], cwd=p, env=env)
            bump = "sed -i -E 's/\"rev\": \"[0-9]+\"/\"rev\": \"'$RANDOM'\"/' .systemprompt/profiles/local/secrets.json"
            sync = f"{a.bin} systemprompt-secrets sync -q"
            r = pair(p, sync, f"{a.bao} kv put -address={addr} -mount=secret bench/kvput @data.json", prepare=bump, env=env)
            out.append(row(f"`sync` ÷ `bao kv put`, {n:,} keys", r, "≤ 0.33× (≥ 3× faster)"))
            if n < 10000:
                continue
            curl_post = (f"curl -s -o /dev/null -X POST -H 'Expect:' -H 'X-Vault-Token: root' "
                         f"--data-binary @body.json {addr}/v1/secret/data/bench/curl")
            r = pair(p, sync, curl_post, prepare=bump, env=env)
            out.append(row(f"`sync` ÷ curl POST of the same body, {n:,} keys", r, "≤ 1.5×"))
            sh([a.bin, "systemprompt-secrets", "sync", "-q"], cwd=p, env=env)
            get = f"curl -s -o /dev/null -H 'X-Vault-Token: root' {addr}/v1/secret/data/systemprompt/bench/local"
            r = pair(p, f"{a.bin} systemprompt-secrets diff -q", get, env=env)
            out.append(row(f"`diff` ÷ curl GET, {n:,} keys", r, "≤ 1.5×"))
            r = pair(p, f"{a.bin} systemprompt-secrets pull -q --dry-run", get, env=env)
            out.append(row(f"`pull --dry-run` ÷ curl GET, {n:,} keys", r, "≤ 1.5×"))
    finally:
        server.terminate()
        server.wait()
    return out


def scan_section(a, work):
    """What each scanner finds on both repositories, and how long it takes."""
    out = ["| repository | scanner | time | findings | of them real-shaped credentials |", "|---|---|---|---|---|"]
    env = dict(os.environ, SYSTEMPROMPT_SECRETS_KEYRING="none")
    for label, repo in (("systemprompt-template", a.template), ("systemprompt-core", a.core)):
        t0 = time.monotonic()
        ours = json.loads(sh([a.bin, "systemprompt-secrets", "scan", "-q", "--format", "json"], cwd=repo, env=env, check=False).stdout)
        t_ours = time.monotonic() - t0
        kinds = {}
        for f in ours["findings"]:
            kinds[f["rule"]] = kinds.get(f["rule"], 0) + 1
        out.append(f"| {label} | `scan` | {t_ours:.2f} s | {len(ours['findings'])} {kinds or ''} ({len(ours['allowed'])} allowed, with the reason) | "
                   f"{sum(v for k, v in kinds.items() if k == 'private-key')} private keys |")
        t0 = time.monotonic()
        ds = json.loads(sh(["detect-secrets", "scan"], cwd=repo).stdout)
        t_ds = time.monotonic() - t0
        kinds = {}
        for items in ds["results"].values():
            for it in items:
                kinds[it["type"]] = kinds.get(it["type"], 0) + 1
        entropy = sum(v for k, v in kinds.items() if "Entropy" in k)
        out.append(f"| {label} | detect-secrets | {t_ds:.2f} s | {sum(kinds.values())} ({entropy} by entropy) {kinds} | see the note below |")
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            t0 = time.monotonic()
            sh(["trufflehog3", "--no-history", "-z", "-f", "JSON", "-o", f.name, "."], cwd=repo)
            t_th = time.monotonic() - t0
            th = json.load(open(f.name))
        kinds = {}
        for x in th:
            kinds[x["rule"]["id"]] = kinds.get(x["rule"]["id"], 0) + 1
        out.append(f"| {label} | trufflehog3 | {t_th:.2f} s | {len(th)} ({kinds.get('high-entropy', 0)} by entropy) {kinds} | see the note below |")
    return out


def history_section(a, work):
    """`scan --history` against reading every reachable blob with `git cat-file --batch`."""
    out = [HEADER]
    env = dict(os.environ, SYSTEMPROMPT_SECRETS_KEYRING="none")
    for label, repo in (("systemprompt-template", a.template), ("systemprompt-core", a.core)):
        floor = ("sh -c \"git rev-list --objects HEAD | cut -d' ' -f1 | git cat-file --batch > /dev/null\"")
        # `scan` exits 1 when it finds something (the core's test keys): that run counts all the same.
        r = pair(repo, f"{a.bin} systemprompt-secrets scan -q --history", floor, runs=3, warmup=1, env=env,
                 ignore_failure=True)
        out.append(row(f"`scan --history` ÷ `git cat-file --batch` of every reachable object, {label}", r, "≤ 3×"))
        rss = sh(["/usr/bin/time", "-f", "%M", a.bin, "systemprompt-secrets", "scan", "-q", "--history"], cwd=repo, env=env, check=False).stderr.split()[-1]
        out.append(f"| max RSS of `scan --history`, {label} | {int(rss) / 1024:.0f} MiB | | | | largest blob + a constant |")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("work")
    ap.add_argument("--template", required=True)
    ap.add_argument("--core", required=True)
    ap.add_argument("--bao", required=True)
    ap.add_argument("--secretspec", required=True)
    ap.add_argument("--jq", default=shutil.which("jq") or "jq")
    a = ap.parse_args()
    print("## Beside the peers (issue 27)\n")
    print(f"Each pair timed together by hyperfine, {REPS} repetitions; the ratio is the median of the three,")
    print("with their min–max, and the load average (1 min) while they ran.\n")
    only = os.environ.get("BENCH_ONLY", "validate,run,bao,scan,history").split(",")
    sections = [("validate", "`validate`", validate_section), ("run", "`run -- true` per key", run_section),
                ("bao", "OpenBao", bao_section),
                ("scan", "`scan` beside detect-secrets and trufflehog3 (working tree, no history)", scan_section),
                ("history", "`scan --history`", history_section)]
    for key, title, section in sections:
        if key in only:
            print(f"### {title}\n")
            print("\n".join(section(a, a.work)) + "\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
