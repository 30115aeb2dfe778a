"""schemabot's side of the sandbox-privilege test, run as a user that is not root.

Usage: `python -I uncover.py REPO FOLDER`. It covers a state folder and an env file in
FOLDER as schemabot does (and, with its HOME in FOLDER, the ssh key and git credentials
there), keeps a process of its own user alive with a Slack token in its
environment (as a `git fetch` would be), and runs PAYLOAD in the preview sandbox: the
preview tries to unmount the covers and /proc, first as it is, then from a user namespace
of its own, and prints as JSON what it then reads. Standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TOKEN = "xoxb-marker-uncover"
PAYLOAD = r"""
import ctypes, json, os, sys

libc = ctypes.CDLL("libc.so.6", use_errno=True)
MNT_DETACH = 2
covered = sys.argv[1:]


def unmount():
    return {path: libc.umount2(path.encode(), MNT_DETACH) == 0 for path in covered + ["/proc"]}


def read():
    seen = {}
    for path in covered:
        try:
            seen[path] = open(path).read() if os.path.isfile(path) else sorted(os.listdir(path))
        except OSError as exc:
            seen[path] = type(exc).__name__
    return seen


def tokens():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if b"TOKEN" in open("/proc/%s/environ" % pid, "rb").read():
                found.append(pid)
        except OSError:
            pass
    return found


result = {"unmounted": unmount()}
result["read"], result["tokens"] = read(), tokens()
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0:
    result["nested_unmounted"] = unmount()
    result["nested_read"], result["nested_tokens"] = read(), tokens()
print(json.dumps(result))
""".replace("TOKEN", TOKEN)


def main() -> int:
    sys.path.insert(0, sys.argv[1])
    from bot.migrations.sandbox import probe

    folder = Path(sys.argv[2])
    state, env_file = folder / "work", folder / "prod.env"
    state.mkdir()
    (state / "state.db").write_text("STATE")
    env_file.write_text("DATABASE_PASSWORD=hunter2")
    home = folder / "home"
    (home / ".ssh").mkdir(parents=True)
    key, credentials = home / ".ssh" / "id_ed25519", home / ".git-credentials"
    key.write_text("PRIVATE KEY hunter2")
    credentials.write_text("https://schemabot:hunter2@git.example.com")
    os.environ["HOME"] = str(home)
    confinement = probe([state, env_file])
    if confinement.unshare is None:
        print(json.dumps({"skip": "this host cannot create namespaces"}))
        return 0
    stage = folder / "stage"
    stage.mkdir()
    payload = folder / "payload.py"
    payload.write_text(PAYLOAD)
    argv = [sys.executable, "-I", str(payload), str(env_file), str(state), str(key)]
    argv.append(str(credentials))
    holder = subprocess.Popen(["sleep", "60"], env={"SLACK_BOT_TOKEN": TOKEN})
    try:
        done = subprocess.run(
            confinement.command(argv, {"PATH": "/usr/bin:/bin"}, folder, stage),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.kill()
    print(done.stdout.strip() or json.dumps({"failed": done.stderr[-2000:]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
