"""Files the build writes whole or not at all, and outputs kept for the next build."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable


def write_whole(path: Path, data: bytes) -> None:
    """Written beside the target, then moved into place: a killed build, or two processes writing
    at once, leave the old file or a complete new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def kept(path: Path, make: Callable[[], bytes]) -> bytes:
    """The bytes at `path`, made (and written there) if it does not exist yet. The caller names
    the path after everything the bytes are made from, so an existing file is never stale."""
    if not path.exists():
        write_whole(path, make())
    return path.read_bytes()
