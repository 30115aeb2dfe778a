"""Raw SQL, names bound by code, enum types and the module's own functions, read statically."""

import pytest

from bot.core.operations import analyze
from tests.support.migration_files import IMPORTS, migration, read
from tests.support.operation_summary import (
    summary,
)


def test_raw_sql_statements_and_their_tables() -> None:
    analysis = read(
        """
        op.execute("UPDATE posts SET visibility = 'public' WHERE visibility IS NULL")
        op.execute(sa.text("INSERT INTO audit (event) VALUES ('x')"))
        op.execute("DELETE FROM sessions; SELECT 1; -- a comment\\nTRUNCATE TABLE cache")
        op.execute('ALTER TABLE IF EXISTS public."Users" DROP COLUMN legacy')
        op.execute("ALTER TABLE users ADD COLUMN age integer")
        op.execute("ALTER TABLE users ALTER COLUMN age TYPE bigint")
        op.execute("ALTER TABLE users ADD CONSTRAINT ck_age CHECK (age > 0)")
        op.execute("DROP TABLE IF EXISTS old_things")
        op.execute("CREATE TABLE IF NOT EXISTS things (id int)")
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_things ON things (id)")
        op.execute("ALTER TYPE status ADD VALUE 'archived'")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS public.ix_old")
        op.execute("VACUUM ANALYZE")
        """
    )
    assert [(op.kind, op.table, op.column, op.name) for op in analysis.upgrade] == [
        ("DATA MIGRATION", "posts", None, None),
        ("DATA MIGRATION", "audit", None, None),
        ("DATA MIGRATION", "sessions", None, None),
        ("DATA MIGRATION", "cache", None, None),
        ("DROP COLUMN", "Users", "legacy", None),
        ("ADD COLUMN", "users", "age", None),
        ("MODIFY COLUMN", "users", "age", None),
        ("ADD CONSTRAINT", "users", None, "ck_age"),
        ("DROP TABLE", "old_things", None, None),
        ("CREATE TABLE", "things", None, None),
        ("CREATE INDEX", "things", None, None),
        ("ALTER TYPE", None, None, "status"),
        ("DROP INDEX", None, None, "ix_old"),
        ("DATA MIGRATION", None, None, None),
    ]
    assert analysis.upgrade[3].sql == "TRUNCATE TABLE cache"
    assert [op.destroys for op in analysis.destructive] == [
        "empties table `cache`",
        "drops column `legacy` of `Users`",
        "changes the type of column `age` of `users`",
        "drops table `old_things`",
    ]
    assert [op.sql for op in analysis.unresolved] == ["VACUUM ANALYZE"]


def test_sql_through_a_connection_and_table_objects() -> None:
    analysis = read(
        """
        conn = op.get_bind()
        conn.execute(sa.text("UPDATE ratings SET value = 1 WHERE value > 2"))
        configs = sa.table("configs", sa.column("key"), sa.column("value"))
        conn.execute(configs.update().where(configs.c.key == "x").values(value="y"))
        conn.execute(sa.insert(configs).values(key="z"))
        for row in conn.execute(configs.select()):
            pass
        op.get_bind().execute(sa.text("SELECT 1"))
        session = sa.orm.Session(bind=op.get_bind())
        session.execute(sa.delete(configs))
        """
    )
    assert summary(analysis.upgrade) == [
        ("DATA MIGRATION", "ratings", None, None, 14),
        ("DATA MIGRATION", "configs", None, None, 16),
        ("DATA MIGRATION", "configs", None, None, 17),
        ("DATA MIGRATION", "configs", None, None, 22),
    ]
    assert [op.call for op in analysis.upgrade] == [
        "conn.execute",
        "conn.execute",
        "conn.execute",
        "session.execute",
    ]


