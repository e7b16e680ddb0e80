"""One name for one idea: docs/parameters.md and the README's algorithm table match the code."""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from .conftest import initialised_algorithms

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(\w+)` \| ([^|]+?) \| ([^|]+?) \| (.+) \|$")
NONE = "—"


def _section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def parse_default(cell: str) -> tuple[str, dict[str, str]]:
    """``"200 (a: 30, b: 40)"`` -> ``("200", {"a": "30", "b": "40"})``."""
    main, _, rest = cell.partition(" (")
    return main.strip(), dict(re.findall(r"(\w+): ([^,)]+)", rest))


def same_default(doc: str, value, param) -> bool:
    if value is None or value == "":
        return doc == NONE
    if param.type() == "enum":  # the option's core name (what scripts pass) or its label in the dialog
        names = param.metadata().get("geoml_option_names") or param.options()
        return doc in (param.options()[int(value)], names[int(value)])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(doc) == float(value)
        except ValueError:
            return False
    return doc == str(value)


def documented_parameters() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    rows = {}
    for line in _section(text, "Shared parameters").splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(1)] = (m.group(2).strip(), m.group(3).strip())
    return rows


def test_shared_parameters_are_documented_with_their_type_and_default(qgis_app):
    doc = documented_parameters()
    assert len(doc) > 30, "docs/parameters.md could not be parsed"
    users = defaultdict(list)
    algs = initialised_algorithms()  # keep the algorithms alive while their parameter objects are used
    for alg in algs:
        for param in alg.parameterDefinitions():
            users[param.name()].append((alg.name(), param))
    problems = []
    for name, uses in sorted(users.items()):
        if len(uses) > 1 and name not in doc:
            problems.append(f"{name} is shared by {[a for a, _ in uses]} but not in docs/parameters.md")
    for name, (kind, default_cell) in doc.items():
        if name not in users:
            problems.append(f"{name} is documented but no algorithm has it")
            continue
        default, exceptions = parse_default(default_cell)
        for alg_name, param in users[name]:
            if kind != "varies" and param.type() != kind:
                problems.append(f"{alg_name}.{name}: type {param.type()}, documented {kind}")
            expected = exceptions.get(alg_name, default)
            if kind != "varies" and not same_default(expected, param.defaultValue(), param):
                problems.append(f"{alg_name}.{name}: default {param.defaultValue()!r}, documented {expected}")
        unknown = set(exceptions) - {a for a, _ in users[name]}
        if unknown:
            problems.append(f"{name}: exceptions for algorithms without it: {sorted(unknown)}")
    assert not problems, "\n".join(problems)


def test_figures_table_lists_every_declared_number(qgis_app):
    text = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    doc = {}
    for line in _section(text, "Figures").splitlines():
        m = re.match(r"^\| `(\w+)` \| ([^|]+?) \| .+ \|$", line)
        if m:
            doc[m.group(1)] = {a.strip() for a in m.group(2).split(",")}
    code = defaultdict(set)
    for alg in initialised_algorithms():
        for out in alg.outputDefinitions():
            if out.type() in ("outputNumber", "outputString"):
                code[out.name()].add(alg.name())
    assert doc == dict(code)


def test_readme_algorithm_table_matches_the_provider(qgis_app):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `geoml:(\w+)` \| ([^|]+?) \|", _section(text, "Algorithms"), re.M))
    code = {alg.name(): alg.group() for alg in initialised_algorithms()}
    assert rows == code


def test_parse_default():
    assert parse_default("200 (boreholesequencemodel: 30, trainspectralclassifier: 40)") == (
        "200", {"boreholesequencemodel": "30", "trainspectralclassifier": "40"})
    assert parse_default("auto") == ("auto", {})


def test_every_algorithm_links_its_readme_section(qgis_app):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^##+ (.+)$", text, re.M)}
    for alg in initialised_algorithms():
        url = alg.helpUrl()
        assert url.startswith("https://github.com/geoml-qgis/geoml-qgis#"), url
        assert url.split("#", 1)[1] in anchors, f"{alg.name()}: {url} is no README section"
