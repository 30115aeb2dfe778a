"""A concurrent index operation outside `autocommit_block()` is flagged from the syntax tree."""

from __future__ import annotations

from bot.core.concurrency import concurrency_findings
from bot.core.operations import analyze
from bot.core.text import plain

HEADER = 'from alembic import op\nrevision = "a1"\ndown_revision = None\n\n'


def findings(body: str) -> list[str]:
    return [plain(f.text) for f in concurrency_findings(analyze(HEADER + body, "v/a1.py"))]


def test_a_concurrent_index_in_the_transaction_is_an_error() -> None:
    (found,) = findings(
        "def upgrade():\n"
        '    op.create_index("ix_t", "posts", ["t"], postgresql_concurrently=True)\n'
        "def downgrade():\n"
        "    pass\n"
    )
    assert found.startswith("upgrade() line 6: `op.create_index` creates `ix_t` CONCURRENTLY")
    assert "autocommit_block()" in found


def test_inside_autocommit_block_it_is_right() -> None:
    assert (
        findings(
            "def upgrade():\n"
            "    with op.get_context().autocommit_block():\n"
            '        op.create_index("ix_t", "posts", ["t"], postgresql_concurrently=True)\n'
            "def downgrade():\n"
            "    with op.get_context().autocommit_block():\n"
            '        op.drop_index("ix_t", postgresql_concurrently=True)\n'
        )
        == []
    )


def test_raw_sql_and_downgrades_are_read_too() -> None:
    found = findings(
        "def upgrade():\n"
        '    op.execute("CREATE INDEX CONCURRENTLY ix_t ON posts (t)")\n'
        "def downgrade():\n"
        '    op.drop_index("ix_t", table_name="posts", postgresql_concurrently=True)\n'
    )
    assert [line.split(":")[0] for line in found] == ["upgrade() line 6", "downgrade() line 8"]


def test_a_plain_index_is_no_concern_of_this_check() -> None:
    assert findings('def upgrade():\n    op.create_index("ix_t", "posts", ["t"])\n') == []
