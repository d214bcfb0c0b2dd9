#!/usr/bin/env bash
# Entry point of `make e2e`: installs a single-node SLURM from Debian when it is missing, then
# runs the end-to-end tests, which start their own private cluster (tests/e2e/cluster.py).
# Usage: bash tests/e2e/run.sh PYTHON   (PYTHON: the venv's python with the e2e extras)
set -euo pipefail

PYTHON=${1:?usage: bash tests/e2e/run.sh PYTHON}
cd "$(dirname "$0")/../.."

# slurmdbd and mariadb-server: the tests run with accounting (sacct, QOS job limits).
SLURM_PACKAGES=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)
# The daemons live in /usr/sbin, which a non-login root shell's PATH may lack; the tests skip
# when they cannot find them.
export PATH="/usr/sbin:/sbin:$PATH"

# Seconds since $1 (a value of $SECONDS), for the phase timings printed at the end.
since() { echo "$((SECONDS - $1)) s"; }

# True when every package is fully installed (dpkg also lists removed, unconfigured ones).
slurm_installed() {
    local status
    status=$(dpkg-query --show --showformat='${Status}\n' "${SLURM_PACKAGES[@]}" 2>/dev/null) ||
        return 1
    ! grep -qv '^install ok installed$' <<<"$status"
}

install_slurm() {
    if slurm_installed; then
        echo "e2e: SLURM already installed"
        return
    fi
    if [[ $(id -u) -ne 0 ]]; then
        echo "e2e: installing ${SLURM_PACKAGES[*]} needs root" >&2
        exit 1
    fi
    echo "e2e: installing ${SLURM_PACKAGES[*]}"
    apt-get update -qq
    # The packages' own services are not used (nor started, without systemd): the tests
    # start private daemons.
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
# Here a missing requirement fails the tests instead of skipping them.
E2E_REQUIRED=1 "$PYTHON" -m pytest -m e2e tests/e2e || status=$?
tests_time=$(since "$start")

echo "e2e: install ${install_time}, tests (cluster start included) ${tests_time}"
exit "$status"
