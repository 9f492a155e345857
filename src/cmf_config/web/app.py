"""The ASGI application of `cmf-config serve` (Starlette): the page, its actions and /api.

The catalog and rules are compiled once when the app is made; every request carries its
whole state in the query string, so the server keeps nothing per user and any number of
worker processes can answer. The solver is not thread-safe: each process serialises its
steps with one lock and runs them in a worker thread, off the event loop.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import graphviz
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cmf_config import report
from cmf_config.bounded import Completion
from cmf_config.configurator import Configurator, module_totals
from cmf_config.diagram import vehicle_diagram
from cmf_config.dump import config_to_yaml
from cmf_config.errors import Diagnostic, InputError, Span
from cmf_config.load import load_catalog, vehicle_from_document
from cmf_config.paths import bundled_dir
from cmf_config.rules import rules_by_id
from cmf_config.source import decode, parse_text
from cmf_config.web import pages
from cmf_config.web.state import (
    MAX_QUERY,
    State,
    StateError,
    config_of,
    parse_query,
    state_of_config,
    to_query,
    with_assignment,
)
from cmf_config.workspace import Workspace

log = logging.getLogger("cmf_config.web")

MAX_UPLOAD = 1_000_000
"""Default bound of a request body in bytes (an uploaded configuration file)."""

STATIC = Path(__file__).parent / "static"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


# ------------------------------------------------------------------ middleware


class _TooLarge(Exception):
    pass


class Guard:
    """Bounds request bodies (413 past `limit` bytes) and adds the security headers."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(scope, self.limit)(scope, receive, send_with_headers)
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, bounded_receive, send_with_headers)
        except _TooLarge:
            if started:
                raise
            await _too_large(scope, self.limit)(scope, receive, send_with_headers)


def _too_large(scope: Scope, limit: int) -> Response:
    diag = Diagnostic(
        code="E108",
        span=Span("request", 1, 1),
        message=f"the request body is too large (the limit is {limit} bytes)",
        hint="send a smaller configuration file, or start the server with a larger --max-upload",
    )
    return _diagnostics_response(scope, "The upload is too large", [diag], 413)


