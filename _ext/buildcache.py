"""Outputs of slow, deterministic build steps, kept between builds.

Kept beside Sphinx's own environment (_build/.doctrees/fp-cache/), keyed by a digest of
everything the step reads: a step whose inputs have not changed reads its last output rather
than doing the work again (a rebuild after editing one chapter). The folder goes with the
environment when the Makefile's _build/.inputs rule clears it, so a change to the code of a step
never meets an output of the old code.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable


def remembered(app, step: str, inputs: bytes, make: Callable[[], bytes]) -> bytes:
    path = Path(app.doctreedir) / "fp-cache" / step / hashlib.sha256(inputs).hexdigest()
    if path.exists():
        return path.read_bytes()
    data = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")  # whole or not at all
    partial.write_bytes(data)
    partial.replace(path)
    return data
