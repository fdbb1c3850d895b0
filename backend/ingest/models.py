"""What the platform's services push in: detections and localizations.

Known fields are validated strictly (a number is a JSON number, not a string);
fields beyond these are kept and passed on unchanged, so the platform can add
metrics without a gateway release.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.timefmt import iso_z

MAX_OBJECT_BYTES = 16 * 1024

FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
ClientId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


class _Ingested(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: ClientId | None = None
    timestamp: datetime

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("must be an ISO-8601 date-time string, e.g. 2026-11-25T14:02:00Z")
        return value

    def stored_form(self, server_id: str) -> dict[str, Any]:
        """The object as stored, published and answered: every field, timestamp in UTC."""
        body = self.model_dump(mode="json", exclude_unset=True)
        body["timestamp"] = iso_z(self.timestamp)
        body.pop("id", None)
        return {"id": self.id or server_id, **body}


class Detection(_Ingested):
    frequency_mhz: Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]
    snr_db: FiniteFloat
    websdr_id: Annotated[str, Field(strict=True, min_length=1, max_length=128)]


class UncertaintyEllipse(BaseModel):
    model_config = ConfigDict(extra="allow")

    semi_major_m: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
    semi_minor_m: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
    orientation_deg: Annotated[float, Field(strict=True, ge=-360, le=360, allow_inf_nan=False)] = 0.0


class Localization(_Ingested):
    latitude: Annotated[float, Field(strict=True, ge=-90, le=90)]
    longitude: Annotated[float, Field(strict=True, ge=-180, le=180)]
    uncertainty_m: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
    confidence: Annotated[float, Field(strict=True, ge=0, le=1)]
    uncertainty_ellipse: UncertaintyEllipse | None = None
    # The receivers that took part (drawn on the map with dashed lines to the position).
    # At most 100, so that the longest list (100 ids of 128 characters) still fits in
    # MAX_OBJECT_BYTES and a list one too long is refused by name (422), not by size (413).
    websdr_ids: Annotated[list[Annotated[str, Field(strict=True, min_length=1, max_length=128)]],
                          Field(max_length=100)] | None = None
