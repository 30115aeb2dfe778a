"""A checkout's revision graph against Alembic's own ScriptDirectory on the same files."""

import ast
import json
import py_compile
import tempfile
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.revisions import (
    RevisionGraph,
)
from bot.git.checkout_graph import load_graph, missed_revisions
from bot.git.script_location import ScriptLocation
from tests.support.revision_files import (
    CORPORA,
    FIELDS,
    alembic,
    assert_same_as_alembic,
    revision_source,
    versions_at,
    write,
)


@pytest.mark.parametrize("name", CORPORA)
def test_a_real_history_reads_as_alembic_read_it(corpus: Path, name: str) -> None:
    expected = json.loads((corpus / name / "expected.json").read_text())
    graph = load_graph(corpus / name, versions_at(*expected["version_locations"]))
    assert graph.problems == ()
    assert list(graph.heads) == expected["heads"]
    assert list(graph.bases) == expected["bases"]
    assert set(graph.revisions) == set(expected["revisions"])
    unresolved = {}
    for rev, want in expected["revisions"].items():
        mine = graph.revisions[rev]
        assert sorted(mine.down_revisions) == want["down_revisions"]
        assert sorted(mine.depends_on) == want["depends_on"]
        assert (mine.path, mine.message) == (want["path"], want["message"])
        if mine.unresolved:
            unresolved[rev] = (mine.unresolved, mine.branch_labels, want["branch_labels"])
        else:
            assert sorted(mine.branch_labels) == want["branch_labels"]
    if name == "neutron":
        # `branch_labels = (cli.EXPAND_BRANCH,)`: imported constants, which only running tells.
        assert unresolved == {
            "599c6a226151": (("branch_labels",), (), ["expand"]),
            "30018084ec99": (("branch_labels",), (), ["contract"]),
        }
    else:
        assert unresolved == {}


def test_neutron_read_recursively_from_its_top_folder_is_the_same_graph(corpus: Path) -> None:
    expected = json.loads((corpus / "neutron/expected.json").read_text())
    listed = load_graph(corpus / "neutron", versions_at(*expected["version_locations"]))
    walked = load_graph(corpus / "neutron", versions_at("versions", recursive=True))
    assert walked.revisions == listed.revisions
    assert (walked.heads, walked.bases) == (listed.heads, listed.bases)


def is_literal(node: ast.expr | None) -> bool:
    try:
        ast.literal_eval(node) if node is not None else None
    except (ValueError, TypeError):
        return False
    return node is not None


def inert_copy(source: str) -> str:
    """The file with only what Alembic reads kept, so it imports without the project's packages.

    String statements stay where they are, and every other statement becomes `pass`, so a
    docstring after the imports stays after them. Values set by code are dropped.
    """
    kept = []
    for stmt in ast.parse(source).body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            kept.append(ast.get_source_segment(source, stmt) or "pass")
        elif isinstance(stmt, ast.Assign | ast.AnnAssign) and is_literal(stmt.value):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name) and t.id in FIELDS]
            value = ast.get_source_segment(source, stmt.value) if stmt.value else None
            kept.append(f"{' = '.join(names)} = {value}" if names else "pass")
        else:
            kept.append("pass")
    return "\n".join(kept) + "\n"


@pytest.mark.parametrize("name", CORPORA)
def test_alembic_itself_agrees_on_an_inert_copy_of_a_real_history(
    corpus: Path, name: str, tmp_path: Path
) -> None:
    """The projects' migrations import their own packages, so Alembic gets an inert copy."""
    expected = json.loads((corpus / name / "expected.json").read_text())
    for rev in expected["revisions"].values():
        source = (corpus / name / rev["path"]).read_text(encoding="utf-8")
        write(tmp_path, {rev["path"]: inert_copy(source)})
    ours = load_graph(corpus / name, versions_at(*expected["version_locations"]))
    script = alembic(tmp_path, *expected["version_locations"])
    assert_same_as_alembic(ours, script, tmp_path)


# Generated histories against Alembic


def test_a_generated_history_with_branches_merges_labels_and_dependencies(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "versions/1000_base.py": revision_source("1000"),
            "versions/2000_users.py": revision_source("2000", "1000"),
            "versions/3000_left.py": revision_source("3000", "2000"),
            "versions/3100_right.py": revision_source("3100", "2000"),
            "versions/4000_merge.py": revision_source("4000", ("3000", "3100")),
            "versions/5000_after.py": revision_source("5000", "4000"),
            "reports/a000_reports.py": revision_source("a000", labels="reports", depends="2000"),
            "reports/a100_more.py": revision_source("a100", "a000"),
            "versions/6000_needs_reports.py": revision_source("6000", "5000", depends="reports"),
            "versions/7000_needs_many.py": revision_source(
                "7000", "6000", depends=("a100", "3000")
            ),
        },
    )
    ours = load_graph(tmp_path, versions_at("versions", "reports"))
    script = alembic(tmp_path, "versions", "reports")
    assert_same_as_alembic(ours, script, tmp_path)
    # `a100` stays a head: being depended on does not make a revision a parent, in Alembic.
    assert ours.heads == ("7000", "a100")
    assert ours.bases == ("1000", "a000")
    assert ours.ancestors("6000") >= {"a000", "3100"}
    assert ours.problems == ()


