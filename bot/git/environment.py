"""The environment every git process of schemabot's gets: what git needs, no secret.

git runs all the time (each watcher cycle fetches), and a process's environment is readable
through /proc by any process of the same user that can see it. Previews cannot see git's
(their own process table), but on a host without namespaces they could, so the Slack
tokens, database URLs and the team's other settings are left out: only what git, ssh,
credential helpers, proxies and signature checks read is passed on.
"""

from __future__ import annotations

import os

from git import Repo

KEPT = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
        "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
        "http_proxy", "https_proxy", "all_proxy", "no_proxy",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "EMAIL",
    }
)  # fmt: skip
KEPT_PREFIXES = ("GIT_", "SSH_", "GNUPG", "GPG_", "LC_", "XDG_")


def kept(name: str) -> bool:
    return name in KEPT or name.startswith(KEPT_PREFIXES)


def blanked() -> dict[str, str]:
    """Every other variable of this process, emptied: GitPython starts git with a copy of
    `os.environ` updated with its own, so a variable can be emptied there, not removed."""
    return {name: "" for name in os.environ if not kept(name)}


def confine(repo: Repo) -> None:
    """Make every git process `repo` starts see none of the variables git does not need."""
    repo.git.update_environment(**blanked())
