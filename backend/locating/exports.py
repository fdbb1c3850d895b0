"""Receivers and localizations for the tools people use: GeoJSON (QGIS, any web map),
KML (Google Earth) and CSV (a spreadsheet). Plain functions: rows in, text out.

A row is a flat dict with `latitude` and `longitude`; every other field is a property
(GeoJSON), an ExtendedData value (KML) or a column (CSV). Coordinates go lon, lat as
GeoJSON (RFC 7946) and KML want them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

FORMATS = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml",
           "csv": "text/csv; charset=utf-8"}


def _properties(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("latitude", "longitude")}


def geojson(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]},
         "properties": _properties(row)} for row in rows]}, allow_nan=False)


def kml(rows: Sequence[dict[str, Any]], title: str) -> str:
    def text(value: Any) -> str:
        return escape("" if value is None else json.dumps(value) if isinstance(value, (list, dict)) else str(value))

    placemarks = []
    for row in rows:
        data = "".join(f'<Data name="{escape(k)}"><value>{text(v)}</value></Data>' for k, v in _properties(row).items())
        placemarks.append(f"<Placemark><name>{text(row.get('name') or row.get('id'))}</name>"
                          f"<ExtendedData>{data}</ExtendedData>"
                          f"<Point><coordinates>{row['longitude']},{row['latitude']}</coordinates></Point></Placemark>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<name>{escape(title)}</name>{''.join(placemarks)}</Document></kml>\n")


# A cell a spreadsheet would read as a formula (OWASP "CSV injection"): =HYPERLINK(...),
# +cmd, -2+3, @SUM, or one starting with a tab or carriage return. Numbers stay numbers.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    text = json.dumps(value) if isinstance(value, (list, dict)) else value
    if isinstance(text, str) and text.startswith(FORMULA_START):
        return "'" + text  # shown as text by Excel, LibreOffice and Google Sheets
    return text


def csv_text(rows: Sequence[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def render(format_name: str, rows: Sequence[dict[str, Any]], title: str) -> str:
    if format_name == "geojson":
        return geojson(rows)
    if format_name == "kml":
        return kml(rows, title)
    return csv_text(rows)
