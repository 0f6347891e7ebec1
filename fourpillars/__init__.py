"""The book's small package: load the data, draw the figures, cite the sources."""
from .claims import ClaimError, claim
from .data import DataError, load, load_all
from .figures import ACTORS, PALETTE, Figure, actor_scale, figure, table
from .sources import source_line

__all__ = ["ACTORS", "ClaimError", "claim", "PALETTE", "DataError", "Figure", "actor_scale", "figure", "load", "load_all", "source_line", "table"]
