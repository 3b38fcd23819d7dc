#!/usr/bin/env python3
"""Writes tests/fixtures/upstream/corpus.json: the secrets.json files both sides judge.

Every value is made up and fixed, so the corpus (and the goldens) never change by chance.
Run by scripts/interop.sh; the cases a tool writes itself (`init`) are added there.
"""
import base64, hashlib, json, sys

def det(label, n):
    """n fixed pseudo-random bytes for a label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}:{i}".encode()).digest()
        i += 1
    return out[:n]

def alnum(label, n):
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(chars[b % 62] for b in det(label, n))

PEPPER = alnum("pepper", 64)
SEED = base64.b64encode(det("seed", 32)).decode()
MASTER = det("master", 32).hex()
PEM = "-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(det("pem", 96)).decode() + "\n-----END PRIVATE KEY-----\n"
PEM_B64 = base64.b64encode(PEM.encode()).decode()
DB = "postgres://app:Fixture" + alnum("dbpw", 12) + "@localhost:5432/app"
ANT = "sk-ant-api03-" + "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"[b % 64] for b in det("ant", 93)) + "AA"
OAI = "sk-proj-" + alnum("oai1", 20) + "T3BlbkFJ" + alnum("oai2", 20)
GEM = "AIza" + alnum("gem", 35)
GH = "ghp_" + alnum("gh", 36)
LIC = alnum("licence", 48)

FULL = {"oauth_at_rest_pepper": PEPPER, "encryption_master_key": MASTER,
        "manifest_signing_secret_seed": SEED, "database_url": DB, "anthropic": ANT}

cases = []
def case(name, secrets, cloud=False, multi_tenant=False):
    text = secrets if isinstance(secrets, str) else json.dumps(secrets, indent=2) + "\n"
    cases.append({"name": name, "secrets": text, "cloud": cloud, "multi_tenant": multi_tenant})

def full(**changes):
    d = dict(FULL)
    for k, v in changes.items():
        if v is None and k.startswith("drop_"):
            d.pop(k[5:], None)
        else:
            d[k] = v
    return d

def without(*keys):
    return {k: v for k, v in FULL.items() if k not in keys}

# What 0.34's admin setup wrote, and what 0.77 needs.
case("setup-0.34", {"oauth_at_rest_pepper": PEPPER, "database_url": DB, "anthropic": ANT})
case("full", FULL)
case("full-cloud-with-signing-key", full(signing_key_pem=PEM_B64), cloud=True)
case("full-cloud-without-signing-key", FULL, cloud=True)
case("full-multi-tenant-without-licence", FULL, multi_tenant=True)
case("full-multi-tenant-with-licence", full(licence_signing_secret=LIC), multi_tenant=True)
case("licence-secret-without-multi-tenant", full(licence_signing_secret=LIC))
case("empty-object", {})
case("no-provider-key", without("anthropic"))
# The pepper.
case("pepper-31-bytes", full(oauth_at_rest_pepper=PEPPER[:31]))
case("pepper-32-bytes", full(oauth_at_rest_pepper=PEPPER[:32]))
case("pepper-16-chars-32-bytes", full(oauth_at_rest_pepper="é" * 16))
case("pepper-null", full(oauth_at_rest_pepper=None))
case("pepper-blank", full(oauth_at_rest_pepper=""))
case("pepper-whitespace-only", full(oauth_at_rest_pepper="    "))
case("pepper-surrounding-spaces", full(oauth_at_rest_pepper="  " + PEPPER[:40] + "  "))
case("pepper-number", '{\n  "oauth_at_rest_pepper": 12345678901234567890123456789012345,\n  "database_url": "%s"\n}\n' % DB)
case("pepper-upper-case-key", {("OAUTH_AT_REST_PEPPER" if k == "oauth_at_rest_pepper" else k): v for k, v in FULL.items()})
case("pepper-missing", without("oauth_at_rest_pepper"))
case("jwt-secret-only", {"jwt_secret": PEPPER, "database_url": DB, "anthropic": ANT})
case("jwt-secret-beside-pepper", full(jwt_secret=alnum("jwt", 48)))
# database URLs.
case("database-url-missing", without("database_url"))
case("database-url-blank", full(database_url=""))
case("database-url-whitespace-only", full(database_url="  "))
case("database-url-mysql", full(database_url="mysql://app:pw@localhost:3306/app"))
case("database-url-postgresql-scheme", full(database_url=DB.replace("postgres://", "postgresql://")))
case("database-url-no-database-name", full(database_url="postgres://app:pw@localhost:5432"))
case("database-url-socket-no-host", full(database_url="postgres:///app"))
case("database-url-upper-case-key", {("DATABASE_URL" if k == "database_url" else k): v for k, v in FULL.items()})
case("database-write-url-mysql", full(database_write_url="mysql://app:pw@db:3306/app"))
case("database-write-url-ok", full(database_write_url=DB.replace("localhost", "primary")))
case("database-session-url-mysql", full(database_session_url="mysql://app:pw@db:3306/app"))
case("database-session-url-ok", full(database_session_url=DB.replace("localhost", "pooler")))
case("external-database-url-mysql", full(external_database_url="mysql://app:pw@db:3306/app"))
case("internal-database-url", full(internal_database_url=DB.replace("localhost", "internal")))
# The seed.
case("seed-missing", without("manifest_signing_secret_seed"))
case("seed-not-base64", full(manifest_signing_secret_seed="not base64 at all!"))
case("seed-16-bytes", full(manifest_signing_secret_seed=base64.b64encode(det("seed16", 16)).decode()))
case("seed-surrounding-spaces", full(manifest_signing_secret_seed="  " + SEED + " "))
URL_SAFE = base64.urlsafe_b64encode(det("seedurl", 32)).decode()
assert "-" in URL_SAFE or "_" in URL_SAFE
case("seed-url-safe", full(manifest_signing_secret_seed=URL_SAFE))
case("seed-unpadded", full(manifest_signing_secret_seed=SEED.rstrip("=")))
case("seed-missing-master-key-missing", without("manifest_signing_secret_seed", "encryption_master_key"))
# The master key.
case("master-key-missing", without("encryption_master_key"))
case("master-key-upper-case-hex", full(encryption_master_key=MASTER.upper()))
case("master-key-31-bytes", full(encryption_master_key=MASTER[:62]))
case("master-key-not-hex", full(encryption_master_key="z" * 64))
case("master-key-surrounding-spaces", full(encryption_master_key=" " + MASTER + "  "))
case("master-key-upper-case-key", {("ENCRYPTION_MASTER_KEY" if k == "encryption_master_key" else k): v for k, v in FULL.items()})
case("master-key-base64", full(encryption_master_key=base64.b64encode(det("master", 32)).decode()))
# The signing key.
case("signing-key-raw-pem", full(signing_key_pem=PEM))
case("signing-key-not-base64", full(signing_key_pem="%%%"), cloud=True)
# File syntax.
case("bom", "\ufeff" + json.dumps(FULL, indent=2) + "\n")
case("crlf", json.dumps(FULL, indent=2).replace("\n", "\r\n") + "\r\n")
dup_last_good = json.dumps(FULL, indent=2)[:-2] + ',\n  "oauth_at_rest_pepper": "short"\n}\n'
case("duplicate-key-last-short", dup_last_good)
dup_first_short = '{\n  "oauth_at_rest_pepper": "short",' + json.dumps(FULL, indent=2)[1:] + "\n"
case("duplicate-key-first-short", dup_first_short)
case("top-level-array", "[]\n")
case("top-level-null", "null\n")
case("trailing-comma", json.dumps(FULL, indent=2)[:-2] + ",\n}\n")
case("custom-number-value", json.dumps(FULL, indent=2)[:-2] + ',\n  "retries": 3\n}\n')
case("custom-object-value", json.dumps(FULL, indent=2)[:-2] + ',\n  "nested": {"a": "b"}\n}\n')
case("custom-null-value", json.dumps(FULL, indent=2)[:-2] + ',\n  "stripe_key": null\n}\n')
# Providers and custom keys: what deploy pushes.
case("all-providers", full(openai=OAI, gemini=GEM, github=GH, moonshot=alnum("moon", 40), qwen=alnum("qwen", 40)))
case("provider-whitespace-only", full(openai="   "))
case("provider-blank", full(openai=""))
case("provider-placeholder", full(anthropic="sk-ant-..."))
case("provider-wrong-prefix", full(anthropic=OAI))
case("provider-key-surrounding-spaces", full(anthropic=" " + ANT))
case("custom-keys", full(stripe_webhook_secret=alnum("stripe", 32), moltbook_builder="moltbook_sk_" + alnum("molt", 32)))
case("custom-mixed-case-key", full(My_Custom_Key=alnum("mixed", 32)))
case("provider-mixed-case-key", {("Anthropic" if k == "anthropic" else k): v for k, v in FULL.items()})
case("custom-env-style-key", full(SENTRY_DSN="https://" + alnum("sentry", 32) + "@o1.ingest.sentry.io/1"))
case("system-managed-names", full(FLY_APP_NAME="app", SYSTEMPROMPT_DEPLOYMENT_HOST="host-1", POD_NAME="pod-1"))
case("deploy-owned-names", full(SYSTEMPROMPT_PROFILE="prod", systemprompt_api_url="https://api.example.test"))

# The files the tool's own `init` wrote (scripts/interop.sh), database_url filled in: each must load.
import glob, os
here = os.path.dirname(os.path.abspath(__file__))
for path in sorted(glob.glob(os.path.join(here, "..", "tests", "fixtures", "upstream", "init-*.json"))):
    version = os.path.basename(path)[len("init-"):-len(".json")]
    case("init-" + version, open(path).read())

json.dump({"about": "secrets.json files judged by upstream (interop/) and by the tool (tests/upstream.rs); values are made up",
           "cases": cases}, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
