"""Server-rendered HTML of the configurator. Every catalog or client string goes through `esc`.

No template engine: the page is a handful of functions returning HTML text, each dynamic
value escaped at the point it is written. No inline script or style (the Content-Security-
Policy forbids them): behaviour is in static/app.js, looks in static/style.css.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import attrs

from cmf_config.configurator import ModuleTotal, Similar, Step
from cmf_config.errors import Diagnostic
from cmf_config.model import KINDS, BuiltVehicle, Catalog
from cmf_config.problem import Problem
from cmf_config.reprs import shared_repr
from cmf_config.rules import Rule
from cmf_config.solver import Change

GROUPS = (
    ("Vehicle", ("brand", "platform", "segment", "body", "powertrain")),
    ("Big modules", KINDS),
    ("Market and options", ("market", "steering", "drive", "battery_kwh", "wheelbase_mm")),
)


def esc(text: object) -> str:
    """Text escaped for HTML element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class PageData:
    """What one page shows (computed by the app, rendered here)."""

    query: str
    name: str
    vehicle: str | None
    step: Step
    problem: Problem
    catalog: Catalog
    rules: Mapping[str, Rule]
    source: str
    built: BuiltVehicle | None = None
    totals: Sequence[ModuleTotal] = ()
    similar: Sequence[Similar] = ()
    explanation: str | None = None
    conflict_rules: Sequence[str] = ()
    conflict_choices: Sequence[str] = ()
    fix_query: str | None = None
    fix_changes: Sequence[Change] = ()
    fix_proven: bool = True
    state_fields: Sequence[tuple[str, str]] = ()


def value_label(catalog: Catalog, problem: Problem, slot: str, value: str) -> str:
    """A value as a person reads it: the id, and the catalog's name where there is one."""
    if problem.slot(slot).is_bool:
        return "on" if value == "true" else "off"
    named: str | None = None
    if slot in KINDS and value in catalog.modules:
        named = catalog.modules[value].name
    elif slot == "brand" and value in catalog.brands:
        named = catalog.brands[value].name
    elif slot == "platform" and value in catalog.platforms:
        named = catalog.platforms[value].name
    elif slot == "market":
        market = catalog.market(value)
        named = market.name if market else None
    return f"{value} ({named})" if named and named != value else value


def _rule_line(rule: Rule | None, rule_id: str) -> str:
    if rule is None:
        return f"<code>{esc(rule_id)}</code>"
    message = rule.message or rule.description
    return f'<code>{esc(rule.id)}</code> {esc(message)} <span class="where">{esc(rule.span)}</span>'


def _control(data: PageData, slot: str) -> str:
    problem = data.problem
    s = problem.slot(slot)
    chosen = data.step.assignment.get(slot)
    found = data.step.options.get(slot)
    label = s.label or slot
    if s.is_bool:
        label = f"{label} ({slot})" if label != slot else slot
    opts: list[str] = []
    open_text = "(open)"
    if found is not None and chosen is None:
        open_text = f"(open: {len(found.possible)} possible)"
    opts.append(
        f'<option value=""{" selected" if chosen is None else ""}>{esc(open_text)}</option>'
    )

    def option(index: int, extra: str = "", cls: str = "") -> str:
        value = s.values[index].id
        text = value_label(data.catalog, problem, slot, value) + extra
        selected = " selected" if chosen == index else ""
        klass = f' class="{cls}"' if cls else ""
        return f'<option value="{esc(value)}"{selected}{klass}>{esc(text)}</option>'

    excluded_ids: Mapping[str, tuple[str, ...]] = {}
    if found is None:
        opts += [option(i) for i in range(len(s.values))]
    else:
        excluded_ids = found.excluded
        possible = [i for i, v in enumerate(s.values) if v.id in found.possible]
        banned = [i for i, v in enumerate(s.values) if v.id in found.excluded]
        if possible:
            opts.append('<optgroup label="possible">')
            opts += [option(i) for i in possible]
            opts.append("</optgroup>")
        if banned:
            opts.append('<optgroup label="excluded by rules (pick one to see why)">')
            for i in banned:
                rules = found.excluded[s.values[i].id]
                why_short = ", ".join(rules) or "reason not computed yet"
                opts.append(option(i, f" \u2715 {why_short}", "excluded"))
            opts.append("</optgroup>")
    state = ""
    if chosen is not None:
        state = ' data-state="chosen"'
        if slot in data.conflict_choices or (
            found is not None and s.values[chosen].id in found.excluded
        ):
            state = ' data-state="conflict"'
    why = ""
    if excluded_ids:
        items = []
        for value, rules in excluded_ids.items():
            reasons = (
                "; ".join(_rule_line(data.rules.get(r), r) for r in rules)
                or "excluded (proved); its reason was not computed within this step's time budget"
            )
            shown = value_label(data.catalog, problem, slot, value)
            items.append(f"<li><b>{esc(shown)}</b>: {reasons}</li>")
        why = (
            f'<details class="why" id="why-{esc(slot)}"><summary>{len(excluded_ids)} excluded: why</summary>'
            f"<ul>{''.join(items)}</ul></details>"
        )
    return (
        f'<div class="control"{state}><label for="s-{esc(slot)}">{esc(label)}</label>'
        f'<select id="s-{esc(slot)}" name="{esc(slot)}">{"".join(opts)}</select>{why}</div>'
    )


