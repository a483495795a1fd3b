"""Each stage's rules validate its section: each problem is one line naming key, value, rule."""

import re

import pytest
import yaml
from conftest import ROOT, TEST_PARAMS
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment import params, pipeline
from sentiment.io import PipelineError
from stages import prepare, train

SCHEMAS = pipeline.stage_params(ROOT / "dvc.yaml")  # every section's rules, from its stage


def defaults() -> dict:
    return yaml.safe_load(TEST_PARAMS)


def test_the_test_params_are_valid_complete_and_the_notebooks_recipe():
    p = defaults()
    assert params.all_problems(p, SCHEMAS) == []
    assert {s: set(keys) for s, keys in p.items()} == {
        s: set(rules) for s, rules in SCHEMAS.items()
    }
    assert p["encode"]["max_vocab"] == 45000 and p["encode"]["max_seq"] == 280
    assert p["train"]["units"] == 256 and p["train"]["learning_rate"] == 1e-4
    assert p["prepare"]["test_size"] == 0.2 and p["prepare"]["seed"] == 0


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("train", "dropout", 1.0, "train.dropout: got 1.0; expected a number in [0, 1)"),
        (
            "train",
            "spatial_dropout",
            -0.1,
            "train.spatial_dropout: got -0.1; expected a number in [0, 1)",
        ),
        ("prepare", "test_size", 0, "prepare.test_size: got 0; expected a number in (0, 1)"),
        (
            "train",
            "validation_split",
            1,
            "train.validation_split: got 1; expected a number in [0, 1)",
        ),
        ("encode", "max_vocab", 1, "encode.max_vocab: got 1; expected an integer >= 2"),
        ("encode", "max_seq", 0, "encode.max_seq: got 0; expected an integer >= 1"),
        ("train", "batch_size", 0, "train.batch_size: got 0; expected an integer >= 1"),
        ("train", "batch_size", True, "train.batch_size: got True; expected an integer >= 1"),
        ("train", "epochs", 2.5, "train.epochs: got 2.5; expected an integer >= 1"),
        (
            "train",
            "learning_rate",
            "fast",
            "train.learning_rate: got 'fast'; expected a finite number > 0",
        ),
        (
            "train",
            "learning_rate",
            float("inf"),
            "train.learning_rate: got inf; expected a finite number > 0",
        ),
        (
            "train",
            "weight_decay",
            float("nan"),
            "train.weight_decay: got nan; expected a finite number >= 0",
        ),
        (
            "prepare",
            "test_size",
            float("nan"),
            "prepare.test_size: got nan; expected a number in (0, 1)",
        ),
        ("encode", "padding", "middle", "encode.padding: got 'middle'; expected one of pre, post"),
        (
            "prepare",
            "max_samples",
            1,
            "prepare.max_samples: got 1; expected an integer >= 4 or null",
        ),
        ("encode", "strip_html", "yes", "encode.strip_html: got 'yes'; expected true or false"),
    ],
)
def test_bad_values_are_named_with_what_is_allowed(section, key, value, message):
    p = defaults()
    p[section][key] = value
    assert params.all_problems(p, SCHEMAS) == [message]


def test_unknown_and_missing_keys_are_reported():
    p = defaults()
    p["train"]["learnig_rate"] = 3e-4
    del p["train"]["epochs"]
    problems = params.section_problems("train", p["train"], train.PARAMS)
    assert problems[0].startswith("train.learnig_rate: unknown key (a typo?)")
    assert problems[1] == "train.epochs: missing; set it to an integer >= 1"


def test_unknown_section_is_reported():
    p = defaults()
    p["trian"] = {"units": 8}
    assert params.all_problems(p, SCHEMAS)[0].startswith("trian: unknown section (a typo?)")


def test_read_section_raises_one_line_per_problem(tmp_path):
    p = defaults()
    p["train"]["dropout"] = 2
    p["train"]["units"] = 0
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(p))
    with pytest.raises(PipelineError) as error:
        params.read_section("train", train.PARAMS, path)
    lines = str(error.value).splitlines()
    assert lines[0] == "invalid params.yaml:"
    assert sorted(line.strip() for line in lines[1:]) == [
        "train.dropout: got 2; expected a number in [0, 1)",
        "train.units: got 0; expected an integer >= 1",
    ]
    assert params.read_section("prepare", prepare.PARAMS, path) == p["prepare"]  # unaffected


