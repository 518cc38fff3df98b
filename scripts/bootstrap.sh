#!/usr/bin/env bash
# Set up qgen on Debian: TeX (for PDFs) through apt, and a .venv with qgen installed editable.
# Usage: bash scripts/bootstrap.sh [--test]
#   --test   also install poppler-utils (pdftotext/pdftoppm), Chromium with its driver (the browser
#            test of report.html) and the test extras (pytest, selenium, ...)
# Safe to run again: it only installs what is missing.
set -euo pipefail

usage() { echo "usage: bash scripts/bootstrap.sh [--test]" >&2; }

TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) TEST=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage; echo "bootstrap: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { echo "bootstrap: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }

# lmodern is only a Recommends of texlive-base, so it is named here because of
# --no-install-recommends (which keeps a JRE, ruby and tk out of the install).
TEX_PKGS=(texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures latexmk lmodern)
# Names in any script (Chinese, Hebrew, Vietnamese, emoji ...): LuaLaTeX with fontspec and the
# Noto fonts, used only for an exam set with text pdflatex cannot print (qgen.render.scripts).
# About 101 MB to download, 189 MB installed (apt-get, Debian 12, with the TeX packages above).
UNICODE_PKGS=(texlive-luatex fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji)
UNICODE_FONTS=(/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
               /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf)
TEST_PKGS=(poppler-utils)
BROWSER_PKGS=(chromium chromium-driver)

APT_UPDATED=0
# apt_install PKG...: install Debian packages as root or through sudo; fail (return 1) when neither.
apt_install() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if have sudo; then sudo=(sudo); else return 1; fi
    fi
    have apt-get || return 1
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        "${sudo[@]}" apt-get update -qq
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- TeX (and poppler for the tests) -------------------------------------------------------
have_unicode_tex() {
    local font
    have lualatex && have kpsewhich && [ -n "$(kpsewhich luaotfload.sty)" ] || return 1
    for font in "${UNICODE_FONTS[@]}"; do [ -f "$font" ] || return 1; done
}
pkgs=()
if ! have pdflatex || ! have latexmk; then pkgs+=("${TEX_PKGS[@]}" "${UNICODE_PKGS[@]}");
elif ! have_unicode_tex; then pkgs+=("${UNICODE_PKGS[@]}"); fi
if [ "$TEST" -eq 1 ] && { ! have pdftotext || ! have pdftoppm; }; then pkgs+=("${TEST_PKGS[@]}"); fi
TEX_NOTE="PDFs"
if [ "${#pkgs[@]}" -gt 0 ]; then
    if ! apt_install "${pkgs[@]}"; then
        echo "bootstrap: cannot install Debian packages here (not root, no sudo, or no apt-get)." >&2
        echo "bootstrap: ask an administrator for: apt-get install ${pkgs[*]}" >&2
        echo "bootstrap: until then use 'qgen generate --no-pdf' to write .tex files only." >&2
    fi
fi
if ! have pdflatex || ! have latexmk; then TEX_NOTE="no PDFs (TeX missing: use --no-pdf)";
elif ! have_unicode_tex; then TEX_NOTE="PDFs; names beyond Latin need: apt-get install ${UNICODE_PKGS[*]}"; fi

# --- Chromium (--test): tests/test_grade_report.py opens report.html in it through selenium --
if [ "$TEST" -eq 1 ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
    if ! apt_install "${BROWSER_PKGS[@]}"; then
        echo "bootstrap: cannot install Debian packages here (not root, no sudo, or no apt-get)." >&2
        echo "bootstrap: ask an administrator for: apt-get install ${BROWSER_PKGS[*]}" >&2
        echo "bootstrap: until then the headless-browser test of report.html is skipped." >&2
    fi
fi

# --- Python 3.11+ and a virtual environment --------------------------------------------------
find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if have "$candidate" && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

PY="$(find_python || true)"
if [ -z "$PY" ]; then
    apt_install python3 python3-venv || true
    PY="$(find_python || true)"
fi
if [ -z "$PY" ]; then
    echo "bootstrap: qgen needs Python 3.11 or newer (python3.11 or python3 on PATH)." >&2
    exit 1
fi

VENV="$ROOT/.venv"
if [ -d "$VENV" ] && { [ ! -x "$VENV/bin/pip" ] ||
    ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }; then
    say "replacing a broken or too old .venv"
    rm -rf "$VENV"
fi
if [ ! -d "$VENV" ]; then
    # Debian's python3 ships venv without ensurepip until python3-venv is installed.
    if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
        apt_install python3-venv || {
            echo "bootstrap: '$PY -m venv' needs the Debian package python3-venv; install it and rerun." >&2
            exit 1
        }
    fi
    say "creating .venv with $("$PY" --version)"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
fi

# Reinstall only when pyproject.toml changed or more extras are asked for than last time.
STAMP="$VENV/.qgen-bootstrap"
SPEC="."
[ "$TEST" -eq 1 ] && SPEC=".[test]"
HASH="$("$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' pyproject.toml)"
installed_ok() {
    [ -f "$STAMP" ] || return 1
    local stamp_hash stamp_test
    read -r stamp_hash stamp_test <"$STAMP" || return 1
    [ "$stamp_hash" = "$HASH" ] && [ "$stamp_test" -ge "$TEST" ] && [ -x "$VENV/bin/qgen" ]
}
if installed_ok; then
    say "qgen already installed in .venv"
else
    say "pip install -e '$SPEC'"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$SPEC"
    echo "$HASH $TEST" >"$STAMP"
fi

if [ "$TEST" -eq 1 ]; then
    echo "bootstrap: ready: .venv/bin/qgen with test extras ($TEX_NOTE); run .venv/bin/python -m pytest"
else
    echo "bootstrap: ready: .venv/bin/qgen ($TEX_NOTE)"
fi
