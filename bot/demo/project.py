"""A sandbox Alembic project whose history follows the team's SCHEMA_CHANGES.md.

The demo builds its git origin from this, and the tests use it as a realistic repository:
an `alembic.ini`, an `env.py` like Alembic's generic template, the five revisions the
seed document lists (one of them a merge) on top of an initial schema, and the document.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from git import Actor, Repo

VERSIONS = "migrations/versions"

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
path_separator = os
sqlalchemy.url = sqlite:///app.db

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""

ENV_PY = """\
from logging.config import fileConfig

from sqlalchemy import engine_from_config, pool

from alembic import context

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)
target_metadata = None


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"""

SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
'''


@dataclass(frozen=True)
class MigrationSpec:
    """A revision file to write: its id, parents, message and the bodies of its functions."""

    revision: str
    down_revision: str | tuple[str, ...] | None
    message: str
    slug: str
    upgrade: str = "pass"
    downgrade: str = "pass"
    create_date: str = "2026-01-05 10:00:00.000000"

    @property
    def filename(self) -> str:
        return f"{self.revision}_{self.slug}.py"

    @property
    def path(self) -> str:
        return f"{VERSIONS}/{self.filename}"

    def source(self) -> str:
        if isinstance(self.down_revision, tuple):
            revises = ", ".join(self.down_revision)
        else:
            revises = self.down_revision or ""
        upgrade = textwrap.indent(textwrap.dedent(self.upgrade).strip(), "    ")
        downgrade = textwrap.indent(textwrap.dedent(self.downgrade).strip(), "    ")
        return (
            f'"""{self.message}\n\nRevision ID: {self.revision}\nRevises: {revises}\n'
            f'Create Date: {self.create_date}\n\n"""\n'
            "from alembic import op\nimport sqlalchemy as sa\n\n\n"
            f"revision = {self.revision!r}\ndown_revision = {self.down_revision!r}\n"
            "branch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade() -> None:\n{upgrade}\n\n\ndef downgrade() -> None:\n{downgrade}\n"
        )


SEED_HISTORY: tuple[MigrationSpec, ...] = (
    MigrationSpec(
        "3f1c2a9d7b10",
        None,
        "initial schema",
        "initial_schema",
        upgrade="""
        op.create_table(
            "users",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(255), nullable=False, unique=True),
        )
        op.create_table(
            "posts",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
            sa.Column("body", sa.Text, nullable=False),
        )
        op.create_table(
            "follows",
            sa.Column("follower_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
            sa.Column("followed_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        )
        """,
        downgrade="""
        op.drop_table("follows")
        op.drop_table("posts")
        op.drop_table("users")
        """,
        create_date="2025-11-02 09:12:44.101010",
    ),
    MigrationSpec(
        "ae8fcb7881c7",
        "3f1c2a9d7b10",
        "Replace follows with connections",
        "replace_follows_with_connections",
        upgrade="""
        op.create_table(
            "connections",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
            sa.Column("other_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
            sa.Column("status", sa.String(20), nullable=False, server_default="PENDING"),
        )
        op.execute(
            "INSERT INTO connections (user_id, other_id, status) "
            "SELECT follower_id, followed_id, 'ACCEPTED' FROM follows"
        )
        op.drop_table("follows")
        """,
        downgrade="""
        op.create_table(
            "follows",
            sa.Column("follower_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
            sa.Column("followed_id", sa.Integer, sa.ForeignKey("users.id"), primary_key=True),
        )
        op.drop_table("connections")
        """,
        create_date="2025-12-01 14:03:10.000000",
    ),
    MigrationSpec(
        "e734d765d3ad",
        "ae8fcb7881c7",
        "Add tag system tables",
        "add_tag_system_tables",
        upgrade="""
        op.create_table(
            "tags",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64), nullable=False, unique=True),
        )
        op.create_table(
            "connection_tags",
            sa.Column(
                "connection_id", sa.Integer, sa.ForeignKey("connections.id"), primary_key=True
            ),
            sa.Column("tag_id", sa.Integer, sa.ForeignKey("tags.id"), primary_key=True),
        )
        op.create_table(
            "post_audience_tags",
            sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), primary_key=True),
            sa.Column("tag_id", sa.Integer, sa.ForeignKey("tags.id"), primary_key=True),
        )
        """,
        downgrade="""
        op.drop_table("post_audience_tags")
        op.drop_table("connection_tags")
        op.drop_table("tags")
        """,
        create_date="2025-12-09 11:40:00.000000",
    ),
    MigrationSpec(
        "fix_connection_status_enum_case",
        "e734d765d3ad",
        "Fix connection status enum case",
        "fix_connection_status_enum_case",
        upgrade="""op.execute("UPDATE connections SET status = lower(status)")""",
        downgrade="""op.execute("UPDATE connections SET status = upper(status)")""",
        create_date="2026-01-12 16:20:00.000000",
    ),
    MigrationSpec(
        "add_photo_urls_to_posts",
        "e734d765d3ad",
        "Add photo URLs support",
        "add_photo_urls_to_posts",
        upgrade="""
        op.add_column(
            "posts",
            sa.Column(
                "photo_urls",
                sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            ),
        )
        """,
        downgrade="""op.drop_column("posts", "photo_urls")""",
        create_date="2026-01-13 09:05:00.000000",
    ),
    MigrationSpec(
        "merge_enum_fix_and_photo_urls",
        ("fix_connection_status_enum_case", "add_photo_urls_to_posts"),
        "Merge enum fix and photo URLs",
        "merge_enum_fix_and_photo_urls",
        create_date="2026-01-14 10:00:00.000000",
    ),
)

