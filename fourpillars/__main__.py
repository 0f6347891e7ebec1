"""`python -m fourpillars`, the first step of every build: validates the whole data package
once (frictionless and the book's checks; each notebook's kernel then only reads what passed)
and regenerates references.bib from data/sources.csv."""
from .data import load_all
from .sources import write_bib

load_all()
print(f"wrote {write_bib()}")
