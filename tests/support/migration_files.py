"""Revision files written inline for tests that read what a migration does."""

import textwrap

from bot.core.operations import MigrationAnalysis, analyze

HEADER = '''\
"""A hand-written migration

Revision ID: 1a2b3c4d5e6f
Revises: 0f0f0f0f0f0f
"""
{imports}

revision = "1a2b3c4d5e6f"
down_revision = "0f0f0f0f0f0f"

'''
IMPORTS = "from alembic import op\nimport sqlalchemy as sa"


def migration(
    upgrade: str, downgrade: str = "pass", imports: str = IMPORTS, module: str = ""
) -> str:
    """A revision file; with the default imports and no module code, upgrade's body is on 13."""
    up = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
    down = textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")
    return (
        HEADER.format(imports=imports)
        + textwrap.dedent(module).lstrip()
        + f"def upgrade() -> None:\n{up}\n\n\ndef downgrade() -> None:\n{down}\n"
    )


def read(
    upgrade: str, downgrade: str = "pass", imports: str = IMPORTS, module: str = ""
) -> MigrationAnalysis:
    """What `analyze` reads in the revision file `migration` writes from these parts."""
    return analyze(migration(upgrade, downgrade, imports, module), "versions/1a2b3c4d5e6f_test.py")
