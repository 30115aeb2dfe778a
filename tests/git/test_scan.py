"""The watcher cycle on real git repositories: what is new, changed, removed, exactly once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config

from bot.config import Settings
from bot.demo.project import DEMO_PENDING, MigrationSpec
from bot.git.clone import Clone, WatchError
from bot.git.scan import Scanner
from bot.redact import Redactor
from storage.store import Store
from tests.conftest import FixedClock
from tests.support.gitrepos import OMAR, Developer, make_origin

NEXT = MigrationSpec(
    "c9d8e7f6a5b4",
    DEMO_PENDING.revision,
    "Add bio to users",
    "add_bio_to_users",
    upgrade='op.add_column("users", sa.Column("bio", sa.Text))',
    downgrade='op.drop_column("users", "bio")',
)


def scanner(tmp_path: Path, dev: Developer, store: Store, **settings: object) -> Scanner:
    config = Settings(repo_url=str(dev.origin), workdir=tmp_path / "bot", **settings)  # type: ignore[arg-type]
    redact = Redactor()
    return Scanner(Clone(config.repo_url or "", config.clone_dir, redact), store, config, redact)


@pytest.fixture
def dev(tmp_path: Path) -> Developer:
    return make_origin(tmp_path)


def test_first_scan_without_database_takes_everything_as_history(
    tmp_path: Path, dev: Developer, store: Store
) -> None:
    report = scanner(tmp_path, dev, store).run()

    assert report.first_scan and report.main_branch == "main"
    assert report.history == 6 and report.new == ()
    assert store.list_revisions(pending_only=True) == []


def test_a_pushed_revision_is_new_exactly_once_across_scans_and_restarts(
    tmp_path: Path, dev: Developer, store: Store, state_path: Path, clock: FixedClock
) -> None:
    scanner(tmp_path, dev, store).run()
    commit = dev.add_migration(DEMO_PENDING)
    dev.push()

    report = scanner(tmp_path, dev, store).run()

    assert [item.to_json() for item in report.new] == [
        {
            "revision": DEMO_PENDING.revision,
            "branch": "main",
            "commit": commit,
            "path": DEMO_PENDING.path,
            "author_name": "Dana Developer",
            "author_email": "dana@example.com",
        }
    ]
    assert scanner(tmp_path, dev, store).run().touched == ()
    store.close()
    with Store.open(state_path, clock) as reopened:
        assert scanner(tmp_path, dev, reopened).run().touched == ()
        record = reopened.get_revision(DEMO_PENDING.revision)
        assert record is not None and record.on_main and not record.history


def test_a_branch_revision_is_new_then_merging_it_is_not_new_again(
    tmp_path: Path, dev: Developer, store: Store
) -> None:
    scanner(tmp_path, dev, store).run()
    dev.switch("feature/visibility", create=True)
    dev.add_migration(DEMO_PENDING, author=OMAR)
    dev.push()

    report = scanner(tmp_path, dev, store).run()
    assert [(i.revision, i.branch, i.author_email) for i in report.new] == [
        (DEMO_PENDING.revision, "feature/visibility", "omar@example.com")
    ]
    record = store.get_revision(DEMO_PENDING.revision)
    assert record is not None and not record.on_main

    dev.switch("main")
    dev.repo.git.merge("--no-ff", "feature/visibility", "-m", "Merge visibility")
    dev.push("main")
    dev.repo.git.push("origin", "--delete", "feature/visibility")

    report = scanner(tmp_path, dev, store).run()
    assert report.new == () and report.removed == ()
    assert [item.revision for item in report.changed] == [DEMO_PENDING.revision]
    record = store.get_revision(DEMO_PENDING.revision)
    assert record is not None and record.on_main and record.removed_at is None


def test_changed_and_removed_revision_files(tmp_path: Path, dev: Developer, store: Store) -> None:
    scanner(tmp_path, dev, store).run()
    dev.add_migration(DEMO_PENDING)
    dev.push()
    scanner(tmp_path, dev, store).run()
    first = store.get_revision(DEMO_PENDING.revision)

    edited = DEMO_PENDING.source().replace('server_default="public"', 'server_default="private"')
    dev.write(DEMO_PENDING.path, edited, message="Default to private")
    dev.push()
    report = scanner(tmp_path, dev, store).run()
    assert [item.revision for item in report.changed] == [DEMO_PENDING.revision]
    second = store.get_revision(DEMO_PENDING.revision)
    assert first is not None and second is not None and first.blob_sha != second.blob_sha

    dev.remove(DEMO_PENDING.path)
    dev.push()
    report = scanner(tmp_path, dev, store).run()
    assert [item.revision for item in report.removed] == [DEMO_PENDING.revision]


def test_a_force_push_that_drops_a_revision_removes_it(
    tmp_path: Path, dev: Developer, store: Store
) -> None:
    scanner(tmp_path, dev, store).run()
    dev.switch("wip", create=True)
    dev.add_migration(DEMO_PENDING)
    dev.push()
    scanner(tmp_path, dev, store).run()

    dev.repo.git.reset("--hard", "main")
    dev.add_migration(replace(NEXT, down_revision="merge_enum_fix_and_photo_urls"))
    dev.push(force=True)
    report = scanner(tmp_path, dev, store).run()

    assert [item.revision for item in report.removed] == [DEMO_PENDING.revision]
    assert [item.revision for item in report.new] == [NEXT.revision]


def test_first_scan_with_a_database_takes_only_production_history(
    tmp_path: Path, dev: Developer, store: Store
) -> None:
    dev.add_migration(DEMO_PENDING)
    dev.push()
    production = tmp_path / "prod.db"
    config = Config(str(dev.root / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", f"sqlite:///{production}")
    command.upgrade(config, "merge_enum_fix_and_photo_urls")

    report = scanner(tmp_path, dev, store, database_url=f"sqlite:///{production}").run()

    assert report.history == 6
    assert [item.revision for item in report.new] == [DEMO_PENDING.revision]
    assert report.new[0].author_email == "dana@example.com"


def test_a_broken_revision_file_is_reported_not_fatal(
    tmp_path: Path, dev: Developer, store: Store
) -> None:
    scanner(tmp_path, dev, store).run()
    dev.write("migrations/versions/0bad_broken.py", "revision = (\n", message="Broken")
    dev.add_migration(DEMO_PENDING)
    dev.push()

    report = scanner(tmp_path, dev, store).run()

    assert [item.revision for item in report.new] == [DEMO_PENDING.revision]
    assert len(report.problems) == 1 and "0bad_broken.py" in report.problems[0]


def test_a_revision_file_too_large_to_parse_is_a_problem_read_no_further(
    tmp_path: Path, dev: Developer, store: Store
) -> None:
    """Ten MiB of `x = 1` compress to a few KiB in a push and take gigabytes as a syntax
    tree: the scan looks at the blob's size first."""
    scanner(tmp_path, dev, store).run()
    huge = 'revision = "0fat"\ndown_revision = None\n' + "x = 1\n" * (2 * 1024 * 1024)
    dev.write("migrations/versions/0fat_huge.py", huge, message="Huge")
    dev.add_migration(DEMO_PENDING)
    dev.push()

    report = scanner(tmp_path, dev, store).run()

    assert [item.revision for item in report.new] == [DEMO_PENDING.revision]
    assert len(report.problems) == 1
    assert (
        "0fat_huge.py" in report.problems[0]
        and "parses revision files of up to" in (report.problems[0])
    )


