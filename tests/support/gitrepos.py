"""Real git repositories for tests: a bare origin, a developer who pushes, the bot's side."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from git import Actor, Repo

from bot.demo.project import MigrationSpec, create_origin, write_migration

DANA = Actor("Dana Developer", "dana@example.com")
OMAR = Actor("Omar Other", "omar@example.com")


@dataclass
class Developer:
    """A teammate's clone of the origin, committing and pushing as they would."""

    repo: Repo
    origin: Path

    @property
    def root(self) -> Path:
        return Path(str(self.repo.working_tree_dir))

    def switch(self, branch: str, create: bool = False) -> None:
        if create:
            self.repo.git.checkout("-b", branch)
        else:
            self.repo.git.checkout(branch)

    def add_migration(
        self,
        spec: MigrationSpec,
        author: Actor = DANA,
        message: str | None = None,
        committer: Actor | None = None,
    ) -> str:
        write_migration(self.root, spec)
        message = message or f"Add migration {spec.revision}"
        return self.commit([spec.path], message, author, committer)

    def write(self, path: str, text: str, author: Actor = DANA, message: str = "Edit") -> str:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        return self.commit([path], message, author)

    def remove(self, path: str, author: Actor = DANA) -> str:
        self.repo.index.remove([path], working_tree=True)
        return self.repo.index.commit(f"Remove {path}", author=author, committer=author).hexsha

    def commit(
        self, paths: list[str], message: str, author: Actor = DANA, committer: Actor | None = None
    ) -> str:
        self.repo.index.add(paths)
        return self.repo.index.commit(message, author=author, committer=committer or author).hexsha

    def push(self, branch: str | None = None, force: bool = False) -> None:
        branch = branch or self.repo.active_branch.name
        args = ["--force"] if force else []
        self.repo.git.push(*args, "origin", f"{branch}:{branch}")

    def pull(self) -> None:
        self.repo.git.pull("--rebase", "origin", self.repo.active_branch.name)


def make_origin(tmp_path: Path) -> Developer:
    """A bare origin holding the sandbox project (seed history), and Dana's clone of it."""
    origin = tmp_path / "origin.git"
    repo = create_origin(origin, tmp_path / "dana", DANA)
    return Developer(repo, origin)
