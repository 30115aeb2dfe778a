"""The last step into the preview sandbox, run inside fresh namespaces (see sandbox.py).

Started by `unshare` as the namespaces' root, with schemabot's own interpreter and only the
standard library: it makes the interpreters reachable for the sandbox's user, covers
schemabot's files with empty mounts, sets resource limits, gives up every privilege (every
capability, for good, and to another user when schemabot runs as root), and becomes the
program to confine. Its one
argument is a JSON object: `argv`, `env`, `cwd`, `expose`, `stage`, `hide`, `limits`, `uid`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import resource
import sys
from typing import Any

MS_BIND = 4096
MS_REC = 16384
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
SECBIT_NOROOT = 1 << 0
SECBIT_NOROOT_LOCKED = 1 << 1
SECBIT_NO_CAP_AMBIENT_RAISE = 1 << 6
SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED = 1 << 7
LIMITS = {
    "cpu_seconds": resource.RLIMIT_CPU,
    "memory_bytes": resource.RLIMIT_AS,
    "file_bytes": resource.RLIMIT_FSIZE,
    "open_files": resource.RLIMIT_NOFILE,
    "processes": resource.RLIMIT_NPROC,
}


def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _hide(libc: Any, path: str) -> None:
    """Cover `path` with an empty read-only folder or an empty file."""
    if os.path.isdir(path):
        _mount(libc, "none", path, "tmpfs", 0, "size=4k,mode=0555")
    elif os.path.exists(path):
        _mount(libc, "/dev/null", path, None, MS_BIND, None)


def _mount(
    libc: Any, source: str, target: str, kind: str | None, flags: int, data: str | None
) -> None:
    encoded = [None if value is None else os.fsencode(value) for value in (kind, data)]
    if libc.mount(os.fsencode(source), os.fsencode(target), encoded[0], flags, encoded[1]) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"cannot mount on {target}: {os.strerror(error)}")


def _blocking_ancestor(path: str) -> str | None:
    """The outermost folder on the way to `path` that other users cannot pass through."""
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts)):
        folder = "/" + "/".join(parts[:depth])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def _expose(libc: Any, paths: list[str], stage: str) -> None:
    """Make `paths` reachable for another user (an interpreter under /root, say) without
    touching the host's permissions: each is bound aside, the folder that blocks the way is
    covered with an empty passable one, and the path is bound back inside it."""
    by_top: dict[str, list[str]] = {}
    for path in paths:
        top = _blocking_ancestor(path)
        if top is not None:
            by_top.setdefault(top, []).append(path)
    for number, (top, inside) in enumerate(sorted(by_top.items())):
        staged = []
        for index, path in enumerate(inside):
            aside = os.path.join(stage, f"{number}-{index}")
            os.mkdir(aside)
            _mount(libc, path, aside, None, MS_BIND | MS_REC, None)
            staged.append((path, aside))
        _mount(libc, "none", top, "tmpfs", 0, "mode=0755")
        for path, aside in staged:
            os.makedirs(path, exist_ok=True)
            _mount(libc, aside, path, None, MS_BIND | MS_REC, None)


def _give_up_capabilities(libc: Any) -> None:
    """Leave nothing to regain: as the namespaces' root (schemabot not root itself), the
    preview would otherwise keep CAP_SYS_ADMIN there and could unmount the covers. Every
    capability leaves the bounding set, the ambient set is emptied, and uid 0 no longer
    grants capabilities at execve (locked), so the program starts with none."""
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            if ctypes.get_errno() == errno.EINVAL:
                break  # past the last capability this kernel knows
            raise OSError(ctypes.get_errno(), f"cannot drop capability {capability}")
    if libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot clear the ambient capabilities")
    bits = (
        SECBIT_NOROOT
        | SECBIT_NOROOT_LOCKED
        | SECBIT_NO_CAP_AMBIENT_RAISE
        | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED
    )
    if libc.prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot set the secure bits")


def main() -> int:
    config = json.loads(sys.argv[1])
    libc = _libc()
    if config.get("uid") is not None:
        _expose(libc, config.get("expose", []), config["stage"])
    for path in config.get("hide", ()):
        _hide(libc, path)
    for name, value in config.get("limits", {}).items():
        resource.setrlimit(LIMITS[name], (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "cannot set no_new_privs")
    _give_up_capabilities(libc)
    uid = config.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    os.chdir(config["cwd"])
    os.execve(config["argv"][0], config["argv"], config["env"])
    return 127


if __name__ == "__main__":
    sys.exit(main())
