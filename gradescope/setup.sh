#!/usr/bin/env bash
# vae-kit on Gradescope: run once, as root, when Gradescope builds the autograder image (Ubuntu 22.04,
# Python 3.10). It installs a CPU-only torch and the pinned requirements into a virtual environment, and
# puts MNIST into the image, so that grading needs no network.
#
#   bash setup.sh                 every step: system venv packages data permissions check
#   bash setup.sh data check      only these steps
#
# Overrides (the kit's tests use them; Gradescope needs none):
#   AUTOGRADER_ROOT   Gradescope's folder                          (default /autograder)
#   AUTOGRADER_VENV   the virtual environment                      (default $AUTOGRADER_ROOT/venv)
#   MNIST_ROOT        where MNIST/raw/ goes                         (default $AUTOGRADER_ROOT/data)
#   MNIST_MIRRORS     space-separated base URLs of the MNIST files  (default vae_utils.MNIST_MIRRORS)
#   TORCH_INDEX_URL   where the CPU build of torch comes from       (default PyTorch's CPU index)
#   PYPI_INDEX_URL    where everything else comes from              (default PyPI)
#   PYTHON            the Python that creates the venv              (default python3)
#   PIP               the pip command of the venv                   (default "$AUTOGRADER_VENV/bin/python -m pip")
set -euo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
VENV="${AUTOGRADER_VENV:-$ROOT/venv}"
DATA="${MNIST_ROOT:-$ROOT/data}"
TORCH_INDEX_URL="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
PYPI_INDEX_URL="${PYPI_INDEX_URL:-https://pypi.org/simple}"
REQUIREMENTS="$SOURCE/requirements-gradescope.txt"
read -r -a PIP_COMMAND <<< "${PIP:-$VENV/bin/python -m pip}"
ALL_STEPS=(system venv packages data permissions check)

log() { printf '\n=== setup.sh: %s\n' "$*"; }

step_system() {
    log "system packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates
}

step_venv() {
    log "virtual environment in $VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
    "$VENV/bin/python" -c 'import sys; print(sys.version)'
}

step_packages() {
    local torch_pin others
    # Ubuntu 22.04's pip (22.0.2) and setuptools are too old for torch's dependencies (setuptools>=77 among
    # them): upgrade both from PyPI first.
    log "pip and setuptools, from $PYPI_INDEX_URL"
    "${PIP_COMMAND[@]}" install --no-cache-dir --upgrade --index-url "$PYPI_INDEX_URL" pip setuptools
    # The "+cpu" local version exists only on PyTorch's CPU index, so it wins; PyPI stays an extra index
    # for torch's own dependencies, which the CPU index may not carry.
    torch_pin="$(grep -E '^torch==' "$REQUIREMENTS")+cpu"
    log "$torch_pin (CPU build, from $TORCH_INDEX_URL; its dependencies also from $PYPI_INDEX_URL)"
    "${PIP_COMMAND[@]}" install --no-cache-dir --index-url "$TORCH_INDEX_URL" --extra-index-url "$PYPI_INDEX_URL" \
        "$torch_pin"
    # The rest without the torch line, so that nothing can swap the CPU build for PyPI's CUDA one.
    others="$(mktemp)"
    grep -v -E '^torch==' "$REQUIREMENTS" > "$others"
    log "the other requirements"
    "${PIP_COMMAND[@]}" install --no-cache-dir --index-url "$PYPI_INDEX_URL" -r "$others"
    rm -f "$others"
}

step_data() {
    log "MNIST into $DATA/MNIST/raw (md5-checked)"
    MNIST_ROOT="$DATA" "$VENV/bin/python" - "$SOURCE" <<'PYTHON'
import os
import sys

sys.path.insert(0, sys.argv[1])
import vae_utils

mirrors = os.environ.get("MNIST_MIRRORS", "").split() or vae_utils.MNIST_MIRRORS
print(vae_utils.download_mnist(os.environ["MNIST_ROOT"], mirrors=mirrors, progress=False))
PYTHON
}

step_check() {
    log "check: imports, CPU torch, MNIST readable offline"
    MNIST_ROOT="$DATA" "$VENV/bin/python" - "$SOURCE" "$REQUIREMENTS" <<'PYTHON'
import sys

sys.path.insert(0, sys.argv[1])
import matplotlib, nbformat, numpy, pytest, torch, tqdm  # noqa: E401,F401 - what grading imports
import vae_utils

pin = next(line.split("==")[1].strip() for line in open(sys.argv[2]) if line.startswith("torch=="))
assert torch.__version__.split("+")[0] == pin, f"torch {torch.__version__} is not the pinned {pin}"
assert torch.version.cuda is None, f"torch {torch.__version__} is a CUDA build; the CPU build is wanted"
for train in (True, False):
    images, labels = vae_utils.load_mnist_arrays(train=train, download=False)
    print(f"MNIST {'train' if train else 'test'}: {images.shape}")
print(f"torch {torch.__version__}, numpy {numpy.__version__}, Python {sys.version.split()[0]}: ready")
PYTHON
}

step_permissions() {
    # Student code runs as unprivileged sandbox uids (autograder/processes/isolation.py). Where the container
    # lacks CAP_SYS_ADMIN there are no mount namespaces to hide the kit, so file modes must: the kit is
    # root-only, while the interpreter, the venv and MNIST stay readable by every uid.
    log "permissions: $SOURCE root-only; $VENV and $DATA readable by the sandbox"
    chmod -R go-rwx "$SOURCE"
    chmod -R a+rX "$VENV" "$DATA"
    chmod a+x "$ROOT"
}

main() {
    local step
    if (($# == 0)); then
        set -- "${ALL_STEPS[@]}"
    fi
    for step in "$@"; do
        if [[ " ${ALL_STEPS[*]} " != *" $step "* ]]; then
            echo "setup.sh: unknown step '$step' (steps: ${ALL_STEPS[*]})" >&2
            return 2
        fi
    done
    for step in "$@"; do
        "step_$step"
    done
}

main "$@"
