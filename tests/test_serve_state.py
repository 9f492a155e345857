"""The URL carries an uploaded file's own parts (`extra_parts`): the link of an uploaded
configuration reproduces its bill of materials, its download and its /api/build document."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.cli import main
from cmf_config.model import PartLine
from cmf_config.web.app import create_app
from cmf_config.web.state import State, parse_query, to_query

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app()


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _parts(document: dict[str, Any]) -> list[tuple[str, str, int, float, float]]:
    return sorted(
        (p["part"], p["name"], p["quantity"], p["unit_cost"], p["unit_mass_kg"])
        for p in document.get("extra_parts", [])
    )


def test_an_uploaded_files_parts_travel_in_the_link(client: TestClient, tmp_path: Path) -> None:
    text = (ROOT / "examples" / "city-ev.yaml").read_bytes()
    uploaded = client.post(
        "/upload", files={"file": ("city-ev.yaml", text)}, follow_redirects=False
    )
    assert uploaded.status_code == 303
    link = uploaded.headers["location"]
    assert "parts=EX-CITY-0001," in link
    query = urlsplit(link).query
    # the link alone (no upload, as another user or worker sees it) gives the same vehicle
    build = client.get(f"/api/build?{query}").json()
    lines = {line["part"] for line in build["bom"]}
    want = yaml.safe_load(text.decode("utf-8"))
    assert {p["part"] for p in want["extra_parts"]} <= lines
    download = client.get(f"/download.yaml?{query}")
    assert _parts(yaml.safe_load(download.text)) == _parts(want)
    path = tmp_path / "again.yaml"
    path.write_bytes(download.content)
    assert main(["validate", str(path)]) == 0
    page = client.get(link)
    assert "EX-CITY-0007" in page.text


def test_a_bad_parts_parameter_is_positioned(client: TestClient) -> None:
    response = client.get("/api/build?platform=cmf-bev&parts=X-1,two,1.0,1.0,thing")
    assert response.status_code == 400
    diag = response.json()["files"][0]["diagnostics"][0]
    assert diag["code"] == "E264"
    assert (diag["line"], diag["column"]) == (1, len("platform=cmf-bev&parts=") + 1)
    assert "not a number" in diag["message"]
    short = client.get("/api/build?parts=X-1,1,1.0")
    assert short.json()["files"][0]["diagnostics"][0]["code"] == "E264"


def test_too_many_parts_for_a_link_are_refused_on_upload(client: TestClient) -> None:
    lines = "".join(
        f"  - {{part: P-{i:05d}, name: part number {i}, quantity: 1, unit_cost: 1.5, unit_mass_kg: 0.25}}\n"
        for i in range(400)
    )
    text = f"name: many\nbrand: renault\nplatform: cmf-bev\nextra_parts:\n{lines}"
    response = client.post("/upload", files={"file": ("many.yaml", text.encode())})
    assert response.status_code == 400
    assert "E265" in response.text


FIELD = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"),
    min_size=1,
    max_size=12,
).filter(str.strip)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            FIELD,
            FIELD,
            st.integers(1, 50),
            st.floats(0, 1e6, allow_nan=False),
            st.floats(0, 1e4, allow_nan=False),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_parts_round_trip_through_the_query(
    app: Any, parts: list[tuple[str, str, int, float, float]]
) -> None:
    """Any part numbers and names (commas, semicolons, percent signs, spaces) come back."""
    workspace = app.app.state.service.workspace
    lines = tuple(
        PartLine(part=p, name=n, quantity=q, unit_cost=c, unit_mass_kg=m) for p, n, q, c, m in parts
    )
    state = State(assignment={}, parts=lines)
    back = parse_query(workspace, to_query(workspace.problem, state))
    assert [(p.part, p.name, p.quantity, p.unit_cost, p.unit_mass_kg) for p in back.parts] == [
        (p.part, p.name, p.quantity, p.unit_cost, p.unit_mass_kg) for p in lines
    ]


def test_the_page_says_when_the_count_and_the_least_cost_are_not_exact(app: Any) -> None:
    """A product line past d4 and past the step's budget: the page says "at least" and "not
    proven least" with the bound, never a bare number presented as exact."""
    import attrs

    from cmf_config.bounded import Completion, Count
    from cmf_config.web import pages

    service = app.app.state.service
    data = service.page_data(parse_query(service.workspace, "platform=cmf-bev"))
    step = data.step
    assert step.counted is not None
    assert step.counted.exact
    assert (
        f">{step.counted.value:,}</span> buildable vehicles left (exact count, d4)"
        in pages.page(data)
    )
    assert step.least is not None
    rough = attrs.evolve(
        step,
        count=None,
        counted=Count(value=4321, exact=False, how="product"),
        least=Completion(
            assignment=step.least.assignment,
            cost=step.least.cost + 500,
            proven=False,
            bound=step.least.cost - 250,
            how="improved",
        ),
    )
    html = pages.page(attrs.evolve(data, step=rough))
    assert 'At least <span id="count-at-least">4,321</span> buildable vehicles left' in html
    assert "not an exact count" in html
    assert f"no completion costs less than {(step.least.cost - 250) / 100:,.2f}" in html
