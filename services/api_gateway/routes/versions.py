"""Version discovery at / (Octavia's document, also readable as Neutron's), unauthenticated."""

from __future__ import annotations

from fastapi import APIRouter, Request

router = APIRouter()

# (id, status, updated): Octavia's minor versions; the API here is v2 with the fields listed in
# the views module.
_VERSIONS = [
    ("v2.0", "SUPPORTED", "2016-12-11T00:00:00Z"),
    ("v2.1", "SUPPORTED", "2018-04-20T00:00:00Z"),
    ("v2.2", "SUPPORTED", "2018-07-31T00:00:00Z"),
    ("v2.3", "SUPPORTED", "2018-12-18T00:00:00Z"),
    ("v2.4", "SUPPORTED", "2018-12-19T00:00:00Z"),
    ("v2.5", "SUPPORTED", "2019-01-21T00:00:00Z"),
    ("v2.6", "SUPPORTED", "2019-01-25T00:00:00Z"),
    ("v2.7", "SUPPORTED", "2018-01-25T12:00:00Z"),
    ("v2.8", "SUPPORTED", "2019-02-12T00:00:00Z"),
    ("v2.9", "SUPPORTED", "2019-03-04T00:00:00Z"),
    ("v2.10", "SUPPORTED", "2019-03-05T00:00:00Z"),
    ("v2.11", "SUPPORTED", "2019-06-24T00:00:00Z"),
    ("v2.12", "SUPPORTED", "2019-09-11T00:00:00Z"),
    ("v2.13", "SUPPORTED", "2019-09-13T00:00:00Z"),
    ("v2.14", "SUPPORTED", "2019-11-10T00:00:00Z"),
    ("v2.15", "SUPPORTED", "2020-03-10T00:00:00Z"),
    ("v2.16", "SUPPORTED", "2020-03-15T00:00:00Z"),
    ("v2.17", "SUPPORTED", "2020-04-29T00:00:00Z"),
    ("v2.18", "SUPPORTED", "2020-04-29T01:00:00Z"),
    ("v2.19", "SUPPORTED", "2020-05-12T00:00:00Z"),
    ("v2.20", "SUPPORTED", "2020-08-02T00:00:00Z"),
    ("v2.21", "SUPPORTED", "2020-09-03T00:00:00Z"),
    ("v2.22", "SUPPORTED", "2020-09-04T00:00:00Z"),
    ("v2.23", "SUPPORTED", "2020-09-07T00:00:00Z"),
    ("v2.24", "SUPPORTED", "2020-10-15T00:00:00Z"),
    ("v2.25", "SUPPORTED", "2021-10-02T00:00:00Z"),
    ("v2.26", "SUPPORTED", "2022-08-29T00:00:00Z"),
    ("v2.27", "SUPPORTED", "2023-05-05T00:00:00Z"),
    ("v2.28", "SUPPORTED", "2023-11-08T00:00:00Z"),
    ("v2.29", "SUPPORTED", "2024-10-15T00:00:00Z"),
    ("v2.30", "CURRENT", "2025-02-26T00:00:00Z"),
]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def version_entries(base: str) -> list[dict]:
    return [
        {
            "id": vid,
            "status": status,
            "updated": updated,
            "links": [{"href": f"{base}/v2", "rel": "self"}],
        }
        for vid, status, updated in _VERSIONS
    ]


@router.get("/")
async def versions(request: Request) -> dict:
    return {"versions": version_entries(_base(request))}


@router.get("/v2")
@router.get("/v2/")
async def v2(request: Request) -> dict:
    return {"version": version_entries(_base(request))[-1]}


@router.get("/v2.0")
@router.get("/v2.0/")
async def v2_0(request: Request) -> dict:
    """Neutron's answer at its version root: the resource collections it serves."""
    base = _base(request)
    return {
        "resources": [
            {
                "name": name,
                "collection": f"{name}s",
                "links": [{"href": f"{base}/v2.0/{name}s", "rel": "self"}],
            }
            for name in ("network", "subnet", "port")
        ]
    }
