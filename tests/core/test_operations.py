"""What each Alembic operation in a migration reads as."""

import pytest

from bot.core.operations import analyze
from bot.demo.project import DEMO_PENDING, SEED_HISTORY, MigrationSpec
from tests.support.migration_files import read
from tests.support.operation_summary import (
    Summary,
    summary,
)

SEED_EXPECTED: dict[str, tuple[list[Summary], list[Summary], tuple[str, ...], set[str]]] = {
    "3f1c2a9d7b10": (
        [
            ("CREATE TABLE", "users", None, None, 19),
            ("CREATE TABLE", "posts", None, None, 24),
            ("CREATE TABLE", "follows", None, None, 30),
        ],
        [
            ("DROP TABLE", "follows", None, None, 38),
            ("DROP TABLE", "posts", None, None, 39),
            ("DROP TABLE", "users", None, None, 40),
        ],
        ("follows", "posts", "users"),
        {"CREATE TABLE"},
    ),
    "ae8fcb7881c7": (
        [
            ("CREATE TABLE", "connections", None, None, 19),
            ("DATA MIGRATION", "connections", None, None, 26),
            ("DROP TABLE", "follows", None, None, 30),
        ],
        [
            ("CREATE TABLE", "follows", None, None, 34),
            ("DROP TABLE", "connections", None, None, 39),
        ],
        ("connections", "follows"),
        {"CREATE TABLE", "DATA MIGRATION", "DROP TABLE"},
    ),
    "e734d765d3ad": (
        [
            ("CREATE TABLE", "tags", None, None, 19),
            ("CREATE TABLE", "connection_tags", None, None, 24),
            ("CREATE TABLE", "post_audience_tags", None, None, 31),
        ],
        [
            ("DROP TABLE", "post_audience_tags", None, None, 39),
            ("DROP TABLE", "connection_tags", None, None, 40),
            ("DROP TABLE", "tags", None, None, 41),
        ],
        ("connection_tags", "post_audience_tags", "tags"),
        {"CREATE TABLE"},
    ),
    "fix_connection_status_enum_case": (
        [("DATA MIGRATION", "connections", None, None, 19)],
        [("DATA MIGRATION", "connections", None, None, 23)],
        ("connections",),
        {"DATA MIGRATION"},
    ),
    "add_photo_urls_to_posts": (
        [("ADD COLUMN", "posts", "photo_urls", None, 19)],
        [("DROP COLUMN", "posts", "photo_urls", None, 29)],
        ("posts",),
        {"ADD COLUMN"},
    ),
    "merge_enum_fix_and_photo_urls": ([], [], (), {"MERGE"}),
    "b41f7a2c9e15": (
        [
            ("ADD COLUMN", "posts", "visibility", None, 19),
            ("CREATE INDEX", "posts", None, "ix_posts_visibility", 23),
        ],
        [
            ("DROP INDEX", "posts", None, "ix_posts_visibility", 27),
            ("DROP COLUMN", "posts", "visibility", None, 28),
        ],
        ("posts",),
        {"ADD COLUMN", "CREATE INDEX"},
    ),
}


@pytest.mark.parametrize("spec", [*SEED_HISTORY, DEMO_PENDING], ids=lambda spec: spec.revision)
def test_the_sandbox_migrations(spec: MigrationSpec) -> None:
    revision = spec.revision
    upgrade, downgrade, tables, kinds = SEED_EXPECTED[revision]
    analysis = analyze(spec.source(), spec.path)
    assert summary(analysis.upgrade) == upgrade
    assert summary(analysis.downgrade) == downgrade
    assert analysis.tables == tables
    assert analysis.kinds == kinds
    assert analysis.unresolved == ()
    assert analysis.error is None
    assert analysis.is_merge == (revision == "merge_enum_fix_and_photo_urls")
    assert analysis.empty_downgrade == analysis.is_merge


def test_what_the_sandbox_migrations_destroy_and_run() -> None:
    by_revision = {s.revision: analyze(s.source(), s.path) for s in (*SEED_HISTORY, DEMO_PENDING)}
    destroyed = {rev: [op.destroys for op in a.destructive] for rev, a in by_revision.items()}
    assert destroyed == {
        "3f1c2a9d7b10": [],
        "ae8fcb7881c7": ["drops table `follows`"],
        "e734d765d3ad": [],
        "fix_connection_status_enum_case": [],
        "add_photo_urls_to_posts": [],
        "merge_enum_fix_and_photo_urls": [],
        "b41f7a2c9e15": [],
    }
    (insert,) = [op for op in by_revision["ae8fcb7881c7"].upgrade if op.call == "op.execute"]
    assert insert.sql == (
        "INSERT INTO connections (user_id, other_id, status) "
        "SELECT follower_id, followed_id, 'ACCEPTED' FROM follows"
    )
    assert by_revision["fix_connection_status_enum_case"].upgrade[0].sql == (
        "UPDATE connections SET status = lower(status)"
    )


