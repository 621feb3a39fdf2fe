"""schemathesis against the real node: whatever it sends, no 5xx, and every answer matches the
OpenAPI document (schema, status code, content type). POST /check and the write routes
included: a made-up host's address is loopback with a closed port (support/schemathesis_hooks.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.support.api import api_node
from tests.integration.support.procs import free_port

pytestmark = pytest.mark.integration

HOOKS = Path(__file__).parent / "support" / "schemathesis_hooks.py"
CHECKS = ",".join(
    (
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
    )
)


@pytest.mark.timeout(300)  # schemathesis may take its 240 s; the default is 120 s
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    with api_node(cli_env) as node:
        st = Path(sys.executable).with_name("st")
        run = subprocess.run(
            [
                str(st), "run", f"{node.url}/api/v1/openapi.json",
                "--checks", CHECKS,
                "--header", f"Authorization: Bearer {node.token}",
                "--max-examples", "30",
                "--generation-deterministic",
                "--request-timeout", "60",
                "--report-dir", str(tmp_path / "report"),
            ],
            capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path,
            env={
                **cli_env, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": str(HOOKS),
                "VPSHEALTH_TEST_CLOSED_PORT": str(free_port()),
            },
        )  # fmt: skip
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    selected = re.search(r"Selected: (\d+)/(\d+)", run.stdout)
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert selected, run.stdout
    assert tested, run.stdout
    assert selected[1] == selected[2] == tested[1], run.stdout  # every route, POST /check too