def _is_api(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/api")


def _diagnostics_response(
    scope: Scope,
    title: str,
    diagnostics: list[Diagnostic] | tuple[Diagnostic, ...],
    status: int,
    lines: Mapping[int, str] | None = None,
) -> Response:
    if _is_api(scope):
        by_file: dict[str, list[Diagnostic]] = {}
        for d in diagnostics:
            by_file.setdefault(d.span.path, []).append(d)
        document = json.loads(report.validate_json([(p, False, ds) for p, ds in by_file.items()]))
        return JSONResponse(document, status_code=status)
    return HTMLResponse(pages.error_page(title, diagnostics, lines), status_code=status)


# ------------------------------------------------------------------ the service


class Service:
    """The compiled workspace and what the routes ask of it."""

    def __init__(self, workspace: Workspace, source: str) -> None:
        self.workspace = workspace
        self.configurator = Configurator(workspace)
        self.rules = rules_by_id(workspace.rules)
        self.source = source
        # The empty state's step at start: it builds the guarded rule solver and finds every
        # dead value's reason once (2.4 s on the synthetic line), so no visitor waits for it.
        self.configurator.step({})

    def state(self, request: Request, extra: tuple[str, ...] = ()) -> State:
        return parse_query(self.workspace, request.url.query, extra)

    def query(self, state: State) -> str:
        return to_query(self.workspace.problem, state)

    def page_data(self, state: State) -> pages.PageData:
        ws = self.workspace
        conf = self.configurator
        step = conf.step(state.assignment)
        config = config_of(ws, state)
        query = self.query(state)
        built = totals = None
        similar: list[Any] = []
        explanation = None
        conflict_rules: tuple[str, ...] = ()
        conflict_choices: tuple[str, ...] = ()
        fix_query = None
        fix_changes: list[Any] = []
        fix_proven = True
        if step.completion is not None:
            built = conf.built(config, state.assignment, step.completion)
            totals = module_totals(built)
            similar = conf.similar(built)
        if not step.consistent:
            found_conflict = conf.explain(state.assignment)
            if found_conflict is not None:
                conflict, derivation = found_conflict
                explanation = report.explanation(derivation, ws.problem, self.rules, config)
                conflict_rules = conflict.rules
                conflict_choices = conflict.choices
            found = conf.fix(state.assignment)
            if found is not None:
                fix_changes = list(found.changes)
                fix_proven = found.proven
                fix_query = self.query(with_assignment(state, found.assignment))
        fields = [(k, v) for k, v in (p.split("=", 1) for p in query.split("&") if "=" in p)]
        from urllib.parse import unquote

        return pages.PageData(
            query=query,
            name=state.name,
            vehicle=state.vehicle,
            step=step,
            problem=ws.problem,
            catalog=ws.catalog,
            rules=self.rules,
            source=self.source,
            built=built,
            totals=totals or (),
            similar=similar,
            explanation=explanation,
            conflict_rules=conflict_rules,
            conflict_choices=conflict_choices,
            fix_query=fix_query,
            fix_changes=fix_changes,
            fix_proven=fix_proven,
            state_fields=[(unquote(k), unquote(v)) for k, v in fields],
        )

    def step_document(self, state: State) -> dict[str, object]:
        """The JSON of one step: options with reasons, count, resolved BOM, closest vehicles."""
        data = self.page_data(state)
        step = data.step
        built = data.built
        return {
            "catalog": self.workspace.catalog.root,
            "source": self.source,
            "query": data.query,
            "consistent": step.consistent,
            "chosen": {
                name: self.workspace.value_id(name, index)
                for name, index in step.assignment.items()
            },
            "slots": {
                slot: {
                    "possible": list(found.possible),
                    "excluded": {k: list(v) for k, v in found.excluded.items()},
                }
                for slot, found in step.options.items()
            },
            "count": step.count,
            "count_at_least": (
                step.counted.value if step.counted is not None and not step.counted.exact else None
            ),
            "least_cost": (
                {
                    "proven": step.least.proven,
                    "cost": step.least.cost / 100,
                    "lower_bound": step.least.bound / 100,
                }
                if step.least is not None
                else None
            ),
            "build": json.loads(report.build_json(built)) if built is not None else None,
            "modules": [
                {
                    "module": t.module,
                    "variant": t.variant,
                    "pieces": t.parts,
                    "cost": t.cost,
                    "mass_kg": t.mass_kg,
                }
                for t in data.totals
            ],
            "similar": [
                {"vehicle": s.vehicle, "name": s.name, "ratio": s.ratio, "shared": s.shared}
                for s in data.similar
            ],
            "explanation": data.explanation,
            "fix": data.fix_query,
            "illustrative": True,
        }


# ------------------------------------------------------------------ routes


Handler = Callable[[Request], Awaitable[Response]]


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def guarded(handler: Handler) -> Handler:
    """Turn a StateError or InputError into a 400 with the positioned diagnostics."""

    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except StateError as exc:
            return _diagnostics_response(
                request.scope, "This link does not name a configuration", exc.diagnostics, 400
            )
        except InputError as exc:
            return _diagnostics_response(
                request.scope, "This configuration cannot be read", exc.diagnostics, 400
            )

    wrapper.__doc__ = handler.__doc__
    wrapper.__name__ = handler.__name__
    return wrapper


@guarded
async def home(request: Request) -> Response:
    service = _service(request)
    state = service.state(request)
    data = await run_in_threadpool(service.page_data, state)
    return HTMLResponse(pages.page(data))


@guarded
async def start(request: Request) -> Response:
    service = _service(request)
    vid = request.query_params.get("vehicle", "")
    vehicles = service.workspace.catalog.vehicles
    if vid not in vehicles:
        from cmf_config.suggest import did_you_mean

        raise StateError(
            [
                Diagnostic(
                    code="E230",
                    span=Span("query", 1, 1),
                    message=f"unknown catalog vehicle '{vid}'{did_you_mean(vid, vehicles)}",
                    hint="pick a vehicle from the list on the page",
                )
            ]
        )
    state = state_of_config(service.workspace, vehicles[vid].config, vehicle=vid)
    return RedirectResponse(f"/?{service.query(state)}", status_code=303)


async def _read_upload(request: Request) -> tuple[str, str]:
    """(display name, text) of the uploaded file: a multipart field `file` or a raw body."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=50)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InputError(
                [
                    Diagnostic(
                        code="E001",
                        span=Span("upload", 1, 1),
                        message="no file was sent",
                        hint="choose a YAML configuration file, then upload",
                    )
                ]
            )
        data = await upload.read()
        name = upload.filename or "upload.yaml"
    else:
        data = await request.body()
        name = "upload.yaml"
    # The client's file name is shown, never opened: keep its last part, plain characters.
    shown = re.sub(r"[^A-Za-z0-9._-]", "_", name.replace("\\", "/").rsplit("/", 1)[-1])[:80]
    display = f"upload/{shown or 'upload.yaml'}"
    return display, decode(display, data)


def _load_upload(service: Service, display: str, text: str) -> State:
    doc = parse_text(text, display)
    vehicle = vehicle_from_document(doc, service.workspace.catalog)
    return state_of_config(service.workspace, vehicle.config)


async def upload(request: Request) -> Response:
    service = _service(request)
    text = ""
    try:
        display, text = await _read_upload(request)
        state = await run_in_threadpool(_load_upload, service, display, text)
    except (InputError, StateError) as exc:
        lines = dict(enumerate(text.splitlines(), start=1))
        return _diagnostics_response(
            request.scope, "This configuration file cannot be used", exc.diagnostics, 400, lines
        )
    query = service.query(state)
    if len(query) > MAX_QUERY:
        diag = Diagnostic(
            code="E265",
            span=Span(display, 1, 1),
            message=f"the configuration with its own parts needs a link of {len(query)} characters (the limit is {MAX_QUERY})",
            hint="list fewer extra_parts, or check the file with `cmf-config build` instead",
        )
        return _diagnostics_response(
            request.scope, "This configuration file cannot be used", [diag], 400, {}
        )
    return RedirectResponse(f"/?{query}", status_code=303)


@guarded
async def fix(request: Request) -> Response:
    service = _service(request)
    state = service.state(request)
    found = await run_in_threadpool(service.configurator.fix, state.assignment)
    if found is None:
        raise StateError([_nothing_valid()])
    return RedirectResponse(
        f"/?{service.query(with_assignment(state, found.assignment))}", status_code=303
    )


def _nothing_valid() -> Diagnostic:
    return Diagnostic(
        code="E302",
        span=Span("query", 1, 1),
        message="no valid configuration exists at all with this catalog and these rules",
        hint="run `cmf-config lint` on the catalog",
    )


def _goal(request: Request, service: Service) -> tuple[str, str | None]:
    goal = request.query_params.get("goal", "cost")
    with_ = request.query_params.get("with") or None
    if goal not in ("cost", "mass", "sharing"):
        raise StateError(
            [
                Diagnostic(
                    code="E230",
                    span=Span("query", 1, 1),
                    message=f"unknown goal '{goal}'",
                    hint="goal is cost, mass or sharing",
                )
            ]
        )
    if goal == "sharing" and (with_ is None or with_ not in service.workspace.catalog.vehicles):
        raise StateError(
            [
                Diagnostic(
                    code="E230",
                    span=Span("query", 1, 1),
                    message=f"unknown catalog vehicle '{with_ or ''}' to share parts with",
                    hint="pick a catalog vehicle",
                )
            ]
        )
    return goal, with_


async def _completion(request: Request, service: Service) -> tuple[State, str, Completion | None]:
    """The state, the goal and the optimal completion a complete request asks for."""
    state = service.state(request, ("goal", "with"))
    goal, with_ = _goal(request, service)
    completed = await run_in_threadpool(
        service.configurator.complete,
        state.assignment,
        "cost" if goal == "sharing" else goal,
        with_ if goal == "sharing" else None,
    )
    return state, goal, completed


@guarded
async def complete(request: Request) -> Response:
    service = _service(request)
    state, _goal_asked, completed = await _completion(request, service)
    if completed is None:  # the choices conflict: the page explains it
        return RedirectResponse(f"/?{service.query(state)}", status_code=303)
    return RedirectResponse(
        f"/?{service.query(with_assignment(state, completed.assignment))}", status_code=303
    )


@guarded
async def download(request: Request) -> Response:
    service = _service(request)
    state = service.state(request)
    config = config_of(service.workspace, state)
    text = config_to_yaml(
        config, "written by cmf-config serve; check it with `cmf-config validate`"
    )
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", state.name).strip("-").lower()[:60] or "vehicle"
    return Response(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{stem}.yaml"'},
    )


def _diagram_svg(service: Service, state: State) -> bytes:
    conf = service.configurator
    step = conf.step(state.assignment)
    config = config_of(service.workspace, state)
    built = None
    violated = []
    if step.completion is not None:
        built = conf.built(config, state.assignment, step.completion)
    else:
        found = conf.explain(state.assignment)
        if found is not None:
            violated = [service.rules[r] for r in found[0].rules]
    graph = vehicle_diagram(service.workspace.catalog, config, built=built, violated=violated)
    svg: bytes = graph.pipe(format="svg", engine="dot")
    return svg


@guarded
async def diagram(request: Request) -> Response:
    service = _service(request)
    state = service.state(request)
    try:
        svg = await run_in_threadpool(_diagram_svg, service, state)
    except graphviz.ExecutableNotFound:
        return PlainTextResponse(
            "the Graphviz program 'dot' is not installed on the server", status_code=503
        )
    return Response(svg, media_type="image/svg+xml")


# ------------------------------------------------------------------ /api


def _json_text(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="application/json")


@guarded
async def api_step(request: Request) -> Response:
    """
    summary: One configurator step.
    description: Options with reasons for every slot, the exact count, the least-cost BOM and the closest catalog vehicles for the configuration in the query string (slot=value pairs).
    responses:
      200: {description: the step document}
      400: {description: positioned diagnostics of the query string}
    """
    service = _service(request)
    state = service.state(request)
    document = await run_in_threadpool(service.step_document, state)
    return JSONResponse(document)


@guarded
async def api_options(request: Request) -> Response:
    """
    summary: Options (as `cmf-config options --format json`).
    responses:
      200: {description: "{consistent, slots: {slot: {possible, excluded}}}"}
      400: {description: positioned diagnostics}
    """
    service = _service(request)
    state = service.state(request)
    step = await run_in_threadpool(service.configurator.step, state.assignment)
    open_options = {k: v for k, v in step.options.items() if k not in state.assignment}
    return _json_text(report.options_json(open_options, step.consistent))


def _explain_text(service: Service, state: State) -> str:
    config = config_of(service.workspace, state)
    found = service.configurator.explain(state.assignment)
    return report.explain_json(
        None if found is None else found[0],
        None if found is None else found[1],
        service.workspace.problem,
        service.rules,
        config,
        state.assignment,
    )


@guarded
async def api_explain(request: Request) -> Response:
    """
    summary: Explain a conflict (as `cmf-config explain --format json`).
    responses:
      200: {description: "{consistent, conflict: [...], text}"}
      400: {description: positioned diagnostics}
    """
    service = _service(request)
    state = service.state(request)
    return _json_text(await run_in_threadpool(_explain_text, service, state))


@guarded
async def api_fix(request: Request) -> Response:
    """
    summary: The nearest valid configuration (as `cmf-config fix --format json`, plus its query).
    responses:
      200: {description: "{changes: [{slot, from, to}], count, written, query, proven}"}
      400: {description: positioned diagnostics}
    """
    service = _service(request)
    state = service.state(request)
    found = await run_in_threadpool(service.configurator.fix, state.assignment)
    if found is None:
        raise StateError([_nothing_valid()])
    document = json.loads(report.changes_json(list(found.changes), None))
    document["query"] = service.query(with_assignment(state, found.assignment))
    document["proven"] = found.proven
    return JSONResponse(document)


@guarded
async def api_complete(request: Request) -> Response:
    """
    summary: Fill the open slots optimally (as `cmf-config complete --format json`, plus its query).
    parameters:
      - {name: goal, in: query, schema: {type: string, enum: [cost, mass, sharing]}}
      - {name: with, in: query, schema: {type: string}, description: catalog vehicle id for goal=sharing}
    responses:
      200: {description: "{filled, objective, written, query, proven}"}
      400: {description: positioned diagnostics}
      409: {description: the choices conflict (the explain document)}
    """
    service = _service(request)
    state, goal, completed = await _completion(request, service)
    if completed is None:
        return _json_text(await run_in_threadpool(_explain_text, service, state), 409)
    ws = service.workspace
    filled = {
        s.name: ws.value_id(s.name, completed.assignment[s.name])
        for s in ws.problem.slots
        if s.name not in state.assignment
    }
    document = {
        "filled": filled,
        "objective": goal,
        "written": None,
        "query": service.query(with_assignment(state, completed.assignment)),
        "proven": completed.proven,
    }
    return JSONResponse(document)


@guarded
async def api_build(request: Request) -> Response:
    """
    summary: Resolve into modules and a BOM (as `cmf-config build --format json`).
    responses:
      200: {description: the build document}
      400: {description: positioned diagnostics}
      409: {description: the choices conflict (the explain document)}
    """
    service = _service(request)
    state = service.state(request)
    step = await run_in_threadpool(service.configurator.step, state.assignment)
    if step.completion is None:
        return _json_text(await run_in_threadpool(_explain_text, service, state), 409)
    config = config_of(service.workspace, state)
    built = service.configurator.built(config, state.assignment, step.completion)
    return _json_text(report.build_json(built))


@guarded
async def api_share(request: Request) -> Response:
    """
    summary: Parts sharing with a catalog vehicle (as `cmf-config share A B --format json`).
    parameters:
      - {name: with, in: query, required: true, schema: {type: string}, description: catalog vehicle id}
    responses:
      200: {description: the pairwise sharing document}
      400: {description: positioned diagnostics}
      409: {description: the choices conflict (the explain document)}
    """
    service = _service(request)
    state = service.state(request, ("with",))
    with_ = request.query_params.get("with", "")
    if with_ not in service.workspace.catalog.vehicles:
        raise StateError(
            [
                Diagnostic(
                    code="E230",
                    span=Span("query", 1, 1),
                    message=f"unknown catalog vehicle '{with_}'",
                    hint="give with=ID, an id from `cmf-config catalog list`",
                )
            ]
        )
    step = await run_in_threadpool(service.configurator.step, state.assignment)
    if step.completion is None:
        return _json_text(await run_in_threadpool(_explain_text, service, state), 409)
    config = config_of(service.workspace, state)
    built = service.configurator.built(config, state.assignment, step.completion)
    pair = service.configurator.compare_with(built, with_)
    return JSONResponse(report.pair_json(pair))  # type: ignore[arg-type]


async def api_validate(request: Request) -> Response:
    """
    summary: Validate (as `cmf-config validate --format json`).
    description: GET validates the configuration of the query string; POST validates a YAML configuration file sent as the body (or as the multipart field `file`). Unreadable input answers 400 with its positioned diagnostics.
    responses:
      200: {description: "{files: [{file, valid, diagnostics}]}"}
      400: {description: positioned diagnostics}
      413: {description: the body is larger than the server's limit}
    """
    service = _service(request)
    try:
        if request.method == "POST":
            display, text = await _read_upload(request)
            doc = parse_text(text, display)
            config = vehicle_from_document(doc, service.workspace.catalog).config
            state_of_config(service.workspace, config)
            shown = display
        else:
            state = service.state(request)
            config = config_of(service.workspace, state)
            shown = "query"
    except (InputError, StateError) as exc:
        return _diagnostics_response(request.scope, "", exc.diagnostics, 400)

    def check() -> str:
        with service.configurator.lock:
            verdict = service.workspace.validate(config)
        diags = report.verdict_diagnostics(verdict, service.workspace.problem, service.rules)
        return report.validate_json([(shown, verdict.is_valid, diags)])

    return _json_text(await run_in_threadpool(check))


SCHEMAS = SchemaGenerator(
    {
        "openapi": "3.0.0",
        "info": {
            "title": "cmf-config serve",
            "version": "1",
            "description": "The configurator's JSON API. Every endpoint reads the configuration from the query string: one parameter per slot (brand=..., platform=..., adas_l2=true), open slots left out; `name` and `vehicle` (the catalog vehicle started from) are optional. The documents are those of the CLI's --format json (docs/cli.md).",
        },
    }
)


async def openapi(request: Request) -> Response:
    """The OpenAPI document of /api, from the endpoints' docstrings."""
    return JSONResponse(SCHEMAS.get_schema(routes=request.app.routes))


# ------------------------------------------------------------------ errors


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _is_api(request.scope):
        return JSONResponse({"error": exc.detail, "status": exc.status_code}, exc.status_code)
    return PlainTextResponse(f"{exc.status_code} {exc.detail}\n", status_code=exc.status_code)


async def internal_error(request: Request, exc: Exception) -> Response:
    """A real bug: logged with its traceback on the server, a generic 500 to the client."""
    log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    message = "internal error: this is a bug in cmf-config; the server log has the details"
    if _is_api(request.scope):
        return JSONResponse({"error": message, "status": 500}, 500)
    return PlainTextResponse(message + "\n", status_code=500)


# ------------------------------------------------------------------ the app


def describe_source(catalog_dir: Path | None, rules_dir: Path | None, workspace: Workspace) -> str:
    """Which catalog and rules the server checks against (shown on every page)."""
    catalog = str(catalog_dir) if catalog_dir else "the bundled catalog"
    rules = str(rules_dir) if rules_dir else "the bundled rules"
    authored = sum(1 for r in workspace.rules if not r.builtin)
    return (
        f"{catalog} ({len(workspace.catalog.modules)} module variants, "
        f"{len(workspace.catalog.vehicles)} vehicles) and {rules} ({authored} rules)"
    )


def create_app(
    catalog_dir: Path | None = None, rules_dir: Path | None = None, max_upload: int = MAX_UPLOAD
) -> ASGIApp:
    """The application: compiles the catalog and rules now (InputError if they are unusable)."""
    catalog = load_catalog(catalog_dir)
    workspace = Workspace(catalog, rules_dir or bundled_dir("rules"))
    service = Service(workspace, describe_source(catalog_dir, rules_dir, workspace))
    api = [
        Route("/api/step", api_step),
        Route("/api/options", api_options),
        Route("/api/validate", api_validate, methods=["GET", "POST"]),
        Route("/api/explain", api_explain),
        Route("/api/fix", api_fix),
        Route("/api/complete", api_complete),
        Route("/api/build", api_build),
        Route("/api/share", api_share),
    ]
    routes = [
        Route("/", home, include_in_schema=False),
        Route("/start", start, include_in_schema=False),
        Route("/upload", upload, methods=["POST"], include_in_schema=False),
        Route("/fix", fix, include_in_schema=False),
        Route("/complete", complete, include_in_schema=False),
        Route("/download.yaml", download, include_in_schema=False),
        Route("/diagram.svg", diagram, include_in_schema=False),
        *api,
        Route("/api/openapi.json", openapi, include_in_schema=False),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )
    app.state.service = service
    return Guard(app, max_upload)


def app_from_environment() -> ASGIApp:
    """The app for `uvicorn --factory` and for several workers: settings from CMF_CONFIG_*."""
    catalog = os.environ.get("CMF_CONFIG_CATALOG") or None
    rules = os.environ.get("CMF_CONFIG_RULES") or None
    limit = int(os.environ.get("CMF_CONFIG_MAX_UPLOAD") or MAX_UPLOAD)
    return create_app(Path(catalog) if catalog else None, Path(rules) if rules else None, limit)