def _form(data: PageData) -> str:
    parts = ['<form id="config" method="get" action="/" class="card">']
    parts.append('<h2>Configuration</h2><div class="control">')
    parts.append(
        f'<label for="s-name">vehicle name</label><input id="s-name" name="name" maxlength="200" value="{esc(data.name)}"></div>'
    )
    if data.vehicle:
        parts.append(f'<input type="hidden" name="vehicle" value="{esc(data.vehicle)}">')
    features = tuple(s.name for s in data.problem.slots if s.is_bool)
    for title, slots in (*GROUPS, ("Features", features)):
        present = [s for s in slots if data.problem.has(s)]
        if not present:
            continue
        parts.append(f"<fieldset><legend>{esc(title)}</legend>")
        parts += [_control(data, s) for s in present]
        parts.append("</fieldset>")
    parts.append('<div class="buttons"><button type="submit">Apply choices</button>')
    parts.append('<a class="button" href="/">Start over</a></div></form>')
    return "".join(parts)


def _status(data: PageData) -> str:
    step = data.step
    out = ['<section class="card" id="status" aria-live="polite"><h2>Status</h2>']
    open_slots = len(data.problem.slots) - len(step.assignment)
    if not step.consistent:
        out.append('<p class="bad"><b>Conflict:</b> no valid vehicle has all these choices.</p>')
        if data.explanation:
            out.append(f'<pre class="explanation">{esc(data.explanation)}</pre>')
        if data.conflict_rules:
            out.append("<ul>")
            out += [f"<li>{_rule_line(data.rules.get(r), r)}</li>" for r in data.conflict_rules]
            out.append("</ul>")
        if data.fix_query is not None:
            changes = ", ".join(f"{c.slot}: {c.before} \u2192 {c.after}" for c in data.fix_changes)
            out.append(
                f'<p><a id="fix" class="button primary" href="/?{esc(data.fix_query)}">'
                f"Apply the nearest valid configuration</a> <span>({esc(changes)})</span></p>"
            )
            if not data.fix_proven:
                out.append(
                    '<p class="note">The fewest changes found within the time budget; '
                    "a valid configuration with fewer changes was not ruled out.</p>"
                )
    elif open_slots == 0:
        out.append('<p class="good"><b>Valid:</b> a complete vehicle that meets every rule.</p>')
    else:
        out.append(
            f'<p class="good"><b>Consistent:</b> {open_slots} slots open; every value offered as possible has a valid completion.</p>'
        )
    counted = step.counted
    if counted is not None and counted.exact:
        how = "d4" if counted.how == "d4" else "every one enumerated"
        out.append(
            f'<p class="count"><span id="count">{counted.value:,}</span> buildable vehicles left (exact count, {how})</p>'
        )
    elif counted is not None:
        out.append(
            f'<p class="count">At least <span id="count-at-least">{counted.value:,}</span> buildable vehicles left: '
            "not an exact count (d4 did not compile these rules at start; this many distinct "
            "valid vehicles were enumerated before the enumeration stopped at its bound).</p>"
        )
    else:
        out.append('<p class="count">The number of buildable vehicles is not available.</p>')
    out.append(f'<p class="source">checked against {esc(data.source)}</p></section>')
    return "".join(out)


