#!/usr/bin/env bash
# A small OpenID Connect provider for the sign-in tests: Django with django-oauth-toolkit
# (PyPI), which implements the device authorization grant (RFC 8628). Made once:
#   scripts/oidc-provider/setup.sh STATE
# makes STATE/.venv, a signing key (STATE/oidc.key, 0600, never committed) and a seeded
# database (STATE/seed.sqlite3) with the public client `proctor-review-console` and two
# people: ada@example.edu and zed@example.edu. Each test copies the database. (oauthlib 4
# answers the device authorization with a scope django-oauth-toolkit 3.4 cannot take.)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${1:?usage: $0 STATE}"
mkdir -p "$STATE"
if [ ! -x "$STATE/.venv/bin/python" ]; then
  python3 -m venv "$STATE/.venv"
  "$STATE/.venv/bin/pip" install --quiet --disable-pip-version-check \
    "django>=5.2,<6" "django-oauth-toolkit>=3.1,<4" "jwcrypto>=1.5" "oauthlib>=3.3,<4"
fi
if [ ! -f "$STATE/oidc.key" ]; then
  (umask 077 && "$STATE/.venv/bin/python" -c \
    'from jwcrypto import jwk; print(jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None).decode())' \
    > "$STATE/oidc.key.tmp" && mv "$STATE/oidc.key.tmp" "$STATE/oidc.key")
fi
if [ ! -f "$STATE/seed.sqlite3" ]; then
  cd "$HERE"
  OIDC_STATE="$STATE" OIDC_DB="$STATE/seed.sqlite3.tmp" OIDC_ISSUER="http://127.0.0.1/o" \
    "$STATE/.venv/bin/python" manage.py migrate --noinput >/dev/null
  OIDC_STATE="$STATE" OIDC_DB="$STATE/seed.sqlite3.tmp" OIDC_ISSUER="http://127.0.0.1/o" \
    "$STATE/.venv/bin/python" manage.py shell -c "$(cat "$HERE/seed.py")"
  mv "$STATE/seed.sqlite3.tmp" "$STATE/seed.sqlite3"
fi
