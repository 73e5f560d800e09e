"""Open311 GeoReport v2 routes under /open311/v2: services, requests, one request, and POST
requests with an API key. Each answers JSON, or XML when the path ends in `.xml`
(`services.json` and plain `services` are the same). Errors take Open311's shape:
[{"code": 404, "description": "…"}] (or <errors> in XML), validation errors and the like too
(service.errors asks `error_answer`); each operation's OpenAPI entry says so, with the
GeoReport v2 models below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from xml.etree import ElementTree

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

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

PREFIX = "/open311/"


class Open311Service(BaseModel):
    service_code: str
    service_name: str
    description: str | None
    metadata: bool = Field(description="true: GET services/{service_code} defines attributes")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str | None
    group: str | None


class Open311Attribute(BaseModel):
    variable: bool
    code: str = Field(description="posted as attribute[code]")
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None
    order: int
    description: str


class Open311ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Open311Attribute]


class Open311Request(BaseModel):
    """A public complaint view: no tracking number, no contact, the county not the address."""

    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str | None = Field(description="W3C datetime, China time")
    updated_datetime: str | None = Field(description="W3C datetime, China time")
    expected_datetime: str | None = Field(description="the deadline's date")
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Created(BaseModel):
    service_request_id: str
    service_notice: str = Field(description="the tracking number to quote, in Chinese")
    account_id: str | None


class Open311Error(BaseModel):
    code: int = Field(description="the HTTP status")
    description: str = Field(description="why, and what to do about it")


_XML_DOC = {"text/xml": {"schema": {"type": "string", "description": "GeoReport v2 XML"}}}
_WHY = {
    400: "the form body could not be read",
    401: "api_key is missing, unknown or revoked",
    404: "no such service or request",
    413: (
        "the body is larger than the limit; the platform's body limit answers this before "
        "Open311 sees the request, in the platform's error shape"
    ),
    422: "a parameter is missing or invalid; the description names it and why",
    503: (
        "the database is unavailable (Open311 errors) or the server is busy (a short page, "
        "Retry-After says when to try again)"
    ),
}


def _responses(
    ok: int, model: Any, *, xml: bool, errors: tuple[int, ...]
) -> dict[int | str, dict[str, Any]]:
    """What an Open311 operation answers: GeoReport v2 JSON (and XML for a path that may end
    in `.xml`), errors as Open311's list of errors. service.errors leaves them as they are."""
    alternatives = _XML_DOC if xml else {}
    documented: dict[int | str, dict[str, Any]] = {
        ok: {"model": model, "description": "GeoReport v2", "content": dict(alternatives)}
    }
    for status in errors:
        if status == 413:
            body = {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
            documented[status] = {
                "description": _WHY[status],
                "content": {"application/json": body},
            }
            continue
        content: dict[str, Any] = dict(alternatives)
        if status == 503:
            content["text/html"] = {"schema": {"type": "string"}}
        documented[status] = {
            "model": list[Open311Error],
            "description": _WHY[status],
            "content": content,
        }
    return documented


def is_open311(path: str) -> bool:
    return path.startswith(PREFIX)


def error_answer(
    path: str, status: int, description: str, headers: dict[str, str] | None = None
) -> Response:
    """An error on an Open311 path, in Open311's shape: XML when the path ends in `.xml`."""
    response = _error("xml" if path.endswith(".xml") else "json", status, description)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


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


Format = Annotated[str, Path(pattern=r"^(json|xml)$", description="json or xml")]
ServiceCode = Annotated[
    str,
    Path(
        pattern=r"^[a-z][a-z0-9_]{1,31}(\.(json|xml))?$",
        description="a service code, optionally ending in .json or .xml",
    ),
]
RequestId = Annotated[
    str,
    Path(
        pattern=rf"^{open311.REQUEST_ID}(\.(json|xml))?$",
        description="a service_request_id (32 hex digits), optionally ending in .json or .xml",
    ),
]
# The GeoReport v2 filters; RequestQuery.parse reads exactly what these patterns admit.
Ids = Annotated[
    str | None,
    Query(
        max_length=2000,
        pattern=open311.REQUEST_IDS,
        description="comma-separated service_request_ids (32 hex digits each); no default "
        "90-day window then",
    ),
]
Codes = Annotated[
    str | None,
    Query(max_length=500, pattern=open311.SERVICE_CODES, description="comma-separated codes"),
]
# The format on the string itself (Query's json_schema_extra would put it beside anyOf).
W3CDateTime = Annotated[str, Field(max_length=40, json_schema_extra={"format": "date-time"})]
Start = Annotated[
    W3CDateTime | None,
    Query(description="W3C datetime (RFC 3339); default 90 days ago unless ids or end_date given"),
]
End = Annotated[
    W3CDateTime | None, Query(description="W3C datetime (RFC 3339), not before start_date")
]
Status = Annotated[
    str | None,
    Query(max_length=20, pattern=open311.STATUSES, description="open, closed or open,closed"),
]
_GET = (404, 422, 503)
_POST = (400, 401, 413, 422, 503)
_POST_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code"],
                    "properties": {
                        "api_key": {"type": "string"},
                        "service_code": {"type": "string"},
                        "description": {"type": "string"},
                        "phone": {"type": "string"},
                        "address_string": {"type": "string"},
                        "first_name": {
                            "type": "string",
                            "description": "given name; with last_name, the complainant's "
                            "name when attribute[complainant_name] is not sent",
                        },
                        "last_name": {"type": "string", "description": "family name"},
                        **{
                            f"attribute[{name}]": {"type": "string", "description": label}
                            for name, label, _ in open311.ATTRIBUTES
                        },
                    },
                }
            }
        },
    }
}