DEMO_PENDING = MigrationSpec(
    "b41f7a2c9e15",
    "merge_enum_fix_and_photo_urls",
    "Add visibility to posts",
    "add_visibility_to_posts",
    upgrade="""
    op.add_column(
        "posts",
        sa.Column("visibility", sa.String(16), nullable=False, server_default="public"),
    )
    op.create_index("ix_posts_visibility", "posts", ["visibility"])
    """,
    downgrade="""
    op.drop_index("ix_posts_visibility", table_name="posts")
    op.drop_column("posts", "visibility")
    """,
    create_date="2026-11-20 15:30:00.000000",
)

DEMO_PENDING_ENTRY = """\
### b41f7a2c9e15 - Add Visibility to Posts
- **Date**: 2026-11-20
- **Author**: Dana Developer
- **Migration File**: `versions/b41f7a2c9e15_add_visibility_to_posts.py`
- **Type**: ADD COLUMN
- **Description**: Adds a `visibility` column (public, connections, private) to posts, indexed
- **Tables Affected**: `posts`
- **Breaking Changes**: No
- **Rollback Plan**: `alembic downgrade -1` drops the index and the column
- **Tested in Dev**: Yes
- **Applied to Prod**: No
- **Notes**: Existing posts default to public
"""


def seed_document() -> str:
    """The team's SCHEMA_CHANGES.md as shipped with schemabot (a copy of the seed)."""
    return (
        resources.files("bot.demo").joinpath("files/SCHEMA_CHANGES.md").read_text(encoding="utf-8")
    )


def write_project(root: Path, history: tuple[MigrationSpec, ...] = SEED_HISTORY) -> None:
    """Write the Alembic project files and the seed document into `root`."""
    (root / VERSIONS).mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI, encoding="utf-8")
    (root / "migrations" / "env.py").write_text(ENV_PY, encoding="utf-8")
    (root / "migrations" / "script.py.mako").write_text(SCRIPT_MAKO, encoding="utf-8")
    (root / "SCHEMA_CHANGES.md").write_bytes(seed_document().encode("utf-8"))
    for spec in history:
        write_migration(root, spec)


def write_migration(root: Path, spec: MigrationSpec) -> Path:
    path = root / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec.source(), encoding="utf-8")
    return path


def create_origin(origin: Path, work: Path, author: Actor, branch: str = "main") -> Repo:
    """A bare `origin` holding the sandbox project, and a developer clone of it at `work`.

    Returns the developer clone (the caller closes it).
    """
    Repo.init(origin, bare=True, initial_branch=branch).close()
    developer = Repo.init(work, initial_branch=branch)
    write_project(work)
    developer.index.add(["alembic.ini", "migrations", "SCHEMA_CHANGES.md"])
    developer.index.commit("Alembic project with its history", author=author, committer=author)
    developer.create_remote("origin", str(origin.resolve()))
    developer.git.push("--set-upstream", "origin", branch)
    return developer