@st.composite
def histories(draw: st.DrawFn) -> dict[str, str]:
    """Files of a random history: revisions on up to two earlier ones, maybe depending on one."""
    count = draw(st.integers(1, 9))
    ids = [f"{i:x}" * 4 for i in range(count)]
    labelled = draw(st.booleans())
    files = {}
    for i, rev in enumerate(ids):
        earlier = st.sampled_from(ids[:i] or ["unused"])
        downs = draw(st.lists(earlier, max_size=2, unique=True)) if i else []
        depends = draw(st.lists(earlier | st.just("first"), max_size=1)) if i and labelled else []
        label = "first" if labelled and i == 0 else None
        files[f"versions/{rev}_r.py"] = revision_source(
            rev, tuple(downs) or None, labels=label, depends=tuple(depends) or None
        )
    return files


@settings(max_examples=30, deadline=None)
@given(histories())
def test_random_histories_agree_with_alembics_revision_map(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = write(Path(folder), files)
        ours = load_graph(root, versions_at("versions"))
        assert_same_as_alembic(ours, alembic(root, "versions"), root)
    order = [r.revision for r in ours.ordered()]
    assert sorted(order) == sorted(ours.revisions)
    for rev in ours.revisions:
        assert all(order.index(a) < order.index(rev) for a in ours.ancestors(rev))


def test_the_listing_order_does_not_depend_on_the_order_files_are_read(corpus: Path) -> None:
    root = corpus / "redash"
    files = versions_at("versions").revision_files(root)
    sources = [(f.as_posix(), (root / f).read_text(encoding="utf-8")) for f in files]
    listed = RevisionGraph.from_sources(sources).ordered()
    assert RevisionGraph.from_sources(reversed(sources)).ordered() == listed
    graph = RevisionGraph.from_sources(sources)
    assert (listed[0].revision, listed[-1].revision) == (graph.bases[0], graph.heads[0])
    position = {r.revision: i for i, r in enumerate(listed)}
    assert all(position[a] < position[r] for r in position for a in graph.ancestors(r))


# Which files are revisions


def test_only_the_files_alembic_loads_are_revisions(tmp_path: Path) -> None:
    never = 'raise RuntimeError("never imported")\n'
    write(
        tmp_path,
        {
            "versions/1000_base.py": revision_source("1000"),
            "versions/2000_next.py": revision_source("2000", "1000"),
            "versions/sub/3000_nested.py": revision_source("3000", "2000"),
            "versions/README": "Generic single-database configuration.\n",
            "versions/EXPAND_HEAD": "2000\n",
            "versions/__init__.py": never,
            "versions/__init__x.py": never,
            "versions/.#2000_next.py": "root@host.1234",
            "versions/notes.txt": never,
            "versions/__pycache__/ghost.py": never,
            "versions/sub/__pycache__/ghost.py": never,
            "versions/stale.pyc": never,
        },
    )
    for recursive in (False, True):
        location = versions_at("versions", recursive=recursive)
        ours = [p.as_posix() for p in location.revision_files(tmp_path)]
        script = alembic(tmp_path, "versions", recursive_version_locations=recursive)
        theirs = sorted(
            Path(s.path).relative_to(tmp_path).as_posix() for s in script.walk_revisions()
        )
        assert sorted(ours) == theirs
        every_file = [
            p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()
        ]
        assert sorted(p for p in every_file if location.is_revision_path(p)) == theirs
        graph = load_graph(tmp_path, location)
        assert graph.problems == ()
        assert graph.heads == (("3000",) if recursive else ("2000",))


def test_a_compiled_revision_without_source_is_found_but_cannot_be_read(tmp_path: Path) -> None:
    write(tmp_path, {"versions/1000_base.py": revision_source("1000")})
    compiled = tmp_path / "versions/2000_next.py"
    compiled.write_text(revision_source("2000", "1000"))
    py_compile.compile(str(compiled), cfile=str(tmp_path / "versions/2000_next.pyc"))
    compiled.unlink()
    location = ScriptLocation(PurePosixPath("."), (PurePosixPath("versions"),), sourceless=True)
    script = alembic(tmp_path, "versions", sourceless=True)
    theirs = sorted(Path(s.path).name for s in script.walk_revisions())
    assert [p.name for p in location.revision_files(tmp_path)] == theirs
    graph = load_graph(tmp_path, location)
    [problem] = graph.problems
    assert (problem.kind, problem.path) == ("unparseable", "versions/2000_next.pyc")
    assert "without its source" in problem.detail
    assert graph.heads == ("1000",)


def test_a_link_to_a_file_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"versions/1000_base.py": revision_source("1000")})
    secret = write(tmp_path, {"secret.py": revision_source("5ec2e7", doc="a secret")})
    (repo / "versions/5ec2e7_link.py").symlink_to(secret / "secret.py")
    graph = load_graph(repo, versions_at("versions"))
    assert [(p.kind, p.path) for p in graph.problems] == [
        ("unparseable", "versions/5ec2e7_link.py")
    ]
    assert "outside the repository" in graph.problems[0].detail
    assert list(graph.revisions) == ["1000"]


# Broken histories


def test_folders_set_in_code_are_noticed_and_named_by_the_setting(corpus: Path) -> None:
    top_only = missed_revisions(corpus / "neutron", versions_at("versions"))
    recursive = missed_revisions(corpus / "neutron", versions_at("versions", recursive=True))

    assert top_only is not None and "SCHEMABOT_VERSION_LOCATIONS" in top_only
    assert "hold 1 revision file(s), but 132 files" in top_only
    assert recursive is None


def test_neutrons_expand_and_contract_heads_are_a_design(corpus: Path) -> None:
    expected = json.loads((corpus / "neutron" / "expected.json").read_text())

    graph = load_graph(corpus / "neutron", versions_at(*expected["version_locations"]))

    assert len(graph.heads) == 2 and graph.heads_by_design()
