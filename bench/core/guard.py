"""The guard of a command run in a session of its own (bench/core/processes.run_group): it waits until
the process that started it closes its pipe, as that process's end always does, killed or not, then
stops whatever is left of the session and removes its temporary folder.

    python bench/core/guard.py SESSION_ID TMPDIR [FILE SAVED_COPY]

"done" on its stdin before the end means the process ended as it should: nothing is done.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: bench from this checkout

from bench.core.processes import session_members, stop_session  # noqa: E402


def main(argv: list[str]) -> int:
    sid, tmp, restore = int(argv[1]), argv[2], argv[3:5]
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # only the pipe's end tells it to act
    if sys.stdin.buffer.read().startswith(b"done"):
        return 0
    if session_members(sid) != []:
        stop_session(sid, signal)
    shutil.rmtree(tmp, ignore_errors=True)
    if len(restore) == 2 and Path(restore[1]).is_file():
        try:
            os.replace(restore[1], restore[0])  # whole or not at all, where both are on one file system
        except OSError:
            shutil.copyfile(restore[1], restore[0])
            os.unlink(restore[1])

    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
