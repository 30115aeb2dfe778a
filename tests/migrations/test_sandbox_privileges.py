"""A preview keeps no privilege to undo its sandbox, even where schemabot is not root.

As another user than root, schemabot's sandbox is a user namespace in which the preview
starts as its root; without giving up its capabilities it could unmount the covers over
schemabot's files and /proc. The bot's side runs here as `nobody` (or as the developer
running the tests), exactly as `schemabot serve` would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import uncover
from tests.support.paths import REPO_ROOT

NOBODY = 65534
SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder the unprivileged user owns, outside root's own (pytest's are root's only)."""
    made = Path(tempfile.mkdtemp(prefix="schemabot-uncover-"))
    made.chmod(0o755)
    if os.geteuid() == 0:
        os.chown(made, NOBODY, NOBODY)
    yield made
    shutil.rmtree(made, ignore_errors=True)


def as_schemabot_not_root(folder: Path) -> dict[str, object]:
    script = str(Path(uncover.__file__).resolve())
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None or not SYSTEM_PYTHON.exists():
            pytest.skip("needs setpriv and /usr/bin/python3 to run the bot's side as nobody")
        command = [
            setpriv, "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups",
            str(SYSTEM_PYTHON), "-I", script, str(REPO_ROOT), str(folder),
        ]  # fmt: skip
    else:
        command = [sys.executable, "-I", script, str(REPO_ROOT), str(folder)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=folder)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    if "skip" in result:
        pytest.skip(str(result["skip"]))
    assert "failed" not in result, result
    return result


def test_a_preview_cannot_uncover_schemabots_files_credentials_or_other_processes(
    folder: Path,
) -> None:
    result = as_schemabot_not_root(folder)

    assert not any(result["unmounted"].values()), result  # type: ignore[attr-defined]
    assert not any(result.get("nested_unmounted", {}).values()), result  # type: ignore[attr-defined]
    for reads in (result["read"], result.get("nested_read", {})):
        assert "hunter2" not in json.dumps(reads), result
        assert "state.db" not in json.dumps(reads), result
    assert result["tokens"] == [] and result.get("nested_tokens", []) == [], result
