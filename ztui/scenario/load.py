"""Loading a scenario: a file (or a trace's embedded scenario) -> frozen attrs Scenario, every problem at once.

A scenario file is data.  Loading reads it through ztui.input_files
(bounded, regular files only), parses TOML with tomllib, structures it
with cattrs (ztui.scenario.structure) and applies the rules across fields
(ztui.scenario.rules), ending with a boot of the machine; nothing in it is
evaluated and no other file is read.

Every problem is one line, ``FILE: key.path: what was found; what is
allowed``, and all of them are reported at once: when a table fails to
structure, its good fields are salvaged so the rules across fields still
run on them, and a rule is only silenced when it depends on a value that
already has a problem.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from ztui.scenario.errors import ScenarioError
from ztui.scenario.messages import Problem, render
from ztui.scenario.model import Scenario
from ztui.scenario.read import Unusable, leading_comment, read_toml
from ztui.scenario.rules import boot_problems, overlaps, rule_problems
from ztui.scenario.structure import Spelling, structure_sections


def load_scenario(path: str | Path) -> Scenario:
    """The scenario in ``path``; raises ScenarioError listing every problem."""
    scenario, problems = _load(Path(path))
    if problems:
        raise ScenarioError(problems)
    assert scenario is not None
    return scenario


def check_scenario(path: str | Path) -> list[str]:
    """Every problem in ``path``, one line each; empty when it loads."""
    return _load(Path(path))[1]


def scenario_from_data(data: dict, where: str) -> Scenario:
    """A trace's embedded scenario (quantities in base units), judged by exactly the rules a file is.

    Raises ScenarioError; each problem reads ``WHERE: key.path: ...``.
    """
    scenario, problems = _from_raw(data, Spelling.BASE_UNITS)
    if problems:
        raise ScenarioError([f"{where}: {problem}" for problem in problems])
    assert scenario is not None
    return scenario


def scenario_problems(scenario: Scenario) -> list[str]:
    """The rules ``ztui check`` applies, for a Scenario built in code (e.g. a sweep's grid point)."""
    sections = {field.name: getattr(scenario, field.name) for field in attrs.fields(Scenario)}
    problems = rule_problems(sections, set()) or boot_problems(scenario)
    return [f"{render(where)}: {what}" for where, what in problems]


def _load(path: Path) -> tuple[Scenario | None, list[str]]:
    try:
        text, raw = read_toml(path)
    except Unusable as exc:
        return None, [f"{path}: {exc}"]
    defaults = {"name": path.stem, "description": leading_comment(text)}
    scenario, problems = _from_raw(raw, Spelling.FILE, defaults)
    return scenario, [f"{path}: {problem}" for problem in problems]


def _from_raw(raw: dict, spelling: Spelling, defaults: dict | None = None) -> tuple[Scenario | None, list[str]]:
    sections, failed, problems = structure_sections(raw, spelling)
    problems += [rule for rule in rule_problems(sections, failed) if not overlaps(rule[0], failed)]
    if not problems:
        scenario = Scenario(**{**(defaults or {}), **sections})
        problems = boot_problems(scenario)
        if not problems:
            return scenario, []
    return None, _in_file_order(problems, raw)


def _in_file_order(problems: list[Problem], raw: dict) -> list[str]:
    order = {key: index for index, key in enumerate(raw)}
    problems = sorted(problems, key=lambda problem: order.get(problem[0][0], len(order)))  # by section
    return [f"{render(where)}: {what}" for where, what in problems]
