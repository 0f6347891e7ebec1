"""`python -m fourpillars` regenerates references.bib from data/sources.csv."""
from .sources import write_bib

print(f"wrote {write_bib()}")
