# Shared by bin/demo and bin/test (sourced, not run): find Python 3.12 or newer and keep
# .venv in step with requirements/dev.lock.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
VENV_PYTHON="$VENV/bin/python"
LOCK="$ROOT/requirements/dev.lock"
# The hash of the lock (and of the interpreter) that .venv was last installed from.
STAMP="$VENV/.dev-lock.sha256"

say() { printf '==> %s\n' "$*"; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

python_is_new_enough() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

# Prints the first Python >= 3.12 it finds. 3.12 comes before newer versions because the
# lock is compiled for it.
find_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        python_is_new_enough "$PYTHON" || die "PYTHON=$PYTHON is not Python 3.12 or newer."
        printf '%s\n' "$PYTHON"
        return
    fi
    local candidate found
    for candidate in python3.12 python3.13 python3.14 python3.15; do
        found="$(command -v "$candidate" 2>/dev/null)" || continue
        if python_is_new_enough "$found"; then
            printf '%s\n' "$found"
            return
        fi
    done
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    while IFS= read -r candidate; do
        if [[ -x "$candidate" ]] && python_is_new_enough "$candidate"; then
            printf '%s\n' "$candidate"
            return
        fi
    done < <(compgen -G "$pyenv_root/versions/3.1[2-9]*/bin/python" | sort -V)
    found="$(command -v python3 2>/dev/null)" || true
    if [[ -n "$found" ]] && python_is_new_enough "$found"; then
        printf '%s\n' "$found"
        return
    fi
    die "Python 3.12 or newer is needed and none was found.
  Looked at: \$PYTHON, python3.12 to python3.15 on PATH, $pyenv_root/versions/3.1[2-9]*,
  and python3 ($(python3 -V 2>&1 || echo 'not found')).
  Install Python 3.12 (for example 'pyenv install 3.12'), or point PYTHON at one:
    PYTHON=/path/to/python3.12 $0"
}

lock_fingerprint() {
    "$VENV_PYTHON" - "$LOCK" <<'PY'
import hashlib
import sys

digest = hashlib.sha256(open(sys.argv[1], "rb").read())
digest.update(sys.version.encode())
print(digest.hexdigest())
PY
}

# Creates .venv if it is missing or too old, and installs the lock into it unless the stamp
# says that exact lock is already installed.
ensure_venv() {
    [[ -f "$LOCK" ]] || die "$LOCK is missing; run this from a checkout of the project."
    if [[ -x "$VENV_PYTHON" ]] && python_is_new_enough "$VENV_PYTHON"; then
        :
    else
        local python
        python="$(find_python)"
        if [[ -e "$VENV" ]]; then
            say "Replacing .venv: its Python is missing or older than 3.12"
            rm -rf "$VENV"
        fi
        say "Creating .venv with $python ($("$python" -V 2>&1))"
        "$python" -m venv "$VENV" ||
            die "Could not create .venv with $python (on Debian, install python3-venv)."
    fi

    local wanted
    wanted="$(lock_fingerprint)"
    if [[ -f "$STAMP" && "$(<"$STAMP")" == "$wanted" ]]; then
        return
    fi
    say "Installing requirements/dev.lock into .venv (a minute or two the first time)"
    rm -f "$STAMP"
    "$VENV_PYTHON" -m pip install --quiet --disable-pip-version-check --require-hashes \
        -r "$LOCK" || die "Installing requirements/dev.lock failed; see pip's output above."
    printf '%s\n' "$wanted" >"$STAMP"
}

# Installs package-lock.json into node_modules (axe-core for the browser tests' accessibility
# checks) when node_modules is missing or the lock changed since the last install. Without
# npm it names what to install instead; the accessibility checks then cannot run.
NODE_LOCK="$ROOT/package-lock.json"
NODE_STAMP="$ROOT/node_modules/.package-lock.sha256"
ensure_node_modules() {
    [[ -f "$NODE_LOCK" ]] || return 0
    if ! command -v npm >/dev/null; then
        say "npm is missing: install Node.js and npm (Debian: apt-get install npm) for axe-core"
        return 0
    fi
    local wanted
    wanted="$(sha256sum "$NODE_LOCK" | cut -d' ' -f1)"
    if [[ -d "$ROOT/node_modules" && -f "$NODE_STAMP" && "$(<"$NODE_STAMP")" == "$wanted" ]]; then
        return
    fi
    say "Installing package-lock.json into node_modules"
    (cd "$ROOT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
        die "Installing package-lock.json failed; see npm's output above."
    printf '%s\n' "$wanted" >"$NODE_STAMP"
}

# Installs the Debian packages in requirements/apt.txt that are missing (PDF rendering
# libraries, Chromium for the browser tests). Needs root; otherwise it names what to install.
ensure_system_packages() {
    local list="$ROOT/requirements/apt.txt" missing=() package
    [[ -f "$list" ]] || return 0
    command -v dpkg-query >/dev/null || return 0
    while IFS= read -r package; do
        package="${package%%#*}"
        package="${package//[[:space:]]/}"
        [[ -n "$package" ]] || continue
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done <"$list"
    ((${#missing[@]})) || return 0
    if [[ "$(id -u)" != 0 ]]; then
        say "Missing system packages: ${missing[*]} (install them with: sudo apt-get install ${missing[*]})"
        return 0
    fi
    say "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || say "apt-get update failed; trying the install anyway"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        die "Could not install: ${missing[*]}"
}
