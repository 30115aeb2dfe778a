"""Only the bytes reviewers approved run in production: each hole the security review found.

A real origin, a real PostgreSQL production; every attack comes from git pushes.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from bot.apply.applier import Applier
from bot.core.doc_update import add_entry
from bot.core.gates import GateFailed
from bot.core.review import ReviewError
from bot.core.text import plain
from bot.demo.project import (
    DEMO_PENDING,
    DEMO_PENDING_ENTRY,
    VERSIONS,
    MigrationSpec,
    write_migration,
)
from tests.support.applyteam import (
    APPLIER,
    BASELINE,
    REVIEWER,
    Team,
    approve_and_tick,
    columns,
    production_versions,
)


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
    engine.dispose()
    return names


def push_file(team: Team, path: str, text: str, message: str = "Change") -> None:
    team.dev.pull()
    team.dev.write(path, text, message=message)
    team.dev.push()
    team.services.scanner.run()


def sneaky(revision: str, down: str, marker: Path) -> str:
    """A revision file whose module body, run on import, writes to production and to disk."""
    return f'''"""Looks harmless"""
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import op

Path({str(marker)!r}).write_text("imported")
with sa.create_engine(os.environ["SCHEMABOT_MIGRATE_URL"]).begin() as connection:
    connection.execute(sa.text("CREATE TABLE pwned (id integer)"))

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TABLE pwned_too (id integer)")


def downgrade():
    pass
'''


def test_an_unapproved_file_on_main_is_never_imported_by_an_apply(
    team: Team, tmp_path: Path
) -> None:
    marker = tmp_path / "imported.txt"
    approve_and_tick(team, DEMO_PENDING.revision)
    push_file(
        team,
        f"{VERSIONS}/c0ffee000001_later.py",
        sneaky("c0ffee000001", DEMO_PENDING.revision, marker),
    )

    run = team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))

    assert run.state == "succeeded", run.error
    assert production_versions(team.production) == {DEMO_PENDING.revision}
    assert "visibility" in columns(team.production, "posts")
    assert {"pwned", "pwned_too"}.isdisjoint(tables(team.production))
    assert not marker.exists()


def test_a_file_swapped_after_the_gates_does_not_run(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    run = team.applier.request(DEMO_PENDING.revision, APPLIER)
    swapped = DEMO_PENDING.source().replace(
        "def upgrade() -> None:\n",
        'def upgrade() -> None:\n    op.execute("CREATE TABLE swapped (id int)")\n',
    )
    push_file(team, DEMO_PENDING.path, swapped, "Sneak a table in")

    done = team.applier.execute(run)

    assert done.state == "succeeded", done.error
    assert "visibility" in columns(team.production, "posts")
    assert "swapped" not in tables(team.production)


def test_a_change_to_env_py_after_approval_makes_the_approval_stale(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    env = (team.dev.root / "migrations" / "env.py").read_text(encoding="utf-8")
    push_file(team, "migrations/env.py", env + "\nimport os  # harmless, or is it\n", "Tweak env")

    state = team.services.reviews.state(DEMO_PENDING.revision)
    assert state.approvals == () and len(state.stale_approvals) == 1
    assert state.changed_since(state.stale_approvals[0]) == ("migrations/env.py",)
    with pytest.raises(GateFailed, match="went stale"):
        team.applier.request(DEMO_PENDING.revision, APPLIER)
    assert production_versions(team.production) == {BASELINE}


def test_an_approval_covers_the_application_files_env_py_imports(team: Team) -> None:
    env = (team.dev.root / "migrations" / "env.py").read_text(encoding="utf-8")
    team.dev.write("app/__init__.py", "", message="An app")
    team.dev.write("app/models.py", "METADATA = None\n", message="Its models")
    push_file(team, "migrations/env.py", "from app.models import METADATA  # noqa\n" + env)
    approve_and_tick(team, DEMO_PENDING.revision)

    bundle = team.services.reviews.state(DEMO_PENDING.revision).bundle
    assert bundle is not None and {"app/__init__.py", "app/models.py"} <= set(bundle.files)
    push_file(team, "app/models.py", "METADATA = 'changed'\n", "Change the models")
    state = team.services.reviews.state(DEMO_PENDING.revision)
    assert state.changed_since(state.stale_approvals[0]) == ("app/models.py",)


def test_a_linked_module_env_py_imports_is_on_the_card_before_it_blocks_the_apply(
    team: Team,
) -> None:
    env = (team.dev.root / "migrations" / "env.py").read_text(encoding="utf-8")
    team.dev.write("app/__init__.py", "", message="An app")
    (team.dev.root / "app" / "models.py").symlink_to("/etc/hostname")
    team.dev.commit(["app/models.py"], "Models elsewhere")
    push_file(team, "migrations/env.py", "from app.models import METADATA  # noqa\n" + env)
    approve_and_tick(team, DEMO_PENDING.revision)

    found = [plain(f.text) for f in team.services.snapshot(DEMO_PENDING.revision).findings]
    with pytest.raises(GateFailed) as refused:
        team.applier.request(DEMO_PENDING.revision, APPLIER)

    said = "cannot be approved as it is: `app/models.py` is a symbolic link"
    assert any(said in finding for finding in found), found
    assert said in str(refused.value)


@pytest.mark.parametrize("word", ["heads", "head", "base"])
def test_a_revision_named_like_an_alembic_command_can_never_be_applied(
    team: Team, word: str
) -> None:
    spec = MigrationSpec(word, DEMO_PENDING.revision, "Sneaky", "sneaky")
    push_file(team, spec.path, spec.source())

    assert team.services.store.get_revision(word) is None
    problems = team.services.repository.graph("main").problems
    assert any(word in problem.detail and "Alembic reads" in problem.detail for problem in problems)
    with pytest.raises(ReviewError, match="No revision starts with"):
        team.applier.request(word, APPLIER)


def test_a_second_file_with_an_approved_id_moves_the_card_and_blocks_the_apply(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    copy = DEMO_PENDING.source().replace('server_default="public"', 'server_default="x"')
    duplicate = f"{VERSIONS}/zz_{DEMO_PENDING.filename}"
    push_file(team, duplicate, copy, "Same id, other file")

    record = team.services.store.get_revision(DEMO_PENDING.revision)
    assert record is not None and record.path == duplicate, "Alembic loads the later file"
    with pytest.raises(GateFailed, match="declares the same id"):
        team.applier.request(DEMO_PENDING.revision, APPLIER)


def changed_downgrade(extra: str) -> str:
    return DEMO_PENDING.source().replace(
        "def downgrade() -> None:\n", f"def downgrade() -> None:\n    {extra}\n"
    )


def test_a_rollback_runs_the_applied_downgrade_or_waits_for_a_new_approval(team: Team) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    assert team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER)).state == (
        "succeeded"
    )
    push_file(
        team, DEMO_PENDING.path, changed_downgrade('op.execute("CREATE TABLE marker (i int)")')
    )

    with pytest.raises(GateFailed, match=r"`downgrade\(\)` changed since it was applied"):
        team.applier.request(DEMO_PENDING.revision, APPLIER, "rollback")
    assert production_versions(team.production) == {DEMO_PENDING.revision}

    team.services.reviews.approve(DEMO_PENDING.revision, REVIEWER, authors=())
    run = team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER, "rollback"))

    assert run.state == "succeeded", run.error
    assert production_versions(team.production) == {BASELINE}
    assert "marker" in tables(team.production), "the newly approved downgrade ran"


def test_a_file_changed_elsewhere_than_its_downgrade_rolls_back_with_the_applied_bytes(
    team: Team,
) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER))
    push_file(team, DEMO_PENDING.path, DEMO_PENDING.source() + "\n# a comment, later\n")

    run = team.applier.execute(team.applier.request(DEMO_PENDING.revision, APPLIER, "rollback"))

    assert run.state == "succeeded", run.error
    assert production_versions(team.production) == {BASELINE}
    assert "visibility" not in columns(team.production, "posts")


def test_signed_commits_are_required_when_configured(team: Team, tmp_path: Path) -> None:
    approve_and_tick(team, DEMO_PENDING.revision)
    signers = tmp_path / "allowed_signers"
    signers.write_text("")
    parts = team.services.apply_parts
    strict = replace(
        parts,
        settings=replace(parts.settings, require_signed_commits=True, allowed_signers=signers),
    )

    with pytest.raises(GateFailed, match="not signed by a known key"):
        Applier(strict, team.notes).request(DEMO_PENDING.revision, APPLIER)


SIGNED = MigrationSpec(
    "5160ed000001",
    BASELINE,
    "Add signature to users",
    "add_signature_to_users",
    upgrade='op.add_column("users", sa.Column("signature", sa.Text))',
    downgrade='op.drop_column("users", "signature")',
)


def test_a_revision_whose_commits_are_signed_by_a_known_key_applies(
    team: Team, tmp_path: Path
) -> None:
    key = tmp_path / "dana_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dana", "-f", str(key)], check=True
    )
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"dana@example.com {key.with_suffix('.pub').read_text()}")
    dev = team.dev
    dev.pull()
    write_migration(dev.root, SIGNED)
    signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
    dev.repo.git.add(SIGNED.path)
    dev.repo.git.execute(
        [
            "git",
            *signing,
            "-c",
            "user.name=Dana",
            "-c",
            "user.email=dana@example.com",
            "commit",
            "-S",
            "-m",
            "Add a signed migration",
        ]
    )
    entry = DEMO_PENDING_ENTRY.replace(DEMO_PENDING.revision, SIGNED.revision).replace(
        DEMO_PENDING.filename, SIGNED.filename
    )
    doc = (dev.root / "SCHEMA_CHANGES.md").read_text(encoding="utf-8")
    dev.write("SCHEMA_CHANGES.md", add_entry(doc, entry), message="Document it")
    dev.push()
    team.services.scanner.run()
    approve_and_tick(team, SIGNED.revision)
    parts = team.services.apply_parts
    strict = replace(
        parts,
        settings=replace(parts.settings, require_signed_commits=True, allowed_signers=signers),
    )

    run = Applier(strict, team.notes).execute(
        Applier(strict, team.notes).request(SIGNED.revision, APPLIER)
    )

    assert run.state == "succeeded", run.error
    assert "signature" in columns(team.production, "users")
