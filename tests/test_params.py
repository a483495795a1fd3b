"""One schema validates every section: each problem is one line naming key, value, rule."""

import pytest
import yaml
from conftest import TEST_PARAMS
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment import params
from sentiment.io import PipelineError


def defaults() -> dict:
    return yaml.safe_load(TEST_PARAMS.read_text())


def test_the_test_params_are_valid_complete_and_the_notebooks_recipe():
    p = defaults()
    assert params.all_problems(p) == []
    assert {s: set(keys) for s, keys in p.items()} == {
        s: set(rules) for s, rules in params.SCHEMA.items()
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
    assert params.all_problems(p) == [message]


def test_unknown_and_missing_keys_are_reported():
    p = defaults()
    p["train"]["learnig_rate"] = 3e-4
    del p["train"]["epochs"]
    problems = params.section_problems("train", p["train"])
    assert problems[0].startswith("train.learnig_rate: unknown key (a typo?)")
    assert problems[1] == "train.epochs: missing; set it to an integer >= 1"


def test_unknown_section_is_reported():
    p = defaults()
    p["trian"] = {"units": 8}
    assert params.all_problems(p)[0].startswith("trian: unknown section (a typo?)")


def test_read_section_raises_one_line_per_problem(tmp_path):
    p = defaults()
    p["train"]["dropout"] = 2
    p["train"]["units"] = 0
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(p))
    with pytest.raises(PipelineError) as error:
        params.read_section("train", path)
    lines = str(error.value).splitlines()
    assert lines[0] == "invalid params.yaml:"
    assert sorted(line.strip() for line in lines[1:]) == [
        "train.dropout: got 2; expected a number in [0, 1)",
        "train.units: got 0; expected an integer >= 1",
    ]
    assert params.read_section("prepare", path) == p["prepare"]  # other sections unaffected


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
    problems = params.all_problems(params.load_params(path))  # 9**8 strings, never expanded
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
@given(section=st.sampled_from(sorted(params.SCHEMA)), key=st.text(max_size=12), value=VALUES)
def test_any_edit_of_a_valid_document_is_valid_or_named_in_one_line_per_problem(
    section, key, value
):
    document = defaults()
    keys = sorted(params.SCHEMA[section])
    key = keys[len(key) % len(keys)] if len(key) % 3 else key  # mostly known keys, some not
    document[section][key] = value
    for problem in params.all_problems(document):
        assert "\n" not in problem  # an odd key is quoted, never printed raw
        assert problem.startswith(f"{section}.{params._key(key)}: ")


@settings(max_examples=60, deadline=None)
@given(document=VALUES)
def test_any_yaml_document_is_read_or_refused_in_one_line(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("params") / "params.yaml"
    path.write_text(yaml.safe_dump(document))
    try:
        loaded = params.read_section("train", path)
    except PipelineError as error:
        assert str(error).count("\n") <= len(params.SCHEMA["train"]) + 1  # a header + a line each
        return
    assert params.section_problems("train", loaded) == []


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
