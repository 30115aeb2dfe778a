"""Throwaway PostgreSQL databases for tests, cloned from an empty template in milliseconds."""

from __future__ import annotations

import os
import secrets

import psycopg
from psycopg import sql

SERVER = os.environ.get("SCHEMABOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
TEMPLATE = "schemabot_test_template"


def admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(f"{SERVER}/postgres", autocommit=True)


def ensure_template() -> None:
    with admin() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TEMPLATE]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))


def create_database() -> str:
    """A new empty database; returns its name."""
    name = f"schemabot_test_{secrets.token_hex(6)}"
    with admin() as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE)
            )
        )
    return name


def drop_database(name: str) -> None:
    with admin() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def url(name: str) -> str:
    return f"{SERVER.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
