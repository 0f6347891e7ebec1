"""Outputs of slow, deterministic build steps, kept between builds.

Kept beside Sphinx's own environment (_build/.doctrees/fp-cache/), keyed by a digest of
everything the step reads: a step whose inputs have not changed reads its last output rather
than doing the work again (a rebuild after editing one chapter). The folder goes with the
environment when the Makefile's _build/.inputs rule clears it, so a change to the code of a step
never meets an output of the old code.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from fourpillars.files import kept


def remembered(app, step: str, inputs: bytes, make: Callable[[], bytes]) -> bytes:
    return kept(Path(app.doctreedir) / "fp-cache" / step / hashlib.sha256(inputs).hexdigest(), make)
