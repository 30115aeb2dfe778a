"""The preview sandbox: where code nobody has approved runs, with no secret and no network.

A card's offline SQL imports the branch's `env.py` and revision modules, written by whoever
pushed. They run in a child that gets:

- an environment built from an allowlist: no Slack token, no setting, no database URL but
  the dialect (`postgresql://`), `HOME` and `TMPDIR` in a throwaway folder;
- fresh Linux namespaces (`unshare`): no network at all, its own process table (so no
  `/proc/<pid>/environ` of schemabot or of whatever started it), its own mounts, where
  schemabot's work folder, state file, configuration and env files are covered up, and
  so are the credentials in its home folder (its ssh keys, git's and gpg's, `.pgpass`...);
- another user (`nobody`) when schemabot runs as root, so file permissions keep it out too;
- limits on CPU time, memory, file size, open files and (with its own user) processes;
  the runner adds a wall-clock timeout and a cap on what it reads of the output.

What the host cannot enforce is found once, at start (`probe`), logged, and shown by
`schemabot doctor`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

NOBODY = 65534
PR_SET_DUMPABLE = 4
JAIL = Path(__file__).with_name("jail.py")
# What a user keeps in their home folder to push, sign or connect: schemabot's, never a
# preview's (whose HOME is a throwaway folder).
HOME_CREDENTIALS = (
    ".ssh",
    ".gnupg",
    ".git-credentials",
    ".gitconfig",
    ".config/git",
    ".netrc",
    ".pgpass",
    ".docker",
    ".aws",
    ".kube",
    ".config/gcloud",
)
NAMESPACES = ("--fork", "--kill-child", "--pid", "--mount-proc", "--net")
LIMITS: Mapping[str, int] = {
    "cpu_seconds": 120,
    "memory_bytes": 4 * 1024**3,
    "file_bytes": 64 * 1024**2,
    "open_files": 256,
}
PROCESS_LIMIT = 256
PREVIEW_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class Confinement:
    """How this host can confine a preview: which namespaces, and as which user."""

    unshare: tuple[str, ...] | None
    """The `unshare` command line that isolates network, processes and mounts, if any works."""
    uid: int | None
    """The user to run as: `nobody` when schemabot runs as root, else None (its own user)."""
    hidden: tuple[str, ...] = field(default=())
    """schemabot's own files, covered inside the sandbox."""
    exposed: tuple[str, ...] = field(default=())
    """Folders the interpreters need, made reachable for `uid` (an interpreter under a
    folder only root may enter, such as /root, would otherwise not start)."""

    def gaps(self) -> tuple[str, ...]:
        """What this host cannot enforce, in words for the log and `schemabot doctor`."""
        missing: list[str] = []
        if self.unshare is None:
            missing += [
                "no network isolation (cannot create namespaces with `unshare`)",
                "previews can see other processes, and read /proc/<pid>/environ of any "
                "process of the same user",
                "schemabot's work folder, state and configuration are not covered up",
            ]
        if self.uid is None:
            missing.append(
                "previews run as schemabot's own user (a separate user needs schemabot to "
                "run as root); no limit on the number of processes"
            )
        return tuple(missing)

    def command(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, stage: Path
    ) -> list[str]:
        """The command line that runs `argv` confined, from `cwd`, with exactly `env`;
        `stage` is an empty folder of the sandbox's own for the jail's bind mounts."""
        limits = dict(LIMITS)
        if self.uid is not None:
            limits["processes"] = PROCESS_LIMIT
        config = {
            "argv": list(argv),
            "env": dict(env),
            "cwd": str(cwd),
            "hide": list(self.hidden) if self.unshare is not None else [],
            "expose": list(self.exposed) if self.unshare is not None else [],
            "stage": str(stage),
            "limits": limits,
            "uid": self.uid,
        }
        jail = [sys.executable, "-I", str(JAIL), json.dumps(config)]
        return [*self.unshare, "--", *jail] if self.unshare is not None else jail

    def prepare(self, folder: Path, writable: Sequence[Path] = ()) -> None:
        """Let the sandbox's user read `folder` and write in `writable` (its HOME, TMPDIR)."""
        if self.uid is None:
            return
        folder.chmod(0o711)
        for path in writable:
            os.chown(path, self.uid, self.uid)


def probe(hidden: Sequence[Path], python: str = sys.executable) -> Confinement:
    """Find what this host can enforce, by trying it; logs what it cannot, once.

    `python` is the interpreter previews run under: its folders must stay reachable.
    `hidden` are schemabot's own files; the credentials in its home folder are hidden too.
    """
    uid = NOBODY if os.geteuid() == 0 else None
    unshare = _working_unshare()
    home = Path(os.path.expanduser("~"))
    covered = (
        [*hidden, *(home / name for name in HOME_CREDENTIALS)] if home.is_absolute() else hidden
    )
    shown = tuple(str(path.resolve()) for path in covered if path.exists())
    exposed = _interpreter_folders(sys.executable) + _interpreter_folders(python)
    exposed += (str(JAIL.parent.resolve()),)
    confinement = Confinement(unshare, uid, shown, tuple(dict.fromkeys(exposed)))
    for gap in confinement.gaps():
        log.warning("preview sandbox: %s", gap)
    return confinement


def protect_this_process() -> None:
    """Make schemabot's own process non-dumpable: its memory and /proc/<pid>/environ are then
    off limits to other processes of its user (a preview, where no namespace can hide it)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("could not make schemabot's process non-dumpable")


def _interpreter_folders(python: str) -> tuple[str, ...]:
    """Where an interpreter, its standard library and its packages are, as real paths."""
    script = "import json, sys; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix]))"
    try:
        done = subprocess.run(
            [python, "-I", "-c", script], capture_output=True, text=True, timeout=30
        )
        executable, prefix, base = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return ()
    folders = [os.path.dirname(os.path.realpath(executable)), prefix, base]
    return tuple(os.path.realpath(folder) for folder in folders)


def _working_unshare() -> tuple[str, ...] | None:
    binary = shutil.which("unshare")
    if binary is None:
        return None
    candidates: list[tuple[str, ...]] = [(binary, *NAMESPACES)]
    if os.geteuid() != 0:
        candidates.append((binary, "--map-root-user", *NAMESPACES))
    for candidate in candidates:
        try:
            done = subprocess.run(
                [*candidate, "--", sys.executable, "-I", "-c", "pass"],
                capture_output=True,
                timeout=10,
                env={"PATH": PREVIEW_PATH},
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return tuple(candidate)
    return None
