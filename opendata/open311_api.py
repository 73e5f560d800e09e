"""Open311 GeoReport v2 routes under /open311/v2: services, requests, one request, and POST
requests with an API key. Each answers JSON, or XML when the path ends in `.xml`
(`services.json` and plain `services` are the same). Errors take Open311's shape:
[{"code": 404, "description": "…"}] (or <errors> in XML).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from xml.etree import ElementTree

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from core.deps import SessionDep
from core.errors import NotAuthenticated, NotFound, PlatformError
from opendata import open311
from opendata.api_keys import key_for

router = APIRouter(prefix="/open311/v2", tags=["open311"])
FORMATS = ("json", "xml")
# XML element names of each list and its items (GeoReport v2).
_XML = {
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def _xml(kind: str, items: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    if isinstance(items, dict):  # a service definition
        root = ElementTree.Element("service_definition")
        ElementTree.SubElement(root, "service_code").text = str(items["service_code"])
        attributes = ElementTree.SubElement(root, "attributes")
        for attribute in items["attributes"]:
            _fill(ElementTree.SubElement(attributes, "attribute"), attribute)
    else:
        outer, inner = _XML[kind]
        root = ElementTree.Element(outer)
        for item in items:
            _fill(ElementTree.SubElement(root, inner), item)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(root, "utf-8")


def _fill(element: ElementTree.Element, item: dict[str, Any]) -> None:
    for name, value in item.items():
        child = ElementTree.SubElement(element, name)
        if value is not None:
            child.text = str(value).lower() if isinstance(value, bool) else str(value)


def _answer(
    fmt: str, kind: str, body: list[dict[str, Any]] | dict[str, Any], status: int = 200
) -> Response:
    if fmt == "xml":
        return Response(_xml(kind, body), status_code=status, media_type="text/xml")
    return JSONResponse(body, status_code=status)


def _error(fmt: str, status: int, description: str) -> Response:
    return _answer(fmt, "errors", [{"code": status, "description": description}], status)


def _split(name: str, default: str = "json") -> tuple[str, str]:
    """`12.json` → ("12", "json"); `12` → ("12", default). Unknown formats are refused."""
    base, dot, fmt = name.rpartition(".")
    if not dot:
        return name, default
    if fmt not in FORMATS:
        raise NotFound(f"format {fmt!r}: use .json or .xml")
    return base, fmt


def _run(fmt: str, kind: str, produce: Callable[[], Any], status: int = 200) -> Response:
    try:
        return _answer(fmt, kind, produce(), status)
    except PlatformError as exc:
        return _error(fmt, exc.status_code, exc.detail)


Format = Annotated[str, Path(pattern=r"^(json|xml)$")]


@router.get("/services", summary="The services: the registry's sectors")
def list_services(session: SessionDep) -> Response:
    return _run("json", "services", lambda: open311.services(session))


@router.get("/services.{fmt}", summary="The services, as JSON or XML")
def list_services_as(fmt: Format, session: SessionDep) -> Response:
    return _run(fmt, "services", lambda: open311.services(session))


@router.get("/services/{code}", summary="A service's definition (its attributes)")
def read_service(code: Annotated[str, Path(max_length=40)], session: SessionDep) -> Response:
    try:
        base, fmt = _split(code)
    except NotFound as exc:
        return _error("json", 404, exc.detail)
    return _run(fmt, "services", lambda: open311.service_definition(session, base))


@router.get("/requests", summary="Public complaint views")
def list_requests(
    session: SessionDep,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=500)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _requests(
        "json", session, service_request_id, service_code, start_date, end_date, status
    )


@router.get("/requests.{fmt}", summary="Public complaint views, as JSON or XML")
def list_requests_as(
    fmt: Format,
    session: SessionDep,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=500)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return _requests(fmt, session, service_request_id, service_code, start_date, end_date, status)


def _requests(fmt: str, session: Any, *filters: str | None) -> Response:
    def produce() -> list[dict[str, Any]]:
        query = open311.RequestQuery.parse(
            service_request_id=filters[0],
            service_code=filters[1],
            start_date=filters[2],
            end_date=filters[3],
            status=filters[4],
        )
        return open311.requests(session, query=query)

    return _run(fmt, "requests", produce)


@router.get("/requests/{request_id}", summary="One public complaint view (a list of one)")
def read_request(request_id: Annotated[str, Path(max_length=30)], session: SessionDep) -> Response:
    try:
        base, fmt = _split(request_id)
    except NotFound as exc:
        return _error("json", 404, exc.detail)
    if not base.isdigit() or len(base) > 18:
        return _error(fmt, 404, f"no request {base!r}")
    return _run(fmt, "requests", lambda: [open311.request(session, int(base))])


@router.post("/requests", summary="File a complaint (needs api_key)")
async def post_request(request: Request, session: SessionDep) -> Response:
    return await _post("json", request, session)


@router.post("/requests.{fmt}", summary="File a complaint, answer as JSON or XML")
async def post_request_as(fmt: Format, request: Request, session: SessionDep) -> Response:
    return await _post(fmt, request, session)


async def _post(fmt: str, request: Request, session: Any) -> Response:
    form = {name: str(value) for name, value in (await request.form()).items()}

    def produce() -> list[dict[str, Any]]:
        key = key_for(session, form.get("api_key"))
        if key is None:
            raise NotAuthenticated("api_key is missing, unknown or revoked")
        answer = open311.create_request(session, key=key, form=form)
        session.commit()
        return [answer]

    return _run(fmt, "requests", produce, status=201)
