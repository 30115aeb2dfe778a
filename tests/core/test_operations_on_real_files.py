"""Files that cannot be read, and the public corpus of real migrations."""

import json
from pathlib import Path

import pytest

from bot.core.operations import MigrationAnalysis, analyze


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