@router.get(
    "/services",
    summary="The services: the registry's sectors",
    responses=_responses(200, list[Open311Service], xml=False, errors=(503,)),
)
def list_services(session: SessionDep) -> Response:
    return _run("json", "services", lambda: open311.services(session))


@router.get(
    "/services.{fmt}",
    summary="The services, as JSON or XML",
    responses=_responses(200, list[Open311Service], xml=True, errors=(422, 503)),
)
def list_services_as(fmt: Format, session: SessionDep) -> Response:
    return _run(fmt, "services", lambda: open311.services(session))


@router.get(
    "/services/{code}",
    summary="A service's definition (its attributes)",
    responses=_responses(200, Open311ServiceDefinition, xml=True, errors=_GET),
)
def read_service(code: ServiceCode, session: SessionDep) -> Response:
    try:
        base, fmt = _split(code)
    except NotFound as exc:
        return _error("json", 404, exc.detail)
    return _run(fmt, "services", lambda: open311.service_definition(session, base))


@router.get(
    "/requests",
    summary="Public complaint views",
    responses=_responses(200, list[Open311Request], xml=False, errors=(422, 503)),
)
def list_requests(
    session: SessionDep,
    service_request_id: Ids = None,
    service_code: Codes = None,
    start_date: Start = None,
    end_date: End = None,
    status: Status = None,
) -> Response:
    return _requests(
        "json", session, service_request_id, service_code, start_date, end_date, status
    )


@router.get(
    "/requests.{fmt}",
    summary="Public complaint views, as JSON or XML",
    responses=_responses(200, list[Open311Request], xml=True, errors=(422, 503)),
)
def list_requests_as(
    fmt: Format,
    session: SessionDep,
    service_request_id: Ids = None,
    service_code: Codes = None,
    start_date: Start = None,
    end_date: End = None,
    status: Status = None,
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


@router.get(
    "/requests/{request_id}",
    summary="One public complaint view (a list of one)",
    responses=_responses(200, list[Open311Request], xml=True, errors=_GET),
)
def read_request(request_id: RequestId, session: SessionDep) -> Response:
    try:
        base, fmt = _split(request_id)
    except NotFound as exc:
        return _error("json", 404, exc.detail)
    return _run(fmt, "requests", lambda: [open311.request(session, base)])


@router.post(
    "/requests",
    summary="File a complaint (needs api_key)",
    status_code=201,
    responses=_responses(201, list[Open311Created], xml=False, errors=_POST),
    openapi_extra=_POST_FORM,
)
async def post_request(request: Request, session: SessionDep) -> Response:
    return await _post("json", request, session)


@router.post(
    "/requests.{fmt}",
    summary="File a complaint, answer as JSON or XML",
    status_code=201,
    responses=_responses(201, list[Open311Created], xml=True, errors=_POST),
    openapi_extra=_POST_FORM,
)
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
