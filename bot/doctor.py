"""`schemabot doctor`: every check an operator needs before the first `serve`, each `ok` or
`FAIL` with what to do. Checks that need an earlier one (the clone, the layout) say so when
it failed instead of failing again for the same reason.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.core.diagnosis import Check
from bot.core.revisions import RevisionGraph
from bot.environments import Environment, environments_of
from bot.errors import SchemabotError
from bot.git.checkout_graph import load_graph, missed_revisions
from bot.git.checkouts import export_tree
from bot.git.clone import Clone
from bot.git.script_location import ScriptLocation, layout_location
from bot.migrations.runner import Checkout, MigrationRunner, last_line
from bot.migrations.sandbox import probe
from bot.migrations.schema_copy import find_tool, server_major
from bot.migrations.squawk import squawk_version
from bot.migrations.versions import DatabaseUnavailable, current_versions
from bot.redact import Redactor
from bot.slack.diagnosis import slack_checks
from bot.wiring import preview_runner, private_paths


@dataclass
class _Found:
    """What the checks learn on the way, for the checks after them."""

    main: str | None = None
    location: ScriptLocation | None = None
    graph: RevisionGraph | None = None


def diagnose(settings: Settings) -> Iterator[Check]:
    """Every check, in order, as it completes. A check that breaks is a FAIL line, with
    what broke it, not the end of the report."""
    redact = settings.redactor()
    found = _Found()
    clone = Clone(settings.repo_url or "", settings.clone_dir, redact)
    runner = preview_runner(settings, redact)
    checks: list[tuple[str, Callable[[], Iterator[Check] | Check]]] = [
        ("settings", lambda: _required(settings)),
        ("slack", lambda: slack_checks(settings)),
        ("repository", lambda: _repository(settings, clone, found)),
        ("alembic layout", lambda: _layout(settings, found)),
        ("migration interpreter", lambda: _interpreter(settings, runner)),
        ("preview sandbox", lambda: _sandbox(settings)),
        ("preview", lambda: _preview(settings, clone, runner, found)),
        ("production", lambda: _environments(settings, found, redact)),
        ("lock trace", lambda: _trace_tools(settings)),
        ("squawk", _squawk),
    ]
    for name, check in checks:
        try:
            done = check()
            yield from [done] if isinstance(done, Check) else done
        except Exception as exc:
            yield Check(name, False, redact(f"the check broke: {type(exc).__name__}: {exc}"))


def _required(settings: Settings) -> Check:
    names = ["slack_bot_token", "channel", "repo_url"]
    if not settings.socket_mode:
        names.append("slack_signing_secret")
    try:
        settings.require(*names)
    except SchemabotError as exc:
        return Check("settings", False, str(exc), "set it in the environment or schemabot.toml")
    mode = "Socket Mode" if settings.socket_mode else "HTTP"
    return Check("settings", True, f"every setting `serve` needs is there ({mode})")


def _repository(settings: Settings, clone: Clone, found: _Found) -> Iterator[Check]:
    if not settings.repo_url:
        yield Check("repository", False, "SCHEMABOT_REPO_URL is not set", "set it")
        return
    try:
        with clone.open() as repo:
            tips = clone.fetch(repo)
            main = settings.branch or clone.default_branch(repo, tips)
            if main not in tips:
                yield Check(
                    "repository",
                    False,
                    f"the remote has no branch {main!r}",
                    "set SCHEMABOT_BRANCH to the main branch",
                )
                return
            clone.checkout(repo, tips[main])
            found.main = main
            yield Check("repository", True, f"fetched {len(tips)} branch(es); main is {main!r}")
            refused = clone.dry_run_push(repo, tips[main], main)
            if refused is not None:
                yield Check(
                    "push rights",
                    False,
                    f"a dry-run push to {main!r} was refused ({refused})",
                    "give schemabot's credentials write access to the main branch",
                )
                return
            yield Check("push rights", True, f"a dry-run push to {main!r} is accepted")
    except SchemabotError as exc:
        yield Check("repository", False, str(exc), "check SCHEMABOT_REPO_URL and credentials")


def _layout(settings: Settings, found: _Found) -> Iterator[Check]:
    if found.main is None:
        yield Check("alembic layout", False, "not checked: the repository could not be read")
        return
    try:
        location = layout_location(settings.clone_dir, settings.alembic_layout)
    except SchemabotError as exc:
        yield Check("alembic layout", False, str(exc))
        return
    found.location = location
    found.graph = load_graph(settings.clone_dir, location)
    folders = ", ".join(f"`{folder}`" for folder in location.version_dirs)
    yield Check(
        "alembic layout",
        True,
        f"`{settings.alembic_ini}`: scripts in `{location.script_dir}`, revisions in "
        f"{folders} ({len(found.graph.revisions)} found)",
    )
    missed = missed_revisions(settings.clone_dir, location)
    if missed is not None:
        yield Check("version folders", False, missed)


def _interpreter(settings: Settings, runner: MigrationRunner) -> Check:
    result = runner.probe()
    if not result.ok:
        return Check(
            "migration interpreter",
            False,
            f"{settings.migration_interpreter}: {result.error}",
            "point SCHEMABOT_MIGRATION_PYTHON at a Python 3.8+ with Alembic 1.7+ and the "
            "team's application installed",
        )
    versions = ", ".join(f"{name} {version}" for name, version in result.found.items())
    return Check("migration interpreter", True, f"{settings.migration_interpreter} ({versions})")


def _sandbox(settings: Settings) -> Check:
    gaps = probe(private_paths(settings), settings.migration_interpreter).gaps()
    if not gaps:
        return Check("preview sandbox", True, "no network, own processes and mounts, nobody")
    isolated = not any("network" in gap for gap in gaps)
    return Check(
        "preview sandbox",
        isolated,
        "; ".join(gaps),
        ""
        if isolated
        else "allow unshare (in Docker: --security-opt seccomp=unconfined), or set "
        "SCHEMABOT_SQL_PREVIEW=off",
    )


def _preview(
    settings: Settings, clone: Clone, runner: MigrationRunner, found: _Found
) -> Iterator[Check]:
    graph = found.graph
    if graph is None or found.main is None:
        yield Check("preview", False, "not checked: the Alembic layout could not be read")
        return
    if not graph.heads:
        yield Check("preview", True, "no revision to render yet")
        return
    head = graph.revisions[graph.heads[0]]
    start = head.down_revisions[0] if head.down_revisions else None
    with tempfile.TemporaryDirectory(prefix="schemabot-doctor-") as folder:
        tree, home = Path(folder, "tree"), Path(folder, "home")
        tree.mkdir()
        home.mkdir()
        with clone.open() as repo:
            tip = repo.commit(f"refs/remotes/origin/{found.main}").hexsha
        export_tree(clone, tip, tree)
        confinement = probe(private_paths(settings), settings.migration_interpreter)
        confinement.prepare(Path(folder), writable=[home])
        result = runner.offline_sql(
            Checkout(tree), [(head.revision, start, head.revision)], confinement, home
        )
    rendered = result.rendered.get(head.revision)
    if rendered is None or rendered.sql is None:
        why = (rendered.error if rendered else None) or result.error or "no SQL"
        yield Check(
            "preview",
            False,
            f"the head `{head.revision}` does not render offline: {last_line(why) or ''}",
            "install what env.py imports into SCHEMABOT_MIGRATION_PYTHON's environment; an "
            "env.py that needs settings to render gets none in a preview",
        )
        return
    yield Check("preview", True, f"the head `{head.revision}` renders offline in the sandbox")


def _environments(settings: Settings, found: _Found, redact: Redactor) -> Iterator[Check]:
    """Each environment's database: reachable, its `alembic_version` known to the graph."""
    for environment in environments_of(settings):
        yield _database(environment, found, redact)


