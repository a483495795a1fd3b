"""`sentiment-predict` answers every review, or says clearly why it cannot."""

import json
import subprocess

import pytest

from sentiment import predict
from sentiment.demo import tool_env
from sentiment.predict import EMPTY


@pytest.fixture
def in_workspace(reproduced, monkeypatch):
    monkeypatch.chdir(reproduced)
    return reproduced


def results(capsys, *argv):
    predict.main(["--json", *argv])
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_odd_reviews_all_get_an_answer(in_workspace, capsys):
    reviews = [
        "A wonderful, gripping film. Superb!",
        "Dull, pointless and boring.",
        "Great acting<br /><br />but a terrible ending.",
        "🙂🎬 café naïve déjà vu",
        "Ein wunderbarer Film, sehr zu empfehlen.",
        "great " * 100_000,
    ]
    out = results(capsys, *reviews)
    assert len(out) == len(reviews)
    for row in out:
        assert row["label"] in {"neg", "pos"} and 0.0 <= row["p_pos"] <= 1.0
    assert out[0]["p_pos"] > out[1]["p_pos"]


def test_empty_and_whitespace_reviews_are_reported_not_classified(in_workspace, capsys):
    out = results(capsys, "", "   \t ", "...", "great film")
    assert [r["note"] for r in out] == [EMPTY, EMPTY, EMPTY, None]
    assert out[3]["label"] in {"neg", "pos"}


def test_reads_lines_jsonl_and_stdin(in_workspace, capsys, tmp_path, monkeypatch):
    lines = tmp_path / "reviews.txt"
    lines.write_text("superb film\nawful film\n")
    assert len(results(capsys, "--file", str(lines))) == 2
    jsonl = tmp_path / "reviews.jsonl"
    jsonl.write_text('{"text": "superb"}\n\n{"text": "awful", "id": 7}\n')
    assert len(results(capsys, "--file", str(jsonl))) == 2
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("brilliant\ntedious\nfun\n"))
    assert len(results(capsys)) == 3


def test_bad_jsonl_is_one_clear_error(in_workspace, capsys, tmp_path):
    jsonl = tmp_path / "reviews.jsonl"
    jsonl.write_text('{"text": "fine"}\n{"review": "no text field"}\n')
    with pytest.raises(SystemExit) as exit_:
        predict.main(["--file", str(jsonl)])
    assert exit_.value.code == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith('reviews.jsonl:2: expected an object with a string "text" field')
    )


def test_missing_model_says_how_to_get_one(tmp_path, monkeypatch, capsys, reproduced):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    for name in ("vocab.json", "encoding.json"):
        (tmp_path / "models" / name).write_bytes((reproduced / "models" / name).read_bytes())
    with pytest.raises(SystemExit):
        predict.main(["great film"])
    assert "models/model.keras is missing: run `dvc repro train` (or `dvc pull`)" in (
        capsys.readouterr().err
    )


def test_console_script_prints_a_table_and_batches_many_reviews(reproduced, tmp_path):
    many = tmp_path / "many.txt"
    many.write_text("\n".join(["a superb film", "a dull film"] * 5000) + "\n")
    result = subprocess.run(
        ["sentiment-predict", "--file", str(many)],
        cwd=reproduced,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = result.stdout.splitlines()
    assert rows[0].split() == ["label", "p_pos", "review"]
    assert len(rows) == 1 + 10_000
