#!/usr/bin/env bash
# Whole-process benchmarks: `validate` on the example project against `cargo metadata --no-deps`
# and `env true`, with hyperfine; plus the criterion in-process benchmarks. Rewrites BENCHMARKS.md.
# Usage: scripts/bench.sh            (needs hyperfine: `apt-get install hyperfine`)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "error: hyperfine is not installed (apt-get install hyperfine)" >&2; exit 2; }

cargo build --release --quiet
bin="$PWD/target/release/cargo-systemprompt-secrets"
demo="$PWD/examples/demo/Cargo.toml"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

hyperfine --style none --warmup 5 --runs 60 -N --export-json "$out/process.json" \
  -n "env true" "env true" \
  -n "cargo metadata --no-deps" "cargo metadata --no-deps --format-version 1 --manifest-path $demo" \
  -n "validate (demo)" "$bin validate -q --keyring none --manifest-path $demo" \
  -n "validate (demo, keyutils cache layer)" "$bin validate -q --keyring keyutils --manifest-path $demo" >/dev/null

cargo bench --quiet --bench load_validate -- --warm-up-time 1 --measurement-time 5 >/dev/null 2>&1
cargo bench --quiet --bench cloud -- --warm-up-time 1 --measurement-time 5 >/dev/null 2>&1

python3 - "$out/process.json" > BENCHMARKS.md <<'PY'
import json, os, platform, subprocess, sys
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] for k, v in runs.items()}
def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
def mem():
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        return "unknown"
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
print("# Benchmarks\n")
print("Written by `scripts/bench.sh`; rerun it to refresh. Ratios matter more than absolute times.\n")
print("## Machine\n")
print(f"- CPU: {cpu()} ({os.cpu_count()} cores)\n- Memory: {mem()}\n- OS: {platform.system()} {platform.release()}\n- Toolchain: {rustc}\n")
print("## Whole process (hyperfine, 60 runs after 5 warm-ups, no shell)\n")
base = med["env true"]
meta = med["cargo metadata --no-deps"]
print("| command | median | vs `env true` | vs `cargo metadata --no-deps` |\n|---|---|---|---|")
for name in ["env true", "cargo metadata --no-deps", "validate (demo)", "validate (demo, keyutils cache layer)"]:
    m = med[name]
    print(f"| `{name}` | {m * 1000:.2f} ms | {m / base:.1f}× | {m / meta:.2f}× |")
print("\n`validate` runs `cargo metadata --no-deps` itself, so most of its time is that call; the")
print(f"tool's own work (load, validate, print) is the difference: about {(med['validate (demo)'] - meta) * 1000:.2f} ms.\n")
print("## In process (criterion, `cargo bench --bench load_validate`)\n")
print("Load and validate one profile of N keys (secrets.json parse, layering with the real process environment, all rules).\n")
print("| keys | median | target |\n|---|---|---|")
for n in ["10", "1000", "10000"]:
    p = f"target/criterion/load_validate/{n}/new/estimates.json"
    est = json.load(open(p))["median"]["point_estimate"] / 1e6
    target = "< 20 ms" if n == "10000" else ""
    print(f"| {int(n):,} | {est:.3f} ms | {target} |")
def crit(group, name):
    return json.load(open(f"target/criterion/{group}/{name}/new/estimates.json"))["median"]["point_estimate"] / 1e6
print("\n## Cloud client (criterion, `cargo bench --bench cloud`, contract server on loopback)\n")
sync = crit("cloud", "sync_10000_keys")
unset = crit("cloud", "unset_100_keys_20ms_latency")
ideal = 100 / 8 * 20
print("| case | requests | median | target |\n|---|---|---|---|")
print(f"| `sync` of 10,000 keys | 1 GET + 1 PUT (asserted) | {sync:.1f} ms | one PUT whatever the key count |")
print(f"| `unset` of 100 keys, 20 ms server latency | 100 DELETE, 8 in flight | {unset:.0f} ms = {unset / ideal:.2f}× the ideal (100 / 8) × 20 ms = {ideal:.0f} ms | ≤ 1.5× |")
PY
echo "wrote BENCHMARKS.md"
