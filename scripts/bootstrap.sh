# Sourced by the other scripts: make .venv and install the project into it, once.
# Re-installs only when pyproject.toml changes, so repeated runs start at once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
VENV="$ROOT/.venv"
STAMP="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
    echo "Installing into $VENV (first run takes a minute or two)..." >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet -e ".[test]" >&2
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi

# The API docs pages' browser assets (Scalar, Swagger UI), pinned in package-lock.json and
# served by the service itself: `npm ci` again only when the lock changes. Install scripts
# are not run: the bundles are prebuilt, and one dependency's only script is a telemetry
# ping.
NODE_STAMP="$ROOT/node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$NODE_STAMP" ]; then
    if command -v npm >/dev/null; then
        echo "Installing the docs pages' assets into node_modules (npm ci)..." >&2
        npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
        touch "$NODE_STAMP"
    else
        echo "npm not found: /schema and /schema/swagger will be blank until" \
            "'npm ci' has run (Debian: apt-get install npm)" >&2
    fi
fi
