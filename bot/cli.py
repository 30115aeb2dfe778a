"""The `schemabot` command line: the second front end on the same core as Slack."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, load_settings
from bot.core.text import plain
from bot.errors import SchemabotError
from bot.redact import Redactor, install_log_redaction

if TYPE_CHECKING:
    from bot.core.revisions import RevisionGraph

log = logging.getLogger("schemabot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    redact = Redactor()
    try:
        settings = _settings_for(args.command)
        redact = settings.redactor()
        install_log_redaction(redact)
        command: Callable[[argparse.Namespace, Settings], int] = args.run
        return command(args, settings)
    except (SchemabotError, ConfigError) as exc:
        print(f"schemabot: {redact(plain(exc.text))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _settings_for(command: str) -> Settings:
    """The settings; for `doctor`, a malformed one is its first FAIL line rather than an
    error without a report."""
    try:
        return load_settings()
    except ConfigError as exc:
        if command != "doctor":
            raise
        from bot.core.diagnosis import Check

        print(Check("settings", False, str(exc), "fix the key it names").line())
        raise SystemExit(1) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schemabot", description="Schema-change review for Alembic projects, in Slack."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="a walkthrough on embedded defaults, no Slack needed")
    demo.add_argument("--dir", type=Path, help="where to build the sandbox (default: a new folder)")
    demo.set_defaults(run=_demo)

    serve = sub.add_parser("serve", help="run the bot (Socket Mode or HTTP)")
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP address (default 0.0.0.0)")
    serve.set_defaults(run=_serve)

    scan = sub.add_parser("scan", help="one watcher cycle now, posting or updating cards")
    scan.add_argument("--json", action="store_true", help="print JSON")
    scan.set_defaults(run=_scan)

    revisions = sub.add_parser("revisions", help="the revision graph on the main branch")
    revisions.add_argument("--json", action="store_true", help="print JSON")
    revisions.add_argument(
        "--repo-dir", type=Path, help="read a local checkout instead of SCHEMABOT_REPO_URL"
    )
    revisions.set_defaults(run=_revisions)

    status = sub.add_parser("status", help="review state of one revision, or all pending")
    status.add_argument("revision", nargs="?", help="a revision id or a unique prefix")
    status.set_defaults(run=_status)

    draft = sub.add_parser("draft", help="a SCHEMA_CHANGES.md entry drafted from a migration")
    draft.add_argument("revision", help="a revision id or a unique prefix")
    draft.add_argument(
        "--force", action="store_true", help="draft even when the revision has an entry"
    )
    draft.set_defaults(run=_draft)

    doctor = sub.add_parser("doctor", help="check the whole setup before the first serve")
    doctor.set_defaults(run=_doctor)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.migrations.sandbox import protect_this_process
    from bot.running import serve
    from bot.slack.client import slack_client
    from bot.wiring import build_services

    settings.require("slack_bot_token", "channel", "repo_url")
    if not settings.socket_mode:
        settings.require("slack_signing_secret")
    log.info("settings: %s", settings.describe())
    _require_migration_interpreter(settings)
    protect_this_process()
    services = build_services(settings, slack_client(settings))
    services.sql.confine()  # what the preview sandbox cannot enforce here is logged now
    serve(services, port=args.port, host=args.host)
    return 0


def _require_migration_interpreter(settings: Settings) -> None:
    """Stop at start, with the reason, when Alembic's interpreter cannot serve."""
    from bot.migrations.runner import MigrationRunner

    result = MigrationRunner("", Redactor(), python=settings.migration_interpreter).probe()
    if not result.ok:
        raise ConfigError(
            f"SCHEMABOT_MIGRATION_PYTHON ({settings.migration_interpreter}) cannot run "
            f"Alembic for schemabot: {result.error}"
        )


def _scan(args: argparse.Namespace, settings: Settings) -> int:
    from bot.running import publish_all
    from bot.slack.client import slack_client
    from bot.wiring import build_services

    settings.require("slack_bot_token", "channel", "repo_url")
    services = build_services(settings, slack_client(settings))
    try:
        report = services.scanner.run()
        publish_all(services, report.touched, report.moved)
    finally:
        services.store.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return 0
    if report.first_scan:
        print(f"first scan: {report.history} revision(s) taken as history")
    for label, items in (
        ("new", report.new),
        ("changed", report.changed),
        ("removed", report.removed),
    ):
        for item in items:
            print(f"{label:8} {item.revision}  {item.branch}  {item.path}  {item.author_email}")
    for problem in report.problems:
        print(f"problem  {problem}")
    if not report.touched and not report.first_scan:
        print("nothing new")
    return 0


