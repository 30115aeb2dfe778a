"""Which changed paths are revision files."""

from bot.git.script_location import ScriptLocation
from tests.support.alembic_config import (
    P,
)

# Filtering changed paths


def test_a_revision_path_is_a_python_file_directly_in_a_version_folder() -> None:
    location = ScriptLocation(P("db"), (P("db/versions"), P("plugins/audit")))
    assert location.is_revision_path("db/versions/1a2b_add_users.py")
    assert location.is_revision_path("plugins/audit/9f8e_audit.py")
    for path in [
        "db/versions/__init__.py",
        "db/versions/.#1a2b_add_users.py",
        "db/versions/README",
        "db/versions/1a2b_add_users.pyc",
        "db/versions/__pycache__/1a2b_add_users.cpython-311.pyc",
        "db/versions/sub/3c4d_nested.py",
        "db/env.py",
        "db/versionsX/1a2b.py",
        "../db/versions/1a2b.py",
        "/db/versions/1a2b.py",
    ]:
        assert not location.is_revision_path(path), path


def test_recursive_version_folders_include_their_subfolders_but_not_pycache() -> None:
    location = ScriptLocation(P("."), (P("versions"),), recursive=True)
    assert location.is_revision_path("versions/2024/q1/1a2b_add.py")
    assert location.is_revision_path("versions/1a2b_add.py")
    assert not location.is_revision_path("versions/2024/__pycache__/1a2b_add.py")
    assert not location.is_revision_path("1a2b_add.py")


def test_sourceless_locations_take_compiled_files() -> None:
    location = ScriptLocation(P("m"), (P("m/versions"),), sourceless=True)
    assert location.is_revision_path("m/versions/1a2b_add.pyc")
    assert location.is_revision_path("m/versions/__pycache__/1a2b_add.cpython-311.pyc")
    assert location.is_revision_path("m/versions/1a2b_add.py")
    assert not location.is_revision_path("m/versions/__pycache__/1a2b_add.py")