def test_each_alembic_operation_by_position_and_by_keyword() -> None:
    analysis = read(
        """
        op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True))
        op.drop_table(table_name="legacy")
        op.add_column(table_name="users", column=sa.Column("age", sa.Integer()))
        op.drop_column("users", column_name="nickname")
        op.alter_column("users", "email", nullable=True)
        op.create_index(op.f("ix_users_age"), "users", ["age"])
        op.drop_index("ix_old", table_name="users", postgresql_concurrently=True)
        op.create_unique_constraint("uq_users_email", "users", ["email"])
        op.create_foreign_key("fk_orders_user", "orders", "users", ["user_id"], ["id"])
        op.create_check_constraint("ck_orders_total", "orders", "total >= 0")
        op.create_primary_key("pk_orders", "orders", ["id"])
        op.drop_constraint("uq_old", "users", type_="unique")
        op.rename_table("orders", "purchases")
        op.bulk_insert(sa.table("purchases", sa.column("id")), [{"id": 1}])
        """
    )
    assert summary(analysis.upgrade) == [
        ("CREATE TABLE", "orders", None, None, 13),
        ("DROP TABLE", "legacy", None, None, 14),
        ("ADD COLUMN", "users", "age", None, 15),
        ("DROP COLUMN", "users", "nickname", None, 16),
        ("MODIFY COLUMN", "users", "email", None, 17),
        ("CREATE INDEX", "users", None, "ix_users_age", 18),
        ("DROP INDEX", "users", None, "ix_old", 19),
        ("ADD CONSTRAINT", "users", None, "uq_users_email", 20),
        ("ADD CONSTRAINT", "orders", None, "fk_orders_user", 21),
        ("ADD CONSTRAINT", "orders", None, "ck_orders_total", 22),
        ("ADD CONSTRAINT", "orders", None, "pk_orders", 23),
        ("DROP CONSTRAINT", "users", None, "uq_old", 24),
        ("RENAME TABLE", "orders", None, "purchases", 25),
        ("DATA MIGRATION", "purchases", None, None, 26),
    ]
    assert analysis.tables == ("legacy", "orders", "purchases", "users")
    assert [op.concurrently for op in analysis.upgrade][5:7] == [False, True]
    assert [op.destroys for op in analysis.destructive] == [
        "drops table `legacy`",
        "drops column `nickname` of `users`",
        "drops constraint `uq_old` of `users`",
    ]
    assert analysis.unresolved == ()


def test_what_alter_column_changes() -> None:
    analysis = read(
        """
        op.alter_column("posts", "title", type_=sa.String(80), existing_type=sa.String(255))
        op.alter_column("posts", "body", nullable=False, server_default="")
        op.alter_column("posts", "slug", new_column_name="handle")
        op.alter_column("posts", "summary", nullable=True)
        """
    )
    assert [(op.changes, op.name) for op in analysis.upgrade] == [
        (("type",), None),
        (("not null", "server default"), None),
        (("rename",), "handle"),
        ((), None),
    ]
    assert [op.destroys for op in analysis.destructive] == [
        "changes the type of column `title` of `posts` from sa.String(255) to sa.String(80)"
    ]


def test_batch_alter_table_blocks_act_on_their_table() -> None:
    analysis = read(
        """
        with op.batch_alter_table("widgets", schema=None) as batch_op:
            batch_op.add_column(sa.Column("colour", sa.String(20)))
            batch_op.drop_column("size")
            batch_op.alter_column("name", type_=sa.Text())
            batch_op.create_index("ix_widgets_colour", ["colour"])
            batch_op.create_foreign_key("fk_widgets_owner", "users", ["owner_id"], ["id"])
        with op.batch_alter_table("gadgets") as batch_op:
            batch_op.drop_constraint("uq_gadgets_name", type_="unique")
        """
    )
    assert summary(analysis.upgrade) == [
        ("ADD COLUMN", "widgets", "colour", None, 14),
        ("DROP COLUMN", "widgets", "size", None, 15),
        ("MODIFY COLUMN", "widgets", "name", None, 16),
        ("CREATE INDEX", "widgets", None, "ix_widgets_colour", 17),
        ("ADD CONSTRAINT", "widgets", None, "fk_widgets_owner", 18),
        ("DROP CONSTRAINT", "gadgets", None, "uq_gadgets_name", 20),
    ]
    assert analysis.upgrade[0].call == "batch_op.add_column"


def test_op_under_another_name_and_sqlalchemy_unabbreviated() -> None:
    imports = "from alembic import op as operations\nimport sqlalchemy"
    analysis = read(
        """
        operations.add_column("users", sqlalchemy.Column("age", sqlalchemy.Integer()))
        op.drop_table("not_alembic")
        """,
        imports=imports,
    )
    assert summary(analysis.upgrade) == [("ADD COLUMN", "users", "age", None, 13)]
    qualified = read('alembic.op.drop_table("t")', imports="import alembic")
    assert summary(qualified.upgrade) == [("DROP TABLE", "t", None, None, 12)]