def _bom(data: PageData) -> str:
    if data.built is None:
        return '<section class="card" id="bom"><h2>Bill of materials</h2><p>No vehicle resolves while the choices conflict.</p></section>'
    built = data.built
    rows = []
    for total in data.totals:
        filled = " (filled)" if total.module in built.filled else ""
        rows.append(
            f"<tr><th scope=row>{esc(total.module.replace('_', ' '))}</th><td>{esc(total.variant)}{esc(filled)}</td>"
            f'<td class="num">{total.parts}</td><td class="num">{total.cost:,.2f}</td><td class="num">{total.mass_kg:,.1f}</td></tr>'
        )
    filled = ", ".join(f"{k}={v}" for k, v in sorted(built.filled.items()))
    least = data.step.least
    if least is not None and not least.proven:
        how = (
            f"at the least cost found within the step's time budget, not proven least "
            f"(no completion costs less than {least.bound / 100:,.2f})"
        )
    else:
        how = "at least cost"
    note = (
        f'<details class="note" id="filled"><summary>{len(built.filled)} open slots filled {esc(how)}</summary>{esc(filled)}</details>'
        if filled
        else ""
    )
    lines = "".join(
        f"<tr><td>{esc(b.part)}</td><td>{esc(b.name)}</td><td>{esc(b.module)}</td><td class=num>{b.quantity}</td>"
        f"<td class=num>{b.unit_cost:,.2f}</td><td class=num>{b.unit_mass_kg:,.2f}</td></tr>"
        for b in built.bom
    )
    return (
        '<section class="card" id="bom"><h2>Bill of materials <small>(illustrative data)</small></h2>'
        f'{note}<div class="scroll"><table><thead><tr><th>module</th><th>variant</th><th>pieces</th><th>cost EUR</th><th>mass kg</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody><tfoot><tr><th>total</th><td></td><td class=num>{built.total_parts}</td>"
        f'<td class=num id="total-cost">{built.total_cost:,.2f}</td><td class=num>{built.total_mass_kg:,.1f}</td></tr></tfoot></table></div>'
        f'<details><summary>{len(built.bom)} BOM lines</summary><div class="scroll"><table><thead><tr><th>part</th><th>name</th><th>module</th><th>qty</th><th>unit cost</th><th>unit kg</th></tr></thead>'
        f"<tbody>{lines}</tbody></table></div></details>"
        "<p class=note>Part numbers, costs and masses of the bundled catalog are illustrative, not real data.</p></section>"
    )


def _similar(data: PageData) -> str:
    if not data.similar:
        return ""
    items = "".join(
        f"<li><b>{esc(s.name)}</b> <code>{esc(s.vehicle)}</code>: {100 * s.ratio:.1f}% of part numbers shared ({s.shared}) "
        f'<a href="/complete?{esc(data.query)}{"&amp;" if data.query else ""}goal=sharing&amp;with={esc(s.vehicle)}">complete sharing the most with it</a></li>'
        for s in data.similar
    )
    return (
        '<section class="card" id="similar"><h2>Closest catalog vehicles</h2>'
        f'<ol>{items}</ol><p class="note">Headline ratio: Dice over part numbers, 2s/(|A|+|B|) (docs/sharing.md).</p></section>'
    )


def _diagram(data: PageData) -> str:
    if data.built is None and not data.step.consistent:
        return ""
    src = f"/diagram.svg?{data.query}" if data.query else "/diagram.svg"
    return (
        '<section class="card" id="diagram"><h2>Vehicle diagram</h2>'
        f'<a href="{esc(src)}"><img src="{esc(src)}" alt="diagram of the vehicle: brand, platform and the five big modules"></a></section>'
    )