def _revisions(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.doc import SchemaDoc
    from bot.git.checkout_graph import load_graph, missed_revisions
    from bot.git.script_location import layout_location

    if args.repo_dir is not None:
        root = args.repo_dir
    else:
        _fresh_clone(settings)
        root = settings.clone_dir
    location = layout_location(root, settings.alembic_layout)
    graph = load_graph(root, location)
    missed = missed_revisions(root, location)
    doc_file = root / settings.doc
    doc = SchemaDoc.parse(doc_file.read_text(encoding="utf-8")) if doc_file.is_file() else None
    if args.json:
        print(json.dumps(_graph_json(graph, doc, missed), indent=2))
        return 0
    for revision in graph.ordered():
        marks = " (head)" if revision.revision in graph.heads else ""
        entry = doc is not None and doc.entry_for(revision.revision, revision.path) is not None
        down = ",".join(revision.down_revisions) or "<base>"
        print(
            f"{revision.revision}{marks}  <- {down}  {'doc' if entry else 'NO DOC'}  "
            f"{revision.message or ''}".rstrip()
        )
    for problem in graph.problems:
        print(f"problem: {problem.path}: {problem.detail}", file=sys.stderr)
    if missed is not None:
        print(f"warning: {missed}", file=sys.stderr)
    return 0


def _graph_json(graph: RevisionGraph, doc: object, missed: str | None) -> dict[str, object]:
    problems: list[dict[str, str | None]] = [
        {"kind": p.kind, "path": p.path, "revision": p.revision, "detail": p.detail}
        for p in graph.problems
    ]
    if missed is not None:
        problems.append(
            {"kind": "missed_folders", "path": None, "revision": None, "detail": missed}
        )
    from bot.core.doc import SchemaDoc

    revisions = []
    for revision in graph.ordered():
        item: dict[str, object] = dict(revision.to_json())
        item["doc_entry"] = isinstance(doc, SchemaDoc) and (
            doc.entry_for(revision.revision, revision.path) is not None
        )
        revisions.append(item)
    return {
        "heads": list(graph.heads),
        "revisions": revisions,
        "problems": problems,
    }


def _fresh_clone(settings: Settings) -> str:
    """Fetch the repository into the work dir and check out the main branch's tip.

    Returns the main branch's name.
    """
    from bot.git.clone import Clone

    settings.require("repo_url")
    clone = Clone(str(settings.repo_url), settings.clone_dir, settings.redactor())
    with clone.open() as repo:
        tips = clone.fetch(repo)
        main = settings.branch or clone.default_branch(repo, tips)
        if main not in tips:
            raise ConfigError(f"SCHEMABOT_BRANCH: the remote has no branch {main!r}")
        clone.checkout(repo, tips[main])
    return main


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from bot.core.status_report import list_text, status_text
    from bot.wiring import build_services

    services = build_services(settings)
    try:
        if args.revision is None:
            print(plain(list_text(services.pending(), services.store.list_locks())))
            recent = services.store.recent_audit(limit=10)
            if recent:
                print("Recent activity:")
                for event in recent:
                    when = f"{event.at:%Y-%m-%d %H:%M}"
                    print(f"  {when} {event.actor} {event.action} {event.revision or ''}".rstrip())
            return 0
        revision = services.reviews.resolve(args.revision)
        print(plain(status_text(services.snapshot(revision), services.store.audit_for(revision))))
    finally:
        services.store.close()
    return 0


def _draft(args: argparse.Namespace, settings: Settings) -> int:
    from bot.git.scan import MAIN_BRANCH
    from bot.wiring import build_services

    settings.require("repo_url")
    main = _fresh_clone(settings)
    services = build_services(settings)
    try:
        services.store.set_meta(MAIN_BRANCH, main)
        text, documented = services.draft(args.revision)
    finally:
        services.store.close()
    if documented and not args.force:
        raise SchemabotError(
            f"{args.revision} already has an entry in {settings.doc} (--force drafts one anyway)"
        )
    print(text, end="")
    return 0


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Every check, one line each; exit 0 only when all pass."""
    from bot.doctor import diagnose, report

    if not args.verbose:
        # Each failure is a line of the report; the libraries' own retries would repeat it.
        logging.getLogger().setLevel(logging.CRITICAL)
    return 0 if report(diagnose(settings), print) else 1


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    """The walkthrough; it ignores the configured settings and uses embedded defaults."""
    from bot.demo.walkthrough import run_demo

    if not args.verbose:
        logging.getLogger().setLevel(logging.WARNING)
    run_demo(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