def test_names_given_by_code_are_unresolved_not_guessed() -> None:
    analysis = read(
        """
        for table in ("a", "b"):
            op.drop_table(table)
        name = compute_name()
        op.add_column(name, sa.Column("x", sa.Integer()))
        op.drop_column("users", COLUMN)
        op.execute(f"UPDATE {table} SET x = 1")
        op.execute(statement)
        with op.batch_alter_table(TABLES[0]) as batch_op:
            batch_op.drop_column("y")
        """
    )
    assert summary(analysis.unresolved) == [
        ("DROP TABLE", None, None, None, 14),
        ("ADD COLUMN", None, "x", None, 16),
        ("DROP COLUMN", "users", None, None, 17),
        ("DATA MIGRATION", None, None, None, 18),
        ("DATA MIGRATION", None, None, None, 19),
        ("DROP COLUMN", None, "y", None, 21),
    ]
    assert analysis.tables == ("users",)
    assert analysis.destructive[0].destroys == "drops table `?`"


def test_names_bound_once_are_followed() -> None:
    analysis = read(
        """
        op.execute(SQL)
        op.drop_index(INDEX, table_name="users")
        sql = "DELETE FROM tokens"
        op.execute(sql)
        op.bulk_insert(created, [])
        created = op.create_table("roles", sa.Column("id", sa.Integer))
        op.bulk_insert(created, [{"id": 1}])
        """,
        module="""
        SQL = "UPDATE users SET active = true"
        INDEX = "ix_users_email"
        """,
    )
    assert [(op.kind, op.table, op.name) for op in analysis.upgrade] == [
        ("DATA MIGRATION", "users", None),
        ("DROP INDEX", "users", "ix_users_email"),
        ("DATA MIGRATION", "tokens", None),
        ("DATA MIGRATION", None, None),
        ("CREATE TABLE", "roles", None),
        ("DATA MIGRATION", "roles", None),
    ]


def test_enum_types_created_with_a_table_or_on_their_own() -> None:
    imports = f"{IMPORTS}\nfrom sqlalchemy.dialects import postgresql"
    analysis = read(
        """
        mood = postgresql.ENUM("happy", "sad", name="mood")
        mood.create(op.get_bind())
        op.create_table(
            "people",
            sa.Column("mood", mood),
            sa.Column("kind", sa.Enum("a", "b", name="person_kind")),
            sa.Column("old", postgresql.ENUM(name="existing", create_type=False)),
        )
        op.add_column("pets", sa.Column("mood", mood))
        """,
        "postgresql.ENUM(name='person_kind').drop(op.get_bind())\nop.drop_table('people')",
        imports,
    )
    assert summary(analysis.upgrade) == [
        ("CREATE TYPE", None, None, "mood", 15),
        ("CREATE TABLE", "people", None, None, 16),
        ("CREATE TYPE", "people", None, "person_kind", 19),
        ("ADD COLUMN", "pets", "mood", None, 22),
    ]
    assert analysis.kinds == {"CREATE TYPE", "CREATE TABLE", "ADD COLUMN"}
    assert summary(analysis.downgrade)[0] == ("DROP TYPE", None, None, "person_kind", 26)


def test_the_module_functions_an_upgrade_calls_are_read() -> None:
    helper = """
    def _drop_legacy() -> None:
        op.drop_table("legacy")


    """
    analysis = read("_drop_legacy()\n_drop_legacy()", module=helper)
    assert summary(analysis.upgrade) == [("DROP TABLE", "legacy", None, None, 13)]


@pytest.mark.parametrize(
    ("downgrade", "empty"),
    [
        ("pass", True),
        ('"""Irreversible."""', True),
        ('"""Irreversible."""\npass', True),
        ('raise NotImplementedError("no way back")', True),
        ('op.drop_table("orders")', False),
        ("_restore()", False),
    ],
)
def test_an_empty_downgrade(downgrade: str, empty: bool) -> None:
    analysis = read('op.create_table("orders")', downgrade)
    assert analysis.empty_downgrade is empty


def test_a_missing_downgrade_is_empty() -> None:
    source = migration('op.create_table("orders")').split("\n\ndef downgrade")[0]
    assert analyze(source, "versions/x.py").empty_downgrade is True
