#!/usr/bin/env bash
# Makes the one Python virtual environment the integration tests use (`.venv` at the repo's
# root): the real Chaos Toolkit (with its Kubernetes and AWS extensions), botocore's service
# models and the OpenTelemetry SDK, at the versions pinned in python-requirements.txt.
#
#   scripts/python-env.sh            create or refresh .venv (a no-op when it is up to date)
#   scripts/python-env.sh --freeze   re-resolve python-requirements.in and rewrite the pins
#
# The Rust tests find it at $BLASTRADIUS_PYENV or ./.venv; without it they skip with a message,
# except under CI=true, where a missing environment is a failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${BLASTRADIUS_PYENV:-$root/.venv}"
pins="$root/scripts/python-requirements.txt"
python="${PYTHON:-python3}"

if [[ "${1:-}" == "--freeze" ]]; then
    scratch="$(mktemp -d)"
    "$python" -m venv "$scratch"
    "$scratch/bin/pip" install --quiet --disable-pip-version-check -r "$root/scripts/python-requirements.in"
    { echo "# Pinned by scripts/python-env.sh --freeze from python-requirements.in; installed into .venv by scripts/python-env.sh."
      "$scratch/bin/pip" freeze --exclude-editable; } > "$pins"
    rm -rf "$scratch"
    echo "rewrote $pins" >&2
    exit 0
fi

# The stamp covers the pins and every file of the packages shipped here, so a change to either
# reinstalls.
fingerprint() {
    cat "$pins"
    if [[ -d "$root/integrations" ]]; then
        find "$root/integrations" -type f -not -path "*/build/*" -not -path "*.egg-info/*" \( -name '*.py' -o -name '*.toml' \) -print0 \
            | sort -z | xargs -0 -r cat
    fi
}
stamp="$venv/.requirements.sha256"
want="$(fingerprint | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi
echo "python-env: installing the pinned clients into $venv" >&2
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$pins"
# Packages shipped in this repository (the Chaos Toolkit control, ...), installed from source.
shopt -s nullglob
for package in "$root"/integrations/*/; do
    if [[ -f "$package/pyproject.toml" ]]; then
        "$venv/bin/pip" install --quiet --disable-pip-version-check "$package"
    fi
done
echo "$want" > "$stamp"
