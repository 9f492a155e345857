"""`cmf-config serve`: the app through Starlette's test client (httpx), and the step engine
against the engine's own answers (options, count, sharing) as the oracle."""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.bounded import cost_of
from cmf_config.cli import main
from cmf_config.configurator import Configurator
from cmf_config.count import _d4_count
from cmf_config.paths import bundled_dir
from cmf_config.sharing import compare
from cmf_config.solver import int_weights
from cmf_config.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).parents[1]
HOSTILE = "</title><script>alert(\"x\")</script> 'q' ]]> &amp;"


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app()


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def service_of(app: Any) -> Any:
    return app.app.state.service


# ------------------------------------------------------------------ the page


def test_page_has_a_labelled_control_for_every_slot(client: TestClient, app: Any) -> None:
    response = client.get("/?platform=cmf-b-hs")
    assert response.status_code == 200
    page = response.text
    for slot in service_of(app).workspace.problem.slots:
        assert f'<label for="s-{slot.name}">' in page
        assert f'<select id="s-{slot.name}" name="{slot.name}">' in page
    # every value the engine excludes is greyed, with its rules and their file:line
    options = client.get("/api/options?platform=cmf-b-hs").json()
    excluded = options["slots"]["brand"]["excluded"]
    assert excluded
    value, rules = next(iter(excluded.items()))
    assert re.search(
        rf'<option value="{re.escape(value)}" class="excluded">[^<]*{re.escape(rules[0])}', page
    )
    rule = service_of(app).rules[rules[0]]
    assert f"<code>{rules[0]}</code>" in page
    assert str(rule.span) in page


def test_security_headers_and_no_inline_script(client: TestClient) -> None:
    for url in ("/", "/api/step", "/static/app.js", "/nothing-here", "/api/openapi.json"):
        response = client.get(url)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "default-src 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
    page = client.get("/").text
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []
    assert " style=" not in page
    assert "<style" not in page
    assert re.findall(r"<[^>]+\son[a-z]+=", page) == []  # no inline event handlers


def test_conflict_shows_the_explanation_and_a_fix_link(client: TestClient) -> None:
    page = client.get("/?brand=dacia&platform=cmf-b-hs").text
    assert "Conflict" in page
    assert "Because you chose brand &#x27;dacia&#x27;" in page
    assert "so no valid vehicle has these choices." in page
    assert "dacia-platforms" in page
    fix = re.search(r'<a id="fix" class="button primary" href="/\?([^"]*)"', page)
    assert fix is not None
    fixed = client.get("/api/step?" + fix.group(1).replace("&amp;", "&")).json()
    assert fixed["consistent"] is True
    assert fixed["chosen"]["brand"] == "dacia"  # the fewest changes: the platform moves


def test_state_in_the_url_reproduces_the_page(client: TestClient) -> None:
    redirect = client.get("/start?vehicle=clio-v", follow_redirects=False)
    assert redirect.status_code == 303
    query = redirect.headers["location"].split("?", 1)[1]
    first = client.get("/?" + query).text
    second = client.get("/?" + query).text
    assert first == second
    step = client.get("/api/step?" + query).json()
    assert step["consistent"] is True
    assert step["count"] == 1
    assert step["build"]["totals"]["cost"] > 0


# ------------------------------------------------------------------ the API documents


def test_api_documents_match_the_cli(client: TestClient, tmp_path: Path) -> None:
    invalid = ROOT / "examples" / "invalid" / "uk-sedan-with-lhd-cockpit.yaml"
    upload = client.post("/upload", files={"file": ("x.yaml", invalid.read_bytes())})
    assert upload.status_code == 200  # redirected to the page
    query = str(upload.url).split("?", 1)[1]
    explained = client.get("/api/explain?" + query).json()
    assert explained["consistent"] is False
    assert {"type", "id", "file", "line", "column"} <= set(explained["conflict"][0])
    fixed = client.get("/api/fix?" + query).json()
    assert fixed["count"] == len(fixed["changes"]) >= 1
    assert client.get("/api/step?" + fixed["query"]).json()["consistent"] is True
    completed = client.get("/api/complete?platform=cmf-b-hs&goal=mass").json()
    assert completed["objective"] == "mass"
    assert "brand" in completed["filled"]
    built = client.get("/api/build?platform=cmf-b-hs").json()
    assert set(built) >= {"brand", "platform", "modules", "bom", "totals", "filled"}
    shared = client.get("/api/share?platform=cmf-b-hs&with=clio-v").json()
    assert 0 <= shared["ratio"] <= 1
    validated = client.get("/api/validate?" + fixed["query"]).json()
    assert validated["files"][0]["valid"] is True
    schema = client.get("/api/openapi.json").json()
    assert {"/api/step", "/api/options", "/api/validate", "/api/explain", "/api/fix"} <= set(
        schema["paths"]
    )
    assert {"/api/complete", "/api/build", "/api/share"} <= set(schema["paths"])


