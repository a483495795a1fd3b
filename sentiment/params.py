"""Reading params.yaml: the rules a stage's keys are checked by, before any stage does work.

Each stage owns its section: its script declares `SECTION` and `PARAMS` (key -> Rule), so
adding or changing a key or its rule stales that stage alone. DVC tracks params key by key,
so a mistyped key (`dvc exp run -S train.learnig_rate=…`) re-runs nothing and is never
read. Each stage therefore rejects unknown keys in its own section, and the `check_params`
stage, which depends on the whole file and on every stage script, checks every section
(found through dvc.yaml's commands: sentiment.pipeline.stage_params) whenever anything
changes.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sentiment.io import PipelineError, before_publishing

PARAMS_FILE = "params.yaml"


@dataclass(frozen=True)
class Rule:
    allowed: str  # what a user may write, for the error message
    ok: Callable[[Any], bool]
    nullable: bool = False


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    """A finite int or float: YAML's .inf and .nan would only fail later, deep in a library."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def integer(minimum: int, nullable: bool = False) -> Rule:
    return Rule(f"an integer >= {minimum}", lambda v: _is_int(v) and v >= minimum, nullable)


def seed() -> Rule:
    """NumPy, TensorFlow and scikit-learn all take seeds in [0, 2**32)."""
    return Rule(f"an integer in [0, {2**32 - 1}]", lambda v: _is_int(v) and 0 <= v < 2**32)


def positive() -> Rule:
    return Rule("a finite number > 0", lambda v: is_number(v) and v > 0)


def fraction(low_open: bool, high_open: bool = True) -> Rule:
    lo, hi = "(" if low_open else "[", ")" if high_open else "]"

    def ok(v: Any) -> bool:
        if not is_number(v):
            return False
        above = v > 0 if low_open else v >= 0
        below = v < 1 if high_open else v <= 1
        return above and below

    return Rule(f"a number in {lo}0, 1{hi}", ok)


def text(nullable: bool = False) -> Rule:
    return Rule("a non-empty string", lambda v: isinstance(v, str) and v.strip() != "", nullable)


def choice(*options: str) -> Rule:
    return Rule("one of " + ", ".join(options), lambda v: v in options)


def flag() -> Rule:
    return Rule("true or false", lambda v: isinstance(v, bool))


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxstring = 2, 3, 3, 40


def short(value: Any) -> str:
    """A value as it may appear in a one-line message: bounded, even for YAML alias bombs."""
    return _SHORT.repr(value)


def _key(key: Any) -> str:
    """A key as written when it is a plain one, else quoted (a newline stays on its line)."""
    plain = isinstance(key, str) and key.isprintable() and 0 < len(key) <= 40
    return key if plain else short(key)


def section_problems(
    name: str, section: Any, rules: dict[str, Rule], only: bool = False
) -> list[str]:
    """Every problem in one section, one line each: key, bad value, what is allowed.
    `only`: check just these keys (another stage's section, of which a stage reads some)."""
    if not isinstance(section, dict):
        return [f"{name}: expected a mapping of {', '.join(rules)}, got {short(section)}"]
    problems = []
    for key in section:
        if key not in rules and not only:
            problems.append(
                f"{name}.{_key(key)}: unknown key (a typo?); known keys: {', '.join(rules)}"
            )
    for key, rule in rules.items():
        if key not in section:
            problems.append(f"{name}.{key}: missing; set it to {rule.allowed}")
            continue
        value = section[key]
        if value is None and rule.nullable:
            continue
        if not rule.ok(value):
            allowed = rule.allowed + (" or null" if rule.nullable else "")
            problems.append(f"{name}.{key}: got {short(value)}; expected {allowed}")
    return problems


