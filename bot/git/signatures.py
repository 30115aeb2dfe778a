"""Whether the commits that touched a file are signed by a key the team trusts.

`git verify-commit` does the checking: SSH signatures against the allowed-signers file
(SCHEMABOT_ALLOWED_SIGNERS), GPG signatures against the keyring of schemabot's user.
"""

from __future__ import annotations

from pathlib import Path

from git.exc import GitCommandError

from bot.git.clone import Clone


def unsigned_commits(
    clone: Clone, tip: str, path: str, allowed_signers: Path | None
) -> tuple[str, ...]:
    """The commits in `tip`'s history that touched `path` and do not verify, oldest first."""
    options = []
    if allowed_signers is not None:
        options = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers.resolve()}"]
    with clone.open() as repo:
        shas = str(repo.git.log("--format=%H", "--follow", tip, "--", path)).split()
        failed = []
        for sha in reversed(shas):
            try:
                repo.git.execute(["git", *options, "verify-commit", sha])
            except GitCommandError:
                failed.append(sha)
    return tuple(failed)
