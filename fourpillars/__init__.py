"""The book's small package: load the data, draw the figures, cite the sources."""
from .claims import ClaimError, claim
from .data import DataError, load, load_all
from .figures import ACTORS, PALETTE, Figure, actor_scale, cite_label, figure, plot_date, table, tooltip
from .sources import source_line

__all__ = ["ACTORS", "ClaimError", "PALETTE", "DataError", "Figure", "actor_scale", "cite_label", "claim", "figure",
           "load", "load_all", "plot_date", "source_line", "table", "tooltip"]