@pytest.mark.parametrize(
    "head",
    [b"# -*- coding: no-such-codec -*-\n", b"# -*- coding: ascii -*-\n# caf\xc3\xa9\n"],
    ids=["unknown encoding", "not its declared encoding"],
)
def test_a_revision_file_not_readable_as_text_is_a_problem_and_the_scan_goes_on(
    tmp_path: Path, dev: Developer, store: Store, head: bytes
) -> None:
    scanner(tmp_path, dev, store).run()
    odd = dev.root / "migrations" / "versions" / "0odd_encoding.py"
    odd.write_bytes(head + b'revision = "0odd"\ndown_revision = None\n')
    dev.commit([str(odd.relative_to(dev.root))], "Odd bytes")
    dev.add_migration(DEMO_PENDING)
    dev.push()

    report = scanner(tmp_path, dev, store).run()

    assert [item.revision for item in report.new] == [DEMO_PENDING.revision]
    assert len(report.problems) == 1
    assert "0odd_encoding.py" in report.problems[0]
    assert "not text in its declared encoding" in report.problems[0]


def test_an_unreachable_origin_is_a_clear_error(tmp_path: Path, store: Store) -> None:
    config = Settings(repo_url=str(tmp_path / "nowhere.git"), workdir=tmp_path / "bot")
    redact = Redactor()
    scan = Scanner(
        Clone(str(tmp_path / "nowhere.git"), config.clone_dir, redact), store, config, redact
    )

    with pytest.raises(WatchError, match="cannot clone"):
        scan.run()


def test_a_renamed_pending_file_is_followed_on_main_and_on_its_branch(
    tmp_path: Path, dev: Developer, store: Store
) -> None:
    scan = scanner(tmp_path, dev, store)
    scan.run()
    dev.add_migration(DEMO_PENDING)
    dev.push()
    scan.run()
    renumbered = f"migrations/versions/0042_{DEMO_PENDING.slug}.py"
    dev.repo.git.mv(DEMO_PENDING.path, renumbered)
    dev.repo.index.commit("Renumber the migrations")
    dev.push()

    report = scan.run()

    record = store.get_revision(DEMO_PENDING.revision)
    assert record is not None and record.path == renumbered
    assert [item.revision for item in report.changed] == [DEMO_PENDING.revision]
    assert ("old_path", DEMO_PENDING.path) in store.audit_for(DEMO_PENDING.revision)[
        -1
    ].detail.items()


def test_the_author_is_who_added_the_file_not_who_touched_it_last(
    tmp_path: Path, dev: Developer, store: Store
) -> None:
    scan = scanner(tmp_path, dev, store)
    scan.run()
    dev.add_migration(DEMO_PENDING)
    dev.write(DEMO_PENDING.path, DEMO_PENDING.source() + "\n", author=OMAR, message="Format")
    dev.push()

    [seen] = scan.run().new

    assert (seen.author_name, seen.author_email) == ("Dana Developer", "dana@example.com")