def test_broken_yaml_is_one_clear_error(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("train: {units: [1,\n")
    with pytest.raises(PipelineError, match=r"params.yaml is not valid YAML .*: fix the file"):
        params.load_params(path)


def test_a_key_given_twice_is_an_error_not_the_last_value(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("prepare:\n  seed: 0\n  seed: 1\n")
    with pytest.raises(
        PipelineError, match=r"not valid YAML \(key 'seed' appears twice, line 3, column 3\)"
    ):
        params.load_params(path)


def test_nested_aliases_are_reported_in_a_short_line(tmp_path):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for name, previous in zip("bcdefgh", "abcdefg"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    path = tmp_path / "params.yaml"
    path.write_text("\n".join(lines) + "\ntrain:\n  units: *h\n")
    problems = params.all_problems(params.load_params(path), SCHEMAS)  # 9**8, never expanded
    units = [line for line in problems if line.startswith("train.units")]
    assert len(units) == 1 and len(units[0]) < 200
    assert max(len(line) for line in problems) < 200


VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**40), 2**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=100, deadline=None)
@given(section=st.sampled_from(sorted(SCHEMAS)), key=st.text(max_size=12), value=VALUES)
def test_any_edit_of_a_valid_document_is_valid_or_named_in_one_line_per_problem(
    section, key, value
):
    document = defaults()
    keys = sorted(SCHEMAS[section])
    key = keys[len(key) % len(keys)] if len(key) % 3 else key  # mostly known keys, some not
    document[section][key] = value
    for problem in params.all_problems(document, SCHEMAS):
        assert "\n" not in problem  # an odd key is quoted, never printed raw
        assert problem.startswith(f"{section}.{params._key(key)}: ")


@settings(max_examples=60, deadline=None)
@given(document=VALUES)
def test_any_yaml_document_is_read_or_refused_in_one_line(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("params") / "params.yaml"
    path.write_text(yaml.safe_dump(document))
    try:
        loaded = params.read_section("train", train.PARAMS, path)
    except PipelineError as error:
        assert str(error).count("\n") <= len(train.PARAMS) + 1  # a header + a line each
        return
    assert params.section_problems("train", loaded, train.PARAMS) == []


def test_yaml_merge_keys_work_and_explicit_keys_win(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(
        "defaults: &base\n  seed: 0\n  dropout: 0.3\n"
        "train:\n  <<: *base\n  dropout: 0.5\n"
    )
    loaded = params.load_params(path)
    assert loaded["train"] == {"seed": 0, "dropout": 0.5}


def test_a_key_given_twice_next_to_a_merge_is_still_refused(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("base: &b\n  a: 1\ntrain:\n  <<: *b\n  x: 1\n  x: 2\n")
    with pytest.raises(PipelineError, match="key 'x' appears twice"):
        params.load_params(path)


# What YAML 1.1 (PyYAML's default) and 1.2 (DVC's reader, what dvc.lock records) read
# differently, and the forms both read alike.
SCALARS = ["01750", "0042", "1:30", "1e-2", "1E3", "+1e+3", "yes", "no", "on", "off", "Yes",
           "true", "FALSE", "~", "null", "", "0x1F", "-0o17", "0b101", "1_000", ".inf",
           "-.inf", "2024-01-01", "1.5", "-.5", "0.", "12:30:00", "'01'", '"1e-2"']


@pytest.mark.parametrize("scalar", SCALARS)
def test_every_value_is_read_as_dvc_reads_it_for_dvc_lock(tmp_path, scalar):
    from dvc.utils.serialize import parse_yaml  # DVC's own reader of params.yaml

    path = tmp_path / "params.yaml"
    path.write_text(f"train:\n  seed: {scalar}\n")
    ours, dvcs = params.load_params(path)["train"]["seed"], parse_yaml(path.read_text(), "p")
    assert (ours, type(ours)) == (dvcs["train"]["seed"], type(dvcs["train"]["seed"]))


def test_scientific_notation_without_a_dot_is_a_number(tmp_path):
    p = defaults()
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(p).replace("learning_rate: 0.0001", "learning_rate: 1e-4"))
    assert params.read_section("train", train.PARAMS, path)["learning_rate"] == 1e-4


def _keys(document: dict):
    for section, values in document.items():
        for key in values:
            yield section, key


def as_dvc_writes_it(tmp_path) -> str:
    """The test params after one `dvc exp run -S` wrote them (a no-op edit): how a team's
    params.yaml looks after its first `-S`, whatever tool wrote it before."""
    from dvc.utils.serialize import modify_yaml

    path = tmp_path / "written.yaml"
    path.write_text(TEST_PARAMS)
    with modify_yaml(path):
        pass
    return path.read_text()


def test_a_dash_s_edit_of_any_key_changes_that_keys_line_alone(tmp_path):
    from dvc.utils.serialize import modify_yaml  # what `dvc exp run -S` writes with

    original = as_dvc_writes_it(tmp_path)
    for section, key in _keys(yaml.safe_load(original)):
        path = tmp_path / "params.yaml"
        path.write_text(original)
        with modify_yaml(path) as document:
            document[section][key] = 7
        changed = [(a, b) for a, b in zip(original.splitlines(), path.read_text().splitlines())
                   if a != b]
        assert len(changed) == 1 and changed[0][0].strip().startswith(f"{key}:"), changed


def test_two_branches_made_with_dash_s_on_different_keys_merge_cleanly(tmp_path):
    import subprocess

    from dvc.utils.serialize import modify_yaml

    base = tmp_path / "base.yaml"
    base.write_text(as_dvc_writes_it(tmp_path))
    sides = {}
    for name, (section, key, value) in {"ours": ("train", "dropout", 0.4),
                                        "theirs": ("baseline", "C", 1.0)}.items():
        sides[name] = tmp_path / f"{name}.yaml"
        sides[name].write_text(base.read_text())
        with modify_yaml(sides[name]) as document:
            document[section][key] = value
    merged = subprocess.run(["git", "merge-file", "-p", sides["ours"], base, sides["theirs"]],
                            capture_output=True, text=True)
    assert merged.returncode == 0  # no conflict
    result = yaml.safe_load(merged.stdout)
    assert result["train"]["dropout"] == 0.4 and result["baseline"]["C"] == 1.0


def test_the_training_recipe_has_exactly_the_train_sections_keys():
    from dataclasses import fields

    from sentiment.training import Recipe

    assert [f.name for f in fields(Recipe)] == list(train.PARAMS)  # a new key needs both


@pytest.mark.parametrize("script, says", [
    ("import sys\nsys.exit(0)\n", "cannot be imported (SystemExit"),
    ("raise RuntimeError('broken at import')\n", "cannot be imported (RuntimeError: broken"),
    ("SECTION = 3\nPARAMS = {}\n", "SECTION must be a params section's name"),
    ("SECTION = 'x'\nPARAMS = {'k': 1}\n", "PARAMS a dict of key -> rule"),
])
def test_a_stage_script_that_exits_fails_or_declares_nonsense_is_one_line(
    tmp_path, monkeypatch, script, says
):
    import stages

    name = f"hostile_{abs(hash(script)) % 10**8}"
    (tmp_path / f"{name}.py").write_text(script)
    monkeypatch.setattr(stages, "__path__", [*stages.__path__, str(tmp_path)])
    pipeline_file = tmp_path / "dvc.yaml"
    pipeline_file.write_text(f"stages:\n  bad:\n    cmd: python -m stages.{name}\n")
    with pytest.raises(PipelineError, match=re.escape(says)):
        pipeline.stage_params(pipeline_file)


def test_a_templated_stage_is_refused_not_silently_left_out(tmp_path):
    pipeline_file = tmp_path / "dvc.yaml"
    pipeline_file.write_text("stages:\n  many:\n    foreach: [1, 2]\n    do:\n"
                             "      cmd: python -m stages.nbsvm\n")
    with pytest.raises(PipelineError, match="stage many is templated"):
        pipeline.models(pipeline_file)