def test_bad_query_answers_400_with_positions(client: TestClient) -> None:
    response = client.get("/api/options?platform=cmf-b-hs&cockpit=ck-b-lhx&bogus=1")
    assert response.status_code == 400
    diags = response.json()["files"][0]["diagnostics"]
    by_code = {d["code"]: d for d in diags}
    assert by_code["E230"]["column"] == len("platform=cmf-b-hs&cockpit=") + 1
    assert "did you mean" in by_code["E230"]["message"]
    assert by_code["E262"]["column"] == len("platform=cmf-b-hs&cockpit=ck-b-lhx&") + 1
    page = client.get("/?brand=nope")
    assert page.status_code == 400
    assert "query:1:7" in page.text
    assert client.get("/api/complete?goal=fastest").status_code == 400
    assert client.get("/api/share?with=nope").status_code == 400
    assert client.get("/api/nothing").json()["status"] == 404


# ------------------------------------------------------------------ uploads and downloads


def test_upload_errors_are_positioned_and_bounded(client: TestClient) -> None:
    broken = b"name: x\nplatform: cmf-b-hs\nmodules:\n  cockpit: [\n"
    response = client.post("/api/validate", content=broken)
    assert response.status_code == 400
    diag = response.json()["files"][0]["diagnostics"][0]
    assert diag["file"] == "upload.yaml" or diag["file"].startswith("upload")
    assert diag["line"] >= 4
    page = client.post("/upload", files={"file": ("../../etc/passwd", b"name: x\nbrand: nope\n")})
    assert page.status_code == 400
    assert "upload/passwd:2:8" in page.text
    assert "unknown brand" in page.text
    assert client.post("/api/validate", content=b"x" * 1_000_001).status_code == 413
    assert client.post("/api/validate", content=b"\x00\x01").status_code == 400
    assert client.post("/upload", data={"nofile": "1"}).status_code == 400


def test_small_upload_limit() -> None:
    with TestClient(create_app(max_upload=100), raise_server_exceptions=False) as small:
        response = small.post("/upload", files={"file": ("a.yaml", b"name: " + b"x" * 200)})
        assert response.status_code == 413
        assert "E108" in response.text


def test_downloaded_yaml_validates_with_the_cli(client: TestClient, tmp_path: Path) -> None:
    query = client.get("/start?vehicle=kangoo-iii", follow_redirects=False).headers["location"]
    response = client.get("/download.yaml?" + query.split("?", 1)[1])
    assert response.headers["content-disposition"].startswith("attachment;")
    path = tmp_path / "vehicle.yaml"
    path.write_bytes(response.content)
    assert main(["validate", str(path)]) == 0
    uploaded = client.post("/upload", files={"file": ("v.yaml", response.content)})
    # the same choices; the vehicle's own parts now travel in the link (`parts=`)
    link = str(uploaded.url).split("?", 1)[1]
    without_parts = "&".join(p for p in link.split("&") if not p.startswith("parts="))
    assert without_parts == query.split("?", 1)[1].replace("&vehicle=kangoo-iii", "").replace(
        "vehicle=kangoo-iii&", ""
    )
    assert client.get(f"/download.yaml?{link}").text == response.text


def test_static_files_cannot_reach_outside(client: TestClient) -> None:
    for url in (
        "/static/../pyproject.toml",
        "/static/%2e%2e/app.py",
        "/static/..%2f..%2fREADME.md",
    ):
        assert client.get(url).status_code == 404


# ------------------------------------------------------------------ safety


def test_hostile_catalog_strings_are_escaped(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(bundled_dir("catalog"), catalog)
    path = catalog / "vehicles" / "clio-v.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "name: Renault Clio V E-Tech hybrid", f"name: '{HOSTILE.replace(chr(39), chr(39) * 2)}'"
        ),
        encoding="utf-8",
    )
    with TestClient(create_app(catalog), raise_server_exceptions=False) as c:
        location = c.get("/start?vehicle=clio-v", follow_redirects=False).headers["location"]
        for url in ("/", location, "/diagram.svg?" + location.split("?", 1)[1]):
            body = c.get(url).text
            assert "<script>alert" not in body
            assert "]]>" not in body
        page = c.get(location).text
        assert "&lt;/title&gt;&lt;script&gt;alert(&quot;x&quot;)" in page
        download = c.get("/download.yaml?" + location.split("?", 1)[1]).text
        assert HOSTILE in _loaded_name(download)


