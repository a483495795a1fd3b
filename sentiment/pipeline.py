"""What dvc.yaml says the pipeline is: its stages' scripts and the models they publish.

Nothing is registered anywhere else. A stage whose `cmd` is `python -m stages.<script>` owns
the params section its script declares; a stage with a `data/predictions/<model>.csv` output
and a `metrics/*.json` file publishes a model, which every report, the review, `make
models` and the plots then include. Templated stages (`foreach`/`matrix`) are refused in
one line rather than silently left out: write a variant as a stage of its own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sentiment.io import PipelineError

PREDICTIONS = re.compile(r"data/predictions/([\w.-]+)\.csv")
STAGE_SCRIPT = re.compile(r"python3? (?:-\w+ )*-m (stages\.\w+)")


def stages(dvc_yaml: str | Path = "dvc.yaml") -> dict[str, dict[str, Any]]:
    try:
        text = Path(dvc_yaml).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{dvc_yaml} not found: run this from the repository root") from None
    try:
        found = (yaml.safe_load(text) or {}).get("stages") or {}
    except (yaml.YAMLError, AttributeError) as error:
        raise PipelineError(f"{dvc_yaml} is not a valid pipeline ({str(error)[:120]})") from None
    if not isinstance(found, dict):
        raise PipelineError(f"{dvc_yaml}: `stages:` is not a mapping of stage names")
    templated = [name for name, stage in found.items()
                 if isinstance(stage, dict) and ("foreach" in stage or "matrix" in stage)]
    if templated:
        raise PipelineError(
            f"{dvc_yaml}: stage {templated[0]} is templated (foreach/matrix), which this "
            "project does not expand, so its models and params would be missed: write each "
            "variant as a stage of its own (docs/models.md)"
        )
    return {name: stage for name, stage in found.items() if isinstance(stage, dict)}


def _paths(entries: Any) -> list[str]:
    """The paths of an `outs:`/`metrics:`/`plots:` list (plain strings or one-key mappings)."""
    paths = []
    for entry in entries or []:
        paths.extend([entry] if isinstance(entry, str) else list(entry) if isinstance(
            entry, dict) else [])
    return paths


def stage_modules(dvc_yaml: str | Path = "dvc.yaml") -> dict[str, str]:
    """Each stage's script module (`stages.train`), for the stages that run one."""
    modules = {}
    for name, stage in stages(dvc_yaml).items():
        match = STAGE_SCRIPT.search(str(stage.get("cmd", "")))
        if match:
            modules[name] = match.group(1)
    return modules


def models(dvc_yaml: str | Path = "dvc.yaml") -> dict[str, tuple[str, str]]:
    """model name -> (its per-review predictions, its metrics file), in dvc.yaml's order."""
    found = {}
    for stage in stages(dvc_yaml).values():
        metrics = [p for p in _paths(stage.get("metrics")) if p.endswith(".json")]
        for path in _paths(stage.get("outs")):
            match = PREDICTIONS.fullmatch(path)
            if match and metrics:
                found[match.group(1)] = (path, metrics[0])
    return found


def _touches(path: str, changed: set[str]) -> bool:
    """A dependency on `path` sees a change in `changed` (the same path, or one inside it)."""
    return any(path == c or c.startswith(path.rstrip("/") + "/") or path.startswith(
        c.rstrip("/") + "/") for c in changed)


def downstream(changed_paths: set[str], dvc_yaml: str | Path = "dvc.yaml") -> list[str]:
    """The stages a change of these files re-runs (through dvc.yaml's deps and outs), in
    dvc.yaml's order: what `dvc repro` should run after such a change, besides check_params."""
    found, changed, pipeline = [], set(changed_paths), stages(dvc_yaml)
    progress = True
    while progress:
        progress = False
        for name, stage in pipeline.items():
            if name not in found and any(_touches(d, changed) for d in _paths(stage.get("deps"))):
                found.append(name)
                changed |= set(_paths(stage.get("outs"))) | set(_paths(stage.get("metrics")))
                progress = True
    order = list(pipeline)
    return sorted(found, key=order.index)


def outputs(stage: str, dvc_yaml: str | Path = "dvc.yaml") -> set[str]:
    """A stage's outputs: its outs, metrics and plots."""
    entry = stages(dvc_yaml)[stage]
    return {p for key in ("outs", "metrics", "plots") for p in _paths(entry.get(key))}


def stage_params(dvc_yaml: str | Path = "dvc.yaml") -> dict[str, dict[str, Any]]:
    """Every section's rules, from the stage scripts dvc.yaml runs (`python -m stages.X`
    declaring SECTION and PARAMS): a new stage brings its section with it."""
    import importlib

    found: dict[str, dict[str, Any]] = {}
    for stage, module in stage_modules(dvc_yaml).items():
        try:
            script = importlib.import_module(module)
        except (Exception, SystemExit) as error:  # a script that fails or exits at import
            why = (str(error).splitlines() or [type(error).__name__])[0][:160]
            raise PipelineError(
                f"{dvc_yaml}: stage {stage} runs {module}, which cannot be imported "
                f"({type(error).__name__}: {why}): fix its cmd or the script"
            ) from None
        section, rules = getattr(script, "SECTION", None), getattr(script, "PARAMS", None)
        if section is None and rules is None:
            continue  # a stage with no params section (check_params)
        if not isinstance(section, str) or not isinstance(rules, dict) or not all(
            isinstance(k, str) and callable(getattr(r, "ok", None)) for k, r in rules.items()
        ):
            raise PipelineError(
                f"{module}: SECTION must be a params section's name and PARAMS a dict of "
                "key -> rule from sentiment.params (docs/models.md)"
            )
        found[section] = rules
    return found
