#!/usr/bin/env bash
# Runs the test OpenID Connect provider in the foreground on 127.0.0.1:PORT over DB (a copy
# of the seeded one):  scripts/oidc-provider/serve.sh STATE PORT DB
# Issuer: http://127.0.0.1:PORT/o (discovery at /o/.well-known/openid-configuration).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${1:?usage: $0 STATE PORT DB}"; PORT="${2:?}"; DB="${3:?}"
cd "$HERE"
export OIDC_STATE="$STATE" OIDC_DB="$DB" OIDC_ISSUER="http://127.0.0.1:$PORT/o"
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
exec "$STATE/.venv/bin/python" manage.py runserver --noreload --nothreading 127.0.0.1:"$PORT"