def _hidden(fields: Sequence[tuple[str, str]]) -> str:
    return "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in fields)


def _actions(data: PageData) -> str:
    q = data.query
    amp = "&amp;" if q else ""
    vehicles = sorted(data.catalog.vehicles.values(), key=lambda v: v.id)
    vehicle_options = "".join(
        f'<option value="{esc(v.id)}">{esc(v.config.name)} ({esc(v.id)})</option>' for v in vehicles
    )
    complete = ""
    if data.step.consistent:
        complete = (
            "<h3>Complete the open slots</h3><p>"
            f'<a class="button" id="complete-cost" href="/complete?{esc(q)}{amp}goal=cost">at least cost</a> '
            f'<a class="button" id="complete-mass" href="/complete?{esc(q)}{amp}goal=mass">at least mass</a></p>'
            '<form method="get" action="/complete" class="inline">'
            f'{_hidden(data.state_fields)}<input type="hidden" name="goal" value="sharing">'
            f'<label for="share-with">sharing the most parts with</label> <select id="share-with" name="with">{vehicle_options}</select> '
            "<button type=submit>complete</button></form>"
        )
    return (
        '<section class="card" id="actions"><h2>Actions</h2>'
        f"{complete}"
        "<h3>Download</h3>"
        f'<p><a class="button" id="download" href="/download.yaml?{esc(q)}" download>configuration as YAML</a> '
        f'<a class="button" href="/api/step?{esc(q)}">step as JSON</a></p>'
        "<h3>Start from</h3>"
        '<form method="get" action="/start" class="inline"><label for="start-vehicle">a catalog vehicle</label> '
        f'<select id="start-vehicle" name="vehicle">{vehicle_options}</select> <button type="submit">start</button></form>'
        '<form method="post" action="/upload" enctype="multipart/form-data" class="inline">'
        '<label for="upload-file">a YAML configuration file</label> '
        '<input id="upload-file" type="file" name="file" accept=".yaml,.yml,text/yaml"> <button type="submit">upload</button></form>'
        "</section>"
    )


def _layout(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>"
        '<link rel="stylesheet" href="/static/style.css">'
        '<script src="/static/app.js" defer></script></head><body>'
        '<header><h1><a href="/">cmf-config</a> <span>configurator</span></h1></header>'
        f"<main>{body}</main>"
        '<footer>cmf-config serve: every value offered is backed by the SAT engine; <a href="/api/openapi.json">API</a></footer>'
        "</body></html>"
    )


def page(data: PageData) -> str:
    """The configurator page of one state."""
    body = (
        f'<div class="columns"><div class="left">{_form(data)}</div>'
        f'<div class="right">{_status(data)}{_bom(data)}{_similar(data)}{_diagram(data)}{_actions(data)}</div></div>'
    )
    return _layout(f"{data.name}: cmf-config", body)


def error_page(
    title: str, diagnostics: Sequence[Diagnostic], lines: Mapping[int, str] | None = None
) -> str:
    """A page listing positioned diagnostics (an upload or a link that cannot be read)."""
    items = []
    for d in diagnostics:
        source = ""
        if lines is not None and d.span.line in lines:
            text = lines[d.span.line].expandtabs(1)
            caret = " " * max(0, d.span.col - 1) + "^"
            source = f"<pre>{esc(text)}\n{esc(caret)}</pre>"
        hint = f"<p>hint: {esc(d.hint)}</p>" if d.hint else ""
        items.append(
            f"<li><code>{esc(d.span)}</code>: {esc(d.severity.value)} <b>{esc(d.code)}</b>: {esc(d.message)}{source}{hint}</li>"
        )
    body = (
        f'<section class="card" id="errors"><h2>{esc(title)}</h2><ul class="diagnostics">{"".join(items)}</ul>'
        '<p><a class="button" href="/">Start over</a></p></section>'
    )
    return _layout(title, body)
