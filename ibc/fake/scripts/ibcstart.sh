#!/bin/bash
# Fake IBC start script for tests: same arguments as IBC's scripts/ibcstart.sh,
# but instead of TWS/Gateway it runs traderctl's simulated TWS (no Java, no
# IB account). It needs only a python3 (override with TRADERCTL_PYTHON);
# traderctl does not have to be installed: the repo's supervisor/ dir is
# found relative to this script. See supervisor/traderctl/simulator/fake_ibc.py
# for the scenario format (FAKE_IBC_SCENARIO) and the exit codes.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../../.." && pwd)"
export PYTHONPATH="${repo}/supervisor${PYTHONPATH:+:${PYTHONPATH}}"
# exec: the python process replaces this shell, so SIGTERM reaches it
# directly and no child is left behind.
exec "${TRADERCTL_PYTHON:-python3}" "${here}/fake_ibc_boot.py" "$@"
