"""Receivers and localizations exported as GeoJSON, KML and CSV by a real gateway, read
back with standard readers (json, xml.etree, csv)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ElementTree

import httpx

from tests.gateway import ONE_OF_EACH

KML = "{http://www.opengis.net/kml/2.2}"
TWO_RECEIVERS = ONE_OF_EACH + """
[[websdrs]]
id = "genova"
name = "Genova & <Liguria>"
url = "http://user:secret@127.0.0.1:9/"
kind = "kiwisdr"
latitude = 44.395
longitude = 8.956
"""


def localization(second: int, **extra) -> dict:
    return {"latitude": 45.07, "longitude": round(7.6 + second / 100, 4), "uncertainty_m": 3000.0, "confidence": 0.8,
            "timestamp": f"2026-11-25T12:00:{second:02d}Z", **extra}


def test_receivers_export_in_three_formats(make_gateway):
    gw = make_gateway(extra=TWO_RECEIVERS)
    answer = httpx.get(gw.url + "/api/v1/websdrs/export", params={"format": "geojson"})
    assert answer.headers["content-type"].startswith("application/geo+json")
    assert 'filename="receivers.geojson"' in answer.headers["content-disposition"]
    features = json.loads(answer.text)["features"]
    assert [f["geometry"] for f in features] == [{"type": "Point", "coordinates": [7.672, 45.044]},
                                                 {"type": "Point", "coordinates": [8.956, 44.395]}]
    assert features[1]["properties"]["readiness"] == "unusable" and "secret" not in answer.text
    kml = ElementTree.fromstring(httpx.get(gw.url + "/api/v1/websdrs/export", params={"format": "kml"}).content)
    placemarks = kml.findall(f".//{KML}Placemark")
    assert [p.findtext(f"{KML}name") for p in placemarks] == ["Torino", "Genova & <Liguria>"]
    assert placemarks[1].findtext(f".//{KML}coordinates") == "8.956,44.395"
    rows = list(csv.DictReader(io.StringIO(httpx.get(gw.url + "/api/v1/websdrs/export",
                                                     params={"format": "csv"}).text)))
    assert [(r["id"], r["latitude"], r["longitude"]) for r in rows] == [("torino", "45.044", "7.672"),
                                                                         ("genova", "44.395", "8.956")]
    assert {r["status"] for r in rows} <= {"unknown", "offline"}  # port 9 answers nothing
    assert httpx.get(gw.url + "/api/v1/websdrs/export", params={"format": "shp"}).status_code == 422


def test_localizations_export_a_time_range(make_gateway):
    gw = make_gateway()
    for second in range(5):
        extra = {"uncertainty_ellipse": {"semi_major_m": 6000, "semi_minor_m": 2500, "orientation_deg": 30}} \
            if second == 2 else {}
        assert httpx.post(gw.url + "/api/v1/localizations", json=localization(second, **extra),
                          headers=gw.auth()).status_code == 201
    window = {"since": "2026-11-25T12:00:01Z", "until": "2026-11-25T12:00:04Z"}
    features = httpx.get(gw.url + "/api/v1/localizations/export", params={**window, "format": "geojson"}).json()[
        "features"]
    assert [f["properties"]["timestamp"] for f in features] == [f"2026-11-25T12:00:0{s}.000Z" for s in (1, 2, 3)]
    assert features[1]["properties"]["semi_major_m"] == 6000
    rows = list(csv.DictReader(io.StringIO(httpx.get(gw.url + "/api/v1/localizations/export",
                                                     params={**window, "format": "csv"}).text)))
    assert [r["longitude"] for r in rows] == ["7.61", "7.62", "7.63"]
    kml = ElementTree.fromstring(httpx.get(gw.url + "/api/v1/localizations/export",
                                           params={**window, "format": "kml"}).content)
    assert len(kml.findall(f".//{KML}Placemark")) == 3
    for bad in ({"since": "yesterday"}, {"since": "2026-11-25T13:00:00Z", "until": "2026-11-25T12:00:00Z"}):
        answer = httpx.get(gw.url + "/api/v1/localizations/export", params=bad)
        assert answer.status_code == 422, answer.text
