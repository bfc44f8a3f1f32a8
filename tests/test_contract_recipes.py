"""The contract testing page's recipes, run as written: the local all-four-parts shell recipe
(a snapshot of one standalone emulator, a second seeded from it, diff, the contract suite by
environment variables) and the strategies example (run downstream by tests/test_strategies.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.docs import assert_on_page
from tests.test_strategies import DOC_PROPERTY_TEST

REPOSITORY = Path(__file__).resolve().parent.parent
DOC_CONTRACT_RECIPE = """\
# contract testing, locally: B stands in for production; A is an emulator made from B's snapshot
set -e; w=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$w"' EXIT
F=b1g0000000000000demo; AUTH="--auth strict --require-token ci-token=$F --log-level warning"
ycr-emulator --port 30152 --tls --ca-file $w/b-ca.pem $AUTH > $w/b.log &
until grep -qs listening $w/b.log; do kill -0 $! || exit 1; sleep 0.2; done
ycr-emulator snapshot --endpoint localhost:30152 --ca-file $w/b-ca.pem --token ci-token \\
  --folder-id $F --output $w/snapshot.json
ycr-emulator --seed $w/snapshot.json --port 30153 --tls --ca-file $w/a-ca.pem $AUTH > $w/a.log &
until grep -qs listening $w/a.log; do kill -0 $! || exit 1; sleep 0.2; done
cat $w/a-ca.pem $w/b-ca.pem > $w/both-ca.pem
ycr-emulator diff localhost:30153 localhost:30152 --folder-id $F --ca-file $w/both-ca.pem \\
  --token ci-token --random-seed 1
YCR_CONTRACT_API_ENDPOINT=localhost:30152 YCR_CONTRACT_CA_FILE=$w/b-ca.pem \\
YCR_CONTRACT_IAM_TOKEN=ci-token YCR_CONTRACT_REGISTRY_ID=crp71hkgiolp6677hg9i \\
YCR_CONTRACT_CLOUD_REGISTRY_ID=cn1demo00000000cloud \\
pytest tests/contract -p no:cacheprovider -q
"""


@pytest.mark.skipif(not os.access("/bin/bash", os.X_OK), reason="the recipe is a bash script: install bash")
def test_the_local_contract_recipe_runs_as_written():
    # It uses fixed ports (30152, 30153), as a reader pasting it would: this is the only test that does.
    # They lie below Linux's ephemeral range (32768-60999): in it, any client connection of the suite
    # (or its TIME_WAIT, for a minute) could hold the port, and did (50152, twice in a row in CI).
    bin_dir = str(Path(sys.executable).parent)  # ycr-emulator and pytest of this environment
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "YCR_"))}
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        ["bash", "-c", DOC_CONTRACT_RECIPE], cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=300
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert " 0 differences (random seed 1)" in done.stdout, output
    assert "wrote " in done.stderr and "4 registries" in done.stderr, output  # both APIs' (demo data)
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, output


def test_the_page_says_the_same():
    assert_on_page("contract-testing.md", DOC_CONTRACT_RECIPE=DOC_CONTRACT_RECIPE, DOC_PROPERTY_TEST=DOC_PROPERTY_TEST)