def _loaded_name(text: str) -> str:
    import yaml

    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return str(data["name"])


def test_a_bug_answers_a_generic_500(
    app: Any, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("secret detail /etc/shadow")

    monkeypatch.setattr(service_of(app).configurator, "step", broken)
    for url in ("/?platform=cmf-b-hs&segment=B", "/api/step?platform=cmf-b-hs&segment=B"):
        response = client.get(url)
        assert response.status_code == 500
        assert "secret" not in response.text
        assert "Traceback" not in response.text
        assert "internal error" in response.text


# ------------------------------------------------------------------ the step engine


@pytest.fixture(scope="module")
def configurator(app: Any) -> Configurator:
    conf: Configurator = service_of(app).configurator
    return conf


@st.composite
def partial(draw: st.DrawFn, conf: Configurator) -> dict[str, int]:
    slots = conf.problem.slots
    chosen = draw(st.lists(st.sampled_from([s.name for s in slots]), max_size=4, unique=True))
    return {name: draw(st.integers(0, len(conf.problem.slot(name).values) - 1)) for name in chosen}


def test_steps_match_the_engine(configurator: Configurator) -> None:
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        assignment = data.draw(partial(configurator))
        step = configurator.step(assignment)
        engine = configurator.engine
        assert step.consistent == engine.is_consistent(assignment)
        if not step.consistent:
            assert step.count == 0
            assert step.completion is None
            return
        expected = engine.options(assignment, reasons=False)
        for name, found in expected.items():
            assert set(step.options[name].possible) == set(found.possible)
            assert set(step.options[name].excluded) == set(found.excluded)
        # each reason is a true one: the choices and those rules alone exclude the value
        for name, found in step.options.items():
            others = {k: v for k, v in assignment.items() if k != name}
            for value, rules in found.excluded.items():
                index = configurator.problem.slot(name).index(value)
                assert index is not None
                lits = [
                    *engine.choice_lits({**others, name: index}),
                    *(engine.selectors[r] for r in rules),
                ]
                assert not engine.sat.solve(lits)
        # the count from scratch (d4 on the whole CNF plus the choices) is the oracle
        units = engine.selector_units() + [[lit] for lit in engine.choice_lits(assignment)]
        clauses = [sorted(set(c)) for c in [*engine.encoding.clauses, *units]]
        assert step.count == _d4_count(clauses, engine.encoding.nvars, classic=True)
        assert step.completion is not None
        assert engine.is_consistent(step.completion)
        _check_least(configurator, step, engine.complete(assignment, configurator.weights))
        # a completion proven least for fewer choices stays so for more that agree with it
        slot = next((s.name for s in configurator.problem.slots if s.name not in assignment), None)
        if slot is not None:
            more = {**assignment, slot: step.completion[slot]}
            again = configurator.step(more)
            _check_least(configurator, again, engine.complete(more, configurator.weights))
            if step.least is not None and step.least.proven:
                assert again.least is not None
                assert again.least.proven

    check()


def _check_least(configurator: Configurator, step: Any, optimum: Mapping[str, int] | None) -> None:
    """The step's completion is the cheapest when it says it is proven least (the bundled
    catalog's usual case); otherwise (a step past its time budget on a loaded machine) it
    costs at least the cheapest, and its lower bound at most."""
    assert step.least is not None
    cheapest = _cost(configurator, optimum)
    if step.least.proven:
        assert _cost(configurator, step.completion) == cheapest
    else:
        assert _cost(configurator, step.completion) >= cheapest
        assert step.least.bound / 100 <= cheapest + 1e-9


def _cost(configurator: Configurator, completion: Mapping[str, int] | None) -> float:
    assert completion is not None
    return round(
        sum(configurator.weights.get(k, [0.0] * (v + 1))[v] for k, v in completion.items()), 2
    )


def test_steps_add_no_clause(configurator: Configurator) -> None:
    encoding = configurator.engine.encoding
    before = (len(encoding.clauses), encoding.nvars)
    problem = configurator.problem
    for i in range(30):
        slot = problem.slots[i % len(problem.slots)]
        configurator.step({slot.name: i % len(slot.values), "platform": i % 10})
    assert (len(encoding.clauses), encoding.nvars) == before


def test_closest_vehicles_use_the_headline_ratio(
    client: TestClient, configurator: Configurator
) -> None:
    step = client.get("/api/step?platform=cmf-bev").json()
    assert len(step["similar"]) == 3
    ratios = [s["ratio"] for s in step["similar"]]
    assert ratios == sorted(ratios, reverse=True)
    for item in step["similar"]:
        shared = client.get(f"/api/share?platform=cmf-bev&with={item['vehicle']}").json()
        assert shared["ratio"] == pytest.approx(item["ratio"])
    products = configurator._products
    a, b = sorted(products)[:2]
    assert compare(products[a], products[b]).ratio is not None


def test_serve_command_refuses_bad_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert "not a port number" in capsys.readouterr().err
    assert main(["serve", "--workers", "0"]) == 2
    (tmp_path / "brands.yaml").write_text("x: [\n", encoding="utf-8")
    assert main(["serve", "--catalog", str(tmp_path), "--port", "0"]) == 2
    assert "brands.yaml:2:1" in capsys.readouterr().err


def test_fix_and_complete_match_the_engine_and_say_proven(configurator: Configurator) -> None:
    """The server's fix and completions (anytime, within `action_seconds`) against the
    engine's RC2 answers run to the end: on the bundled catalog they are proven, with the
    same number of changes and the same objective value."""
    engine = configurator.engine
    ws = configurator.workspace
    whole = configurator.optimize({}, {}, 0.0)  # any valid vehicle: the objective is empty
    assert whole is not None
    assert engine.is_consistent(whole.assignment)

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        assignment = data.draw(partial(configurator))
        found = configurator.fix(assignment)
        oracle = engine.fix(assignment, ws.module_weights("cost"))
        assert (found is None) == (oracle is None)
        if found is None or oracle is None:
            return
        _fixed, changes = oracle
        assert found.proven
        assert len(found.changes) == len(changes)
        repaired = {**assignment, **found.assignment}
        assert engine.is_consistent(repaired)
        assert [c.slot for c in found.changes] == [
            k
            for k in sorted(assignment, key=engine.encoding.order.__getitem__)
            if found.assignment[k] != assignment[k]
        ]
        if not engine.is_consistent(assignment):
            return
        for goal in ("cost", "mass"):
            completed = configurator.complete(assignment, goal)
            best = engine.complete(assignment, ws.module_weights(goal))
            assert completed is not None
            assert best is not None
            assert completed.proven
            weights = int_weights(ws.module_weights(goal))
            assert cost_of(weights, completed.assignment) == cost_of(weights, best)
            assert {k: completed.assignment[k] for k in assignment} == assignment
        reference = sorted(ws.catalog.vehicles)[data.draw(st.integers(0, 2))]
        gains = ws.sharing_weights(ws.catalog.vehicles[reference].config)
        shared = configurator.complete(assignment, "cost", reference)
        most = engine.complete(assignment, gains, maximize=True)
        assert shared is not None
        assert most is not None
        assert shared.proven
        exact = int_weights(gains)
        assert cost_of(exact, shared.assignment) == cost_of(exact, most)

    check()


def test_fix_within_a_tiny_budget_is_valid_and_honest(app: Any) -> None:
    """With no time and no RC2 (the path a large line takes), a fix is still a valid
    configuration; it says proven only when it is as near as the engine's."""
    conf = Configurator(service_of(app).workspace, count_seconds=None, action_seconds=0.0)
    conf.rc2_max_clauses = 0
    engine = conf.engine
    assignment = {"platform": conf.problem.slot("platform").index("cmf-bev") or 0}
    assignment["engine_compartment"] = (
        conf.problem.slot("engine_compartment").index("ec-b-ice") or 0
    )
    assert not engine.is_consistent(assignment)
    found = conf.fix(assignment)
    oracle = engine.fix(assignment)
    assert found is not None
    assert oracle is not None
    assert engine.is_consistent({**assignment, **found.assignment})
    assert len(found.changes) >= len(oracle[1])
    if found.proven:
        assert len(found.changes) == len(oracle[1])
    assert conf.complete(assignment, "mass") is None  # no valid completion: None, at once
    chosen = {"platform": assignment["platform"]}
    completed = conf.complete(chosen, "mass")
    assert completed is not None
    assert engine.is_consistent(completed.assignment)
    assert completed.assignment["platform"] == chosen["platform"]
