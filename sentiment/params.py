"""The one schema for params.yaml, checked before any stage does work.

DVC tracks params key by key, so a mistyped key (`dvc exp run -S train.learnig_rate=…`)
re-runs nothing and is never read. Each stage therefore rejects unknown keys in its own
section, and the `check_params` stage, which depends on the whole file, checks every
section whenever anything in it changes.
"""

from __future__ import annotations

import math
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


def _is_number(v: Any) -> bool:
    """A finite int or float: YAML's .inf and .nan would only fail later, deep in a library."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def integer(minimum: int, nullable: bool = False) -> Rule:
    return Rule(f"an integer >= {minimum}", lambda v: _is_int(v) and v >= minimum, nullable)


def seed() -> Rule:
    """NumPy, TensorFlow and scikit-learn all take seeds in [0, 2**32)."""
    return Rule(f"an integer in [0, {2**32 - 1}]", lambda v: _is_int(v) and 0 <= v < 2**32)


def positive() -> Rule:
    return Rule("a finite number > 0", lambda v: _is_number(v) and v > 0)


def fraction(low_open: bool, high_open: bool = True) -> Rule:
    lo, hi = "(" if low_open else "[", ")" if high_open else "]"

    def ok(v: Any) -> bool:
        if not _is_number(v):
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


SCHEMA: dict[str, dict[str, Rule]] = {
    "prepare": {
        "dataset": text(),
        "revision": text(nullable=True),
        "split": choice("random", "official"),
        "test_size": fraction(low_open=True),
        "seed": seed(),
        "max_samples": integer(4, nullable=True),
        "dedupe": flag(),
        "unlabelled": flag(),
    },
    "encode": {
        "max_vocab": integer(2),
        "max_seq": integer(1),
        "oov_token": text(),
        "padding": choice("pre", "post"),
        "truncating": choice("pre", "post"),
        "strip_html": flag(),
    },
    "embed": {
        "vectors": text(),
        "revision": text(nullable=True),
        "dim": integer(1),
        "limit": integer(1, nullable=True),
        "seed": seed(),
        "window": integer(1),
        "epochs": integer(1),
        "min_count": integer(1),
        "case_fallback": flag(),
    },
    "train": {
        "units": integer(1),
        "spatial_dropout": fraction(low_open=False),
        "dropout": fraction(low_open=False),
        "dense_dropout": fraction(low_open=False),
        "learning_rate": positive(),
        "weight_decay": Rule("a finite number >= 0", lambda v: _is_number(v) and v >= 0),
        "batch_size": integer(1),
        "epochs": integer(1),
        "validation_split": fraction(low_open=False),
        "lr_factor": fraction(low_open=True),
        "lr_patience": integer(0),
        "seed": seed(),
        "deterministic": flag(),
        "mixed_precision": flag(),
        "distribute": choice("auto", "off"),
    },
    "evaluate": {
        "batch_size": integer(1),
    },
    "baseline": {
        "ngram_max": integer(1),
        "min_df": integer(1),
        "max_features": integer(1, nullable=True),
        "C": positive(),
        "max_iter": integer(1),
    },
    "nbsvm": {
        "ngram_max": integer(1),
        "min_df": integer(1),
        "alpha": positive(),
        "C": positive(),
        "beta": fraction(low_open=False, high_open=False),
        "max_iter": integer(1),
    },
}


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxstring = 2, 3, 3, 40


def short(value: Any) -> str:
    """A value as it may appear in a one-line message: bounded, even for YAML alias bombs."""
    return _SHORT.repr(value)


def _key(key: Any) -> str:
    """A key as written when it is a plain one, else quoted (a newline stays on its line)."""
    plain = isinstance(key, str) and key.isprintable() and 0 < len(key) <= 40
    return key if plain else short(key)


def section_problems(name: str, section: Any) -> list[str]:
    """Every problem in one section, one line each: key, bad value, what is allowed."""
    rules = SCHEMA[name]
    if not isinstance(section, dict):
        return [f"{name}: expected a mapping of {', '.join(rules)}, got {short(section)}"]
    problems = []
    for key in section:
        if key not in rules:
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
    """YAML that refuses a key given twice (plain YAML keeps the last one, silently).
    Merge keys (`<<: *defaults`) work as in YAML 1.1: the explicit keys win."""

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
        raise PipelineError(f"{path} must be a mapping of sections ({', '.join(SCHEMA)})")
    return data


def all_problems(params: dict[str, Any]) -> list[str]:
    problems = [
        f"{name}: unknown section (a typo?); known sections: {', '.join(SCHEMA)}"
        for name in params
        if name not in SCHEMA
    ]
    for name in SCHEMA:
        if name not in params:
            problems.append(f"{name}: section missing from {PARAMS_FILE}")
        else:
            problems.extend(section_problems(name, params[name]))
    return problems


def raise_if(problems: list[str]) -> None:
    if problems:
        raise PipelineError(f"invalid {PARAMS_FILE}:\n  " + "\n  ".join(problems))


def read_section(name: str, path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    """A stage's own params section, validated, before the stage touches anything."""
    params = load_params(path)
    if name not in params:
        raise PipelineError(f"{name}: section missing from {path}")
    raise_if(section_problems(name, params[name]))
    section = dict(params[name])
    before_publishing(lambda: _unchanged(name, section, path))
    _read[name] = section
    return section


# The sections read_section returned in this process: what made this stage's outputs.
_read: dict[str, dict[str, Any]] = {}


def used_path(stage: str) -> str:
    """Where a stage records the params values that made its outputs. DVC hashes this
    output like the others, so dvc.lock's params can be checked against it (provenance)."""
    return f"data/params_used/{stage}.json"


def used() -> dict[str, Any]:
    """The values this process read, keyed as dvc.yaml and dvc.lock name them."""
    return {f"{name}.{key}": v for name, section in _read.items() for key, v in section.items()}


def _unchanged(name: str, section: dict[str, Any], path: str | Path) -> None:
    """DVC records params.yaml's values in dvc.lock after the stage's command ends: refuse
    to publish outputs made with other values than the ones it would record."""
    try:
        now = load_params(path).get(name)
    except PipelineError:
        now = None
    if now != section:
        raise PipelineError(
            f"the `{name}` section of {path} changed while the stage ran, so dvc.lock would "
            "record values that did not make its outputs: nothing was published; run "
            "`dvc repro` again"
        )
