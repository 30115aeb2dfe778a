"""Where a repository keeps its Alembic configuration, as the operator configured it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class AlembicLayout:
    """The ini (Alembic runs from its folder, as `cd backend && alembic upgrade` would), the
    section to read (`alembic -n tenant`), a script folder that overrides the ini's, and
    version folders that override what the ini says (a folder ending in `/**` is read
    recursively), all relative to the repository's root."""

    ini: str = "alembic.ini"
    section: str = "alembic"
    script_location: str | None = None
    version_locations: tuple[str, ...] = ()

    @property
    def ini_folder(self) -> PurePosixPath:
        return PurePosixPath(self.ini).parent

    def ini_dir(self, root: Path) -> Path:
        """The folder of the ini in a checkout at `root`."""
        return root.joinpath(*self.ini_folder.parts)
