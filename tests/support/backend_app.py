"""A team's backend as real projects lay it out, and the virtualenv its migrations need.

`backend/alembic.ini` with `script_location = app/alembic`, run from `backend/`; an `env.py`
that imports the application (`from app.core.config import settings`, `from app.models
import metadata`) and takes its URL from the app's settings, not from the ini; the settings
come from a library only the app's virtualenv has (`teamsettings`, in the role
pydantic-settings plays in real projects: it validates the environment and, like it, prints
the start of the values it got when one is missing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from dataclasses import dataclass
from pathlib import Path

from git import Repo

from bot.demo.project import seed_document
from tests.support.gitrepos import DANA, Developer

INITIAL = "a1b2c3d4e5f6"
PENDING = "b2c3d4e5f6a7"
VERSIONS = "backend/app/alembic/versions"

TEAMSETTINGS = '''\
"""Settings from the environment, validated: what pydantic-settings does for real apps."""
import os
import typing


class ValidationError(ValueError):
    pass


class BaseSettings:
    def __init__(self):
        fields = typing.get_type_hints(type(self))
        missing = [name for name in fields if name not in os.environ and not hasattr(self, name)]
        if missing:
            given = {
                name: (os.environ[name][:9] + "...")
                for name in fields
                if name in os.environ
            }
            raise ValidationError(
                "%d validation error for %s\\n" % (len(missing), type(self).__name__)
                + "\\n".join(
                    "%s\\n  Field required [type=missing, input_value=%r]" % (name, given)
                    for name in missing
                )
            )
        for name in fields:
            setattr(self, name, os.environ.get(name, getattr(self, name, None)))
'''

FILES = {
    "backend/alembic.ini": """\
        [alembic]
        script_location = app/alembic
        prepend_sys_path = .
        # No sqlalchemy.url: the application's settings hold the database URL.

        [loggers]
        keys = root,sqlalchemy,alembic

        [handlers]
        keys = console

        [formatters]
        keys = generic

        [logger_root]
        level = WARN
        handlers = console
        qualname =

        [logger_sqlalchemy]
        level = WARN
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
        """,
    "backend/app/__init__.py": "",
    "backend/app/core/__init__.py": "",
    "backend/app/core/config.py": """\
        from teamsettings import BaseSettings


        class Settings(BaseSettings):
            DATABASE_URL: str
            SECRET_KEY: str
            PROJECT_NAME: str = "backend"


        settings = Settings()
        """,
    "backend/app/models.py": """\
        import sqlalchemy as sa

        metadata = sa.MetaData()
        posts = sa.Table(
            "posts",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("body", sa.Text, nullable=False),
        )
        """,
    "backend/app/alembic/env.py": """\
        from logging.config import fileConfig

        from alembic import context
        from sqlalchemy import create_engine, pool

        from app.core.config import settings
        from app.models import metadata

        config = context.config
        if config.config_file_name is not None:
            fileConfig(config.config_file_name)


        def run_migrations_offline():
            context.configure(
                url=settings.DATABASE_URL,
                target_metadata=metadata,
                literal_binds=True,
                dialect_opts={"paramstyle": "named"},
            )
            with context.begin_transaction():
                context.run_migrations()


        def run_migrations_online():
            engine = create_engine(settings.DATABASE_URL, poolclass=pool.NullPool)
            with engine.connect() as connection:
                context.configure(connection=connection, target_metadata=metadata)
                with context.begin_transaction():
                    context.run_migrations()


        if context.is_offline_mode():
            run_migrations_offline()
        else:
            run_migrations_online()
        """,
    "backend/app/alembic/script.py.mako": '''\
        """${message}"""
        from alembic import op
        import sqlalchemy as sa
        ${imports if imports else ""}
        revision = ${repr(up_revision)}
        down_revision = ${repr(down_revision)}
        branch_labels = None
        depends_on = None


        def upgrade():
            ${upgrades if upgrades else "pass"}


        def downgrade():
            ${downgrades if downgrades else "pass"}
        ''',
    f"{VERSIONS}/{INITIAL}_create_posts.py": f'''\
        """Create posts

        Revision ID: {INITIAL}
        Revises:
        """
        from alembic import op
        import sqlalchemy as sa

        revision = "{INITIAL}"
        down_revision = None
        branch_labels = None
        depends_on = None


        def upgrade():
            op.create_table(
                "posts",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("body", sa.Text, nullable=False),
            )


        def downgrade():
            op.drop_table("posts")
        ''',
}

PENDING_PATH = f"{VERSIONS}/{PENDING}_add_visibility.py"
PENDING_SOURCE = f'''\
"""Add visibility to posts

Revision ID: {PENDING}
Revises: {INITIAL}
"""
from alembic import op
import sqlalchemy as sa

revision = "{PENDING}"
down_revision = "{INITIAL}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("posts", sa.Column("visibility", sa.String(16), nullable=True))


def downgrade():
    op.drop_column("posts", "visibility")
'''
PENDING_ENTRY = f"""### {PENDING} - Add Visibility to Posts
- **Date**: 2026-12-01
- **Author**: Dana Developer
- **Migration File**: `{PENDING_PATH}`
- **Type**: ADD COLUMN
- **Description**: Posts get a nullable visibility
- **Tables Affected**: `posts`
- **Breaking Changes**: No
- **Rollback Plan**: Downgrade drops the column
- **Tested in Dev**: Yes
- **Applied to Prod**: No
- **Notes**: None
"""


def make_backend_origin(tmp_path: Path) -> Developer:
    """A bare origin holding the backend (its first revision only), and Dana's clone."""
    origin = tmp_path / "origin.git"
    Repo.init(origin, bare=True, initial_branch="main").close()
    work = tmp_path / "dana"
    repo = Repo.init(work, initial_branch="main")
    for path, text in FILES.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    (work / "SCHEMA_CHANGES.md").write_bytes(seed_document().encode("utf-8"))
    repo.index.add([*FILES, "SCHEMA_CHANGES.md"])
    repo.index.commit("The backend and its first migration", author=DANA, committer=DANA)
    repo.create_remote("origin", str(origin.resolve()))
    repo.git.push("--set-upstream", "origin", "main")
    return Developer(repo, origin)


@dataclass(frozen=True)
class AppInterpreter:
    """A virtualenv for the application: Alembic and its drivers, plus `teamsettings`,
    which schemabot's own environment does not have; schemabot itself is not installed."""

    python: Path


def make_app_interpreter(folder: Path) -> AppInterpreter:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120
    )
    python = folder / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "teamsettings.py").write_text(TEAMSETTINGS, encoding="utf-8")
    # Alembic, SQLAlchemy and psycopg from schemabot's environment, as plain paths: the
    # editable install of schemabot there is a .pth hook, which a path line does not run.
    ours = sysconfig.get_paths()["purelib"]
    (Path(site) / "schemabot_test_dependencies.pth").write_text(ours + "\n", encoding="utf-8")
    return AppInterpreter(python)


def write_env_file(path: Path, **values: str) -> Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    os.chmod(path, 0o600)
    return path
