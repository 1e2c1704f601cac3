#!/usr/bin/env bash
# Installs each peer trainer that benchmarks/peers/peers.py times into its own venv,
# benchmarks/peers/.venvs/<peer>, sharing the main venv's torch and torchvision.
#
#     bash benchmarks/peers/setup.sh            # all peers (skips a venv whose stamp matches)
#     bash benchmarks/peers/setup.sh lightning  # some of them
#
# How the venvs share torch: a venv made from .venv/bin/python is a venv of the *base* interpreter
# (--system-site-packages would expose the base interpreter's site-packages, not .venv's), so each
# peer venv gets a .pth file whose line `import site; site.addsitedir(<.venv site-packages>)` appends
# the main venv's site-packages (and runs its .pth files: the editable ganzoo) after the peer
# venv's own. Packages the peer installs therefore shadow the main venv's; nothing is written into
# the main venv. pip sees the shared torch as installed, and two constraint files keep it (and every
# other package the main venv already has) at the main venv's exact versions: constraints.txt and a
# `pip freeze` of the main venv. No torch wheel is ever downloaded.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
MAIN_PY="${MAIN_PY:-$REPO/.venv/bin/python}"
VENVS="$HERE/.venvs"

# peer -> pip arguments. torch-mimicry is installed without its declared dependencies (they include
# tensorflow, pytest, yapf, lmdb...): only what its package imports at import time is added, and
# tensorflow and torch._six, which cannot exist on this torch, are stubbed by benchmarks/peers/shims.py.
declare -A SPECS=(
  [lightning]="pytorch-lightning==2.6.6"
  [torchgan]="torchgan==0.1.0"
  [mimicry]="--no-deps torch-mimicry==0.1.16"
)
declare -A EXTRAS=(
  [lightning]=""
  [torchgan]=""
  [mimicry]="six tensorboard scikit-learn scikit-image"
)

if [ ! -x "$MAIN_PY" ]; then
  echo "no main venv at $MAIN_PY: run 'make setup' first" >&2
  exit 1
fi
MAIN_SITE="$("$MAIN_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
mkdir -p "$VENVS"
# Pin everything the main venv has (torch included) at its installed version.
"$MAIN_PY" -m pip freeze --exclude-editable | grep -E '^[A-Za-z0-9_.-]+==' > "$VENVS/main-freeze.txt"

peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(lightning torchgan mimicry)

for peer in "${peers[@]}"; do
  if [ -z "${SPECS[$peer]+x}" ]; then
    echo "unknown peer $peer (choose from ${!SPECS[*]})" >&2
    exit 2
  fi
  venv="$VENVS/$peer"
  stamp="$venv/.peer-spec"
  want="${SPECS[$peer]} | ${EXTRAS[$peer]} | $MAIN_SITE"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    echo "$peer: up to date ($venv)"
    continue
  fi
  echo "$peer: creating $venv"
  rm -rf "$venv"
  "$MAIN_PY" -m venv "$venv"
  py="$venv/bin/python"
  site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "import site; site.addsitedir('$MAIN_SITE')" > "$site/zz_ganzoo_main_venv.pth"
  pip_install=("$py" -m pip install -q --disable-pip-version-check -c "$REPO/constraints.txt" -c "$VENVS/main-freeze.txt")
  if [ "$peer" = mimicry ]; then
    echo "  (pip will list torch-mimicry's declared dependencies as missing: tensorflow, pytest, yapf... are left out on purpose)"
  fi
  # shellcheck disable=SC2086  # the specs are word lists on purpose
  "${pip_install[@]}" ${SPECS[$peer]}
  if [ -n "${EXTRAS[$peer]}" ]; then
    # shellcheck disable=SC2086
    "${pip_install[@]}" ${EXTRAS[$peer]}
  fi
  # The shared torch must still be the main venv's.
  "$py" - "$MAIN_SITE" <<'EOF'
import sys, torch
assert torch.__file__.startswith(sys.argv[1]), f"torch resolves to {torch.__file__}, not the main venv's"
print(f"  torch {torch.__version__} from the main venv")
EOF
  # What this venv holds beyond the main venv, for results.json.
  "$py" -m pip freeze --path "$site" > "$venv/peer-freeze.txt"
  echo "$want" > "$stamp"
  echo "  installed: $(tr '\n' ' ' < "$venv/peer-freeze.txt")"
done
