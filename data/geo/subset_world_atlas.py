"""Cut the Western Balkans and their neighbours out of the world-atlas TopoJSON.

Input : countries-50m.json from the npm package world-atlas@2.0.2 (Natural Earth
        Admin 0 countries, 1:50m, version 4.1.0, quantized TopoJSON).
Output: balkans.topo.json next to this script, holding one object, "countries",
        with only the states listed in KEEP and only the arcs they use.

The script is deterministic: the same input gives byte-identical output
(geometries sorted by name, arcs renumbered in order of first use, keys sorted).

Usage (see README.md in this folder for the full regeneration recipe):
    python data/geo/subset_world_atlas.py path/to/package/countries-50m.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

# Natural Earth's short names ("Bosnia and Herz.", "Macedonia") as world-atlas spells them.
# Kosovo is its own Admin 0 unit in Natural Earth (it carries no ISO numeric id there).
KEEP = [
    "Albania", "Bosnia and Herz.", "Bulgaria", "Croatia", "Greece", "Hungary",
    "Kosovo", "Macedonia", "Montenegro", "Romania", "Serbia", "Slovenia",
]
# Natural Earth 4.1.0 predates the 2019 renaming; the book uses the current name.
RENAME = {"Macedonia": "North Macedonia", "Bosnia and Herz.": "Bosnia and Herzegovina"}

OUT = Path(__file__).with_name("balkans.topo.json")


def arc_indices(arcs):
    """Yield every arc index used by a (nested) TopoJSON arcs array."""
    for item in arcs:
        if isinstance(item, list):
            yield from arc_indices(item)
        else:
            yield item


def remap(arcs, new_index):
    """Rewrite a nested arcs array with new indices; a negative index ~i means arc i reversed."""
    out = []
    for item in arcs:
        if isinstance(item, list):
            out.append(remap(item, new_index))
        elif item >= 0:
            out.append(new_index[item])
        else:
            out.append(~new_index[~item])
    return out


def decode(arc, transform):
    """Absolute longitude/latitude of a delta-encoded, quantized arc (used for the bbox)."""
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    x = y = 0
    for dx, dy in arc:
        x, y = x + dx, y + dy
        yield x * sx + tx, y * sy + ty


def main(source: Path) -> None:
    world = json.loads(source.read_text(encoding="utf-8"))
    geoms = [g for g in world["objects"]["countries"]["geometries"] if g["properties"]["name"] in KEEP]
    found = {g["properties"]["name"] for g in geoms}
    if found != set(KEEP):
        sys.exit(f"not found in {source}: {sorted(set(KEEP) - found)}")
    geoms.sort(key=lambda g: RENAME.get(g["properties"]["name"], g["properties"]["name"]))

    # Number the arcs that the kept countries use, in order of first use.
    new_index: dict[int, int] = {}
    for g in geoms:
        for i in arc_indices(g["arcs"]):
            new_index.setdefault(i if i >= 0 else ~i, len(new_index))
    old_of_new = sorted(new_index, key=new_index.get)
    arcs = [world["arcs"][i] for i in old_of_new]

    out_geoms = []
    for g in geoms:
        name = g["properties"]["name"]
        out_geoms.append({
            "type": g["type"],
            "arcs": remap(g["arcs"], new_index),
            "properties": {"name": RENAME.get(name, name), "ne_name": name},
            **({"id": g["id"]} if "id" in g else {}),
        })

    points = [p for arc in arcs for p in decode(arc, world["transform"])]
    bbox = [round(min(p[0] for p in points), 6), round(min(p[1] for p in points), 6),
            round(max(p[0] for p in points), 6), round(max(p[1] for p in points), 6)]
    topo = {
        "type": "Topology",
        "bbox": bbox,
        "transform": world["transform"],  # the quantization is unchanged, so deltas stay valid
        "objects": {"countries": {"type": "GeometryCollection", "geometries": out_geoms}},
        "arcs": arcs,
    }
    OUT.write_text(json.dumps(topo, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n",
                   encoding="utf-8")
    print(f"wrote {OUT.name}: {len(out_geoms)} countries, {len(arcs)} arcs, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "package/countries-50m.json"))