class _UniqueKeyLoader(yaml.SafeLoader):
    """params.yaml as DVC reads it: YAML 1.2's core schema (DVC records these values in
    dvc.lock), where PyYAML's default is YAML 1.1. So `01750` is 1750 (not octal 1000),
    `1e-2` is 0.01 (not a string), `1:30` and `yes` are strings (not 90 and true), and a
    date is a string. A key given twice is refused (plain YAML keeps the last one,
    silently). Merge keys (`<<: *defaults`) work, the explicit keys winning."""

    yaml_implicit_resolvers: dict = {}  # none of YAML 1.1's: the core schema's, below

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *defaults`, merged below
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {str(key)[:40]!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def _int12(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
    base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2], 10)
    return sign * int(digits[2:] if base != 10 else digits, base)


def _float12(loader: yaml.SafeLoader, node: yaml.Node) -> float:
    text = loader.construct_scalar(node).lower()
    return float(text.replace(".inf", "inf").replace(".nan", "nan"))


for _tag, _pattern, _first in (
    ("null", r"~|null|Null|NULL|", "~nN"),
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?(0b_*[01][01_]*|0o_*[0-7][0-7_]*|0x_*[0-9a-fA-F][0-9a-fA-F_]*|[0-9][0-9_]*)",
     "-+0123456789"),
    ("float", r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)"
     r"|\.(nan|NaN|NAN)", "-+0123456789."),
    ("merge", r"<<", "<"),
):
    _UniqueKeyLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(f"^(?:{_pattern})$"), [*_first, ""]
        if _tag == "null" else list(_first)
    )
for _first, _resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():  # dates, as DVC
    for _tag, _pattern in _resolvers:
        if _tag == "tag:yaml.org,2002:timestamp":
            _UniqueKeyLoader.add_implicit_resolver(_tag, _pattern, [_first])
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _int12)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _float12)
_UniqueKeyLoader.add_constructor(
    "tag:yaml.org,2002:bool", lambda loader, node: loader.construct_scalar(node).lower() == "true"
)


def load_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise PipelineError(f"{path} not found: run stages from the repository root") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PipelineError(f"{path} is not valid YAML ({problem}{where}): fix the file") from None
    if not isinstance(data, dict):
        raise PipelineError(f"{path} must be a mapping of sections, one per stage (`train:`, …)")
    return data


def all_problems(params: dict[str, Any], schemas: dict[str, dict[str, Rule]]) -> list[str]:
    problems = [
        f"{_key(name)}: unknown section (a typo?); known sections: {', '.join(schemas)}"
        for name in params
        if name not in schemas
    ]
    for name, rules in schemas.items():
        if name not in params:
            problems.append(f"{name}: section missing from {PARAMS_FILE}")
        else:
            problems.extend(section_problems(name, params[name], rules))
    return problems


def raise_if(problems: list[str]) -> None:
    if problems:
        raise PipelineError(f"invalid {PARAMS_FILE}:\n  " + "\n  ".join(problems))


def read_section(
    name: str, rules: dict[str, Rule], path: str | Path = PARAMS_FILE, only: bool = False
) -> dict[str, Any]:
    """A stage's own params section, validated by its rules, before the stage touches
    anything (`only`: just these keys of another stage's section)."""
    params = load_params(path)
    if name not in params:
        raise PipelineError(f"{name}: section missing from {path}")
    raise_if(section_problems(name, params[name], rules, only))
    section = {k: params[name][k] for k in rules} if only else dict(params[name])
    before_publishing(lambda: _unchanged(name, section, path, only))
    _read[name] = section
    return dict(section)  # the caller's to change: what was read stays as read


# The sections read_section returned in this process: what made this stage's outputs.
_read: dict[str, dict[str, Any]] = {}


def used_path(stage: str) -> str:
    """Where a stage records the params values that made its outputs. DVC hashes this
    output like the others, so dvc.lock's params can be checked against it (provenance)."""
    return f"data/params_used/{stage}.json"


def used() -> dict[str, Any]:
    """The values this process read, keyed as dvc.yaml and dvc.lock name them."""
    return {f"{name}.{key}": v for name, section in _read.items() for key, v in section.items()}


def _unchanged(name: str, section: dict[str, Any], path: str | Path, only: bool) -> None:
    """DVC records params.yaml's values in dvc.lock after the stage's command ends: refuse
    to publish outputs made with other values than the ones it would record."""
    try:
        now = load_params(path).get(name)
    except PipelineError:
        now = None
    if only and isinstance(now, dict):
        now = {k: now.get(k) for k in section}
    if now != section:
        raise PipelineError(
            f"the `{name}` section of {path} changed while the stage ran, so dvc.lock would "
            "record values that did not make its outputs: nothing was published; run "
            "`dvc repro` again"
        )
