#!/usr/bin/env bash
# Entry point of `make e2e`: installs a single-node SLURM from Debian when it is missing, then
# runs the end-to-end tests, which start their own private cluster (tests/e2e/cluster.py).
# Usage: bash tests/e2e/run.sh PYTHON   (PYTHON: the venv's python with the e2e extras)
set -euo pipefail

PYTHON=${1:?usage: bash tests/e2e/run.sh PYTHON}
cd "$(dirname "$0")/../.."

SLURM_PACKAGES=(slurmctld slurmd slurm-client munge)

# Seconds since $1 (a value of $SECONDS), for the phase timings printed at the end.
since() { echo "$((SECONDS - $1)) s"; }

install_slurm() {
    if command -v slurmctld >/dev/null; then
        echo "e2e: SLURM already installed"
        return
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "e2e: installing ${SLURM_PACKAGES[*]} needs root" >&2
        exit 1
    fi
    echo "e2e: installing ${SLURM_PACKAGES[*]}"
    apt-get update -qq
    # The packages' own services are not used: the tests start private daemons.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${SLURM_PACKAGES[@]}" >/dev/null
}

start=$SECONDS
install_slurm
install_time=$(since "$start")

# The cluster starts inside the tests (a session fixture); pytest prints its start-up time
# in the "e2e timings" section of its summary.
start=$SECONDS
status=0
"$PYTHON" -m pytest -m e2e tests/e2e || status=$?
tests_time=$(since "$start")

echo "e2e: install ${install_time}, tests (cluster start included) ${tests_time}"
exit "$status"
