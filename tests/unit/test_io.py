"""Outputs are complete or absent: a failure midway keeps what the user had."""

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment.io import (
    PipelineError,
    atomic_path,
    load_array,
    outputs,
    save_array,
    write_json,
)


def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_outputs_are_published_together_or_not_at_all(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with outputs("encode") as out:
        write_json(out("models/vocab.json"), {"v": 1})
        save_array(out("data/x.npy"), np.zeros(3, np.int32))
        live = out("models/live")
        live.mkdir()
        (live / "epoch.tsv").write_text("old")
    with pytest.raises(RuntimeError):
        with outputs("encode") as out:
            save_array(out("data/x.npy"), np.ones(3, np.int32))  # complete, but not published
            (out("models/live")).mkdir()
            raise RuntimeError("killed before vocab.json was written")
    assert np.load("data/x.npy").sum() == 0  # all old
    assert (tmp_path / "models/live/epoch.tsv").read_text() == "old"
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]  # staging removed
    with outputs("encode") as out:
        save_array(out("data/x.npy"), np.ones(3, np.int32))
        write_json(out("models/vocab.json"), {"v": 2})
        (out("models/live")).mkdir()
    assert np.load("data/x.npy").sum() == 3 and "2" in (tmp_path / "models/vocab.json").read_text()
    assert list((tmp_path / "models/live").iterdir()) == []  # a folder is replaced, not merged


def test_a_stage_removes_what_an_earlier_killed_run_left(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/.x.npy.tmp-k1ll3d").mkdir(parents=True)  # a killed run's staging
    litter = tmp_path / "data" / ".x.npy.tmp-abc123.npy"
    litter.write_text("half")
    other = tmp_path / "data" / ".y.npy.tmp-other"  # another output's, maybe running now
    other.mkdir()
    with outputs("encode") as out:
        save_array(out("data/x.npy"), np.zeros(3, np.int32))
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [".y.npy.tmp-other", "x.npy"]


def test_outputs_publish_onto_another_filesystem_through_a_symlinked_folder(tmp_path, monkeypatch):
    shm = Path("/dev/shm")
    assert shm.is_dir() and os.stat(shm).st_dev != os.stat(tmp_path).st_dev  # really another fs
    elsewhere = Path(tempfile.mkdtemp(dir=shm))
    try:
        monkeypatch.chdir(tmp_path)
        (tmp_path / "data").symlink_to(elsewhere)  # as users put data/ on a bigger disk
        save_array("data/x.npy", np.zeros(3, np.int32))
        with pytest.raises(RuntimeError):
            with outputs("encode") as out:
                save_array(out("data/x.npy"), np.ones(3, np.int32))
                save_array(out("models/y.npy"), np.ones(3, np.int32))  # the repo's disk
                raise RuntimeError("killed before publishing")
        assert np.load("data/x.npy").sum() == 0 and not Path("models/y.npy").exists()
        with outputs("encode") as out:
            save_array(out("data/x.npy"), np.ones(3, np.int32))
            save_array(out("models/y.npy"), np.ones(3, np.int32))
        assert np.load(elsewhere / "x.npy").sum() == 3 and np.load("models/y.npy").sum() == 3
        assert [p.name for p in elsewhere.iterdir()] == ["x.npy"]  # no staging left there
    finally:
        shutil.rmtree(elsewhere)


def test_json_is_byte_stable(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    write_json(tmp_path / "b.json", {"a": [1, 2], "b": 1})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_truncated_array_names_the_stage_to_rerun(tmp_path):
    path = tmp_path / "x_train.npy"
    save_array(path, np.arange(1000, dtype=np.int32).reshape(10, 100))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(PipelineError, match=r"x_train.npy is unreadable .*dvc repro -f encode"):
        load_array(path, "encode", "int32", 2)


def test_wrong_dtype_or_shape_names_the_stage_to_rerun(tmp_path):
    path = tmp_path / "m.npy"
    save_array(path, np.zeros((3, 4), dtype=np.float64))
    with pytest.raises(PipelineError, match=r"2-d float64 array, expected 2-d float32.*embed"):
        load_array(path, "embed", "float32", 2)


def test_arrays_never_load_pickles(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(PipelineError, match="unreadable"):
        load_array(path, "encode", "int32", 1)


def test_missing_input_names_the_stage_to_run(tmp_path):
    with pytest.raises(PipelineError, match=r"is missing: run `dvc repro encode` first"):
        load_array(tmp_path / "nope.npy", "encode", "int32", 2)


def test_native_start_up_noise_is_dropped_and_every_other_line_kept():
    import subprocess
    import sys

    code = "\n".join(
        [
            "import os, sys",
            "from sentiment.io import quiet_native_noise",
            "with quiet_native_noise():",
            "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called"
            " are written to STDERR\\n')",
            "    os.write(2, b'I0000 00:00:1796023094.808094    2401 port.cc:153] oneDNN on.\\n')",
            "    os.write(2, b'E0000 00:00:1796023097.174837    2401 cuda_platform.cc:52] failed"
            " call to cuInit: UNKNOWN ERROR (303)\\n')",
            "    os.write(2, b'W0000 00:00:1.0    2 real_op.cc:1] a real native warning\\n')",
            "    print('a Python warning', file=sys.stderr)",
            "print('after', file=sys.stderr)",
        ]
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.splitlines() == [
        "W0000 00:00:1.0    2 real_op.cc:1] a real native warning",
        "a Python warning",
        "after",
    ]


JSON_ATTACKS = [
    ("1" * 5000, "Exceeds the limit"),  # an integer of 5,000 digits
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"text": "a", "text": "b"}', "the key 'text' appears twice"),
    ('\ufeff{"a": 1}', "byte-order mark"),
    ('{"a": NaN', "Expecting"),
]


@pytest.mark.parametrize(("text", "named"), JSON_ATTACKS)
def test_every_json_attack_is_a_short_one_line_problem(text, named):
    from sentiment.io import JSONProblem, parse_json

    with pytest.raises(JSONProblem) as error:
        parse_json(text)
    assert named in str(error.value) and "\n" not in str(error.value)
    assert len(str(error.value)) < 200


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
            lambda inner: st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=3), inner, max_size=3),
            max_leaves=12,
        ).map(lambda value: json.dumps(value)[: len(json.dumps(value)) // 2 + 1]),
    )
)
def test_any_text_parses_or_is_one_bounded_line(text):
    from sentiment.io import JSONProblem, parse_json

    try:
        parse_json(text)
    except JSONProblem as error:
        assert "\n" not in str(error) and len(str(error)) < 200
