import json
from pathlib import Path

import pytest

from bot.core.operations import MigrationAnalysis, Operation, analyze
from bot.demo.project import DEMO_PENDING, SEED_HISTORY, MigrationSpec
from tests.support.migration_files import IMPORTS, migration, read

Summary = tuple[str, str | None, str | None, str | None, int]


def summary(operations: tuple[Operation, ...]) -> list[Summary]:
    """Each operation as (kind, table, column, name, line)."""
    return [(op.kind, op.table, op.column, op.name, op.line) for op in operations]


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


def test_unreadable_files_are_reported_not_raised() -> None:
    analysis = analyze("def upgrade(:\n", "versions/broken.py")
    assert analysis.error == "line 1: invalid syntax"
    assert (analysis.upgrade, analysis.kinds, analysis.tables) == ((), frozenset(), ())
    assert analyze("x = 1\0", "versions/nul.py").error is not None
    no_revision = analyze(
        'from alembic import op\n\ndef upgrade():\n    op.drop_table("t")\n', "a.py"
    )
    assert no_revision.kinds == {"DROP TABLE"} and not no_revision.is_merge


def corpus_files(corpus: Path, project: str) -> list[Path]:
    return sorted((corpus / project / "versions").rglob("*.py"))


@pytest.mark.parametrize("project", ["neutron", "ctfd", "redash"])
def test_the_corpus_of_real_histories(corpus: Path, project: str) -> None:
    expected = json.loads((corpus / project / "expected.json").read_text(encoding="utf-8"))
    merges = {
        Path(info["path"]).name
        for info in expected["revisions"].values()
        if len(info["down_revisions"]) > 1
    }
    files = corpus_files(corpus, project)
    analyses = {f.name: analyze(f.read_text(encoding="utf-8"), str(f)) for f in files}
    assert all(a.error is None for a in analyses.values())
    with_operations = [name for name, a in analyses.items() if a.upgrade or a.downgrade]
    assert len(with_operations) >= 0.85 * len(files)
    assert {name for name, a in analyses.items() if "MERGE" in a.kinds} == merges
    assert all(analyses[name].kinds == {"MERGE"} for name in merges)


def test_real_forms_from_the_corpus(corpus: Path) -> None:
    def named(project: str, prefix: str) -> MigrationAnalysis:
        (path,) = [f for f in corpus_files(corpus, project) if f.name.startswith(prefix)]
        return analyze(path.read_text(encoding="utf-8"), str(path))

    ratings = named("ctfd", "24ad6790bc3c")
    assert [(op.call, op.table) for op in ratings.upgrade] == [
        ("connection.execute", "ratings")
    ] * 2
    schedules = named("redash", "640888ce445d")
    assert ("DATA MIGRATION", "queries") in {(op.kind, op.table) for op in schedules.upgrade}
    assert "drops column `schedule` of `queries`" in {op.destroys for op in schedules.destructive}
    rbacs = named("neutron", "e4e236b0e1ff")
    assert ("DATA MIGRATION", "addressscoperbacs") in {(op.kind, op.table) for op in rbacs.upgrade}
    assert named("redash", "89bc7873a3e0").is_merge