def _database(where: Environment, found: _Found, redact: Redactor) -> Check:
    name = where.name if where.is_production else f"environment {where.name}"
    if not where.database_url:
        return Check(name, False, f"{where.url_source} is not set", "set it to apply")
    try:
        versions = current_versions(where.database_url, redact, name=where.name)
    except DatabaseUnavailable as exc:
        return Check(name, False, str(exc), "check the URL, the network and the user")
    unknown = sorted(versions - set(found.graph.revisions)) if found.graph else []
    if unknown and not where.read_only:
        return Check(
            name,
            False,
            f"alembic_version holds {', '.join(unknown)}, unknown to the main branch's graph",
            f"check {where.url_source} and the version folders",
        )
    shown = ", ".join(sorted(versions)) or "no revision yet"
    mode = " (read-only)" if where.read_only else ""
    return Check(name, True, f"reachable{mode}; at {shown}")


def _trace_tools(settings: Settings) -> Iterator[Check]:
    """`pg_dump` and `pg_restore` of production's major version, which the lock trace needs
    (nothing to check when it is off or production is not PostgreSQL)."""
    url = settings.database_url
    if not settings.lock_trace or not url or make_url(url).get_backend_name() != "postgresql":
        return
    try:
        major = server_major(url)
    except SQLAlchemyError:
        yield Check("lock trace", False, "not checked: production did not answer")
        return
    missing = [name for name in ("pg_dump", "pg_restore") if find_tool(name, major) is None]
    if missing:
        yield Check(
            "lock trace",
            False,
            f"no {' or '.join(missing)} of PostgreSQL {major}: cards show no lock trace",
            f"install postgresql-client-{major}, or set SCHEMABOT_LOCK_TRACE=false",
        )
        return
    yield Check("lock trace", True, f"pg_dump and pg_restore of PostgreSQL {major}")


def _squawk() -> Check:
    version = squawk_version()
    if version is None:
        return Check("squawk", False, "not installed, or it does not run", "pip install squawk-cli")
    return Check("squawk", True, version)


def report(checks: Iterator[Check], say: Callable[[str], None]) -> bool:
    """Print each check as it completes; True when every one passed."""
    passed = True
    for check in checks:
        say(check.line())
        passed = passed and check.ok
    return passed
