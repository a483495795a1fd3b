"""`sentiment-predict` answers every review, or says clearly why it cannot."""

import json
import subprocess
import sys

import numpy as np
import pytest

from lab.demo import DEMO_PARAMS, tool_env
from sentiment import model, predict
from sentiment.predict import EMPTY


@pytest.fixture
def in_workspace(reproduced, monkeypatch):
    monkeypatch.chdir(reproduced)
    return reproduced


def results(capsys, *argv):
    predict.main(["--json", *argv])
    out = capsys.readouterr().out
    assert out.splitlines() == out.split("\n")[:-1]  # one JSON object per line, for any reader
    return [json.loads(line) for line in out.split("\n")[:-1]]


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
    for name in ("vocab.json", "encoding.json", "fingerprint.json"):
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


def test_one_result_per_newline_whatever_other_separators_a_review_holds(
    in_workspace, capsys, tmp_path
):
    reviews = [
        "superb film\u2028with a line separator",
        "dull\rand a carriage return",
        "awful\x0bvertical tab\x0cform feed\x1cfile separator\x85next line",
        "fun",
    ]
    path = tmp_path / "reviews.txt"
    path.write_bytes(("\n".join(reviews) + "\r\n").encode("utf-8"))
    out = results(capsys, "--file", str(path))
    assert [(r["line"], r["text"]) for r in out] == list(enumerate(reviews, 1))
    assert all(r["label"] in {"neg", "pos"} for r in out)


def test_jsonl_results_carry_their_line_numbers(in_workspace, capsys, tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"text": "superb"}\n\n{"text": "awful\\u2028film"}\n')
    out = results(capsys, "--file", str(path))
    assert [(r["line"], r["text"]) for r in out] == [(1, "superb"), (3, "awful\u2028film")]


def edit_json(path, **changes):
    data = json.loads(path.read_text())
    data.update(changes)
    path.chmod(0o644)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "file, changes, message",
    [
        ("encoding.json", {"padding": "middle"}, "is not an encoding written by encode"),
        ("encoding.json", {"max_seq": 99},
         f"expects input (None, {DEMO_PARAMS['encode']['max_seq']}) but encoding.json says 99"),
        ("vocab.json", {"max_vocab": 5000}, "embedding has 200 rows"),
    ],
)
def test_mismatched_vocabulary_encoding_or_model_is_refused_before_predicting(
    workspace, monkeypatch, capsys, file, changes, message
):
    monkeypatch.chdir(workspace)  # a private copy: the files are tampered with
    edit_json(workspace / "models" / file, **changes)
    files = ("models/model.keras", "models/vocab.json", "models/encoding.json")
    (workspace / "models/fingerprint.json").write_text(json.dumps(model.fingerprint(*files)))
    with pytest.raises(SystemExit) as exit_info:
        predict.main(["a superb film"])
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("sentiment-predict: error: ") and message in line


def test_predict_gives_evaluates_probabilities_for_the_test_reviews(reproduced, monkeypatch):
    import pandas as pd

    from sentiment import evaluation

    monkeypatch.chdir(reproduced)
    texts = list(pd.read_parquet("data/prepared/test.parquet")["text"])
    got = predict.predict(
        texts, "models/model.keras", "models/vocab.json", "models/encoding.json", 256
    )
    saved = evaluation.read_predictions("data/predictions/bilstm.csv")
    np.testing.assert_allclose([r["p_pos"] for r in got], saved["prob_pos"], rtol=0, atol=1e-6)
    assert [r["label"] for r in got] == ["pos" if p > 0.5 else "neg" for p in saved["prob_pos"]]


def test_a_vocabulary_of_the_same_size_from_another_run_is_refused(workspace, monkeypatch, capsys):
    monkeypatch.chdir(workspace)
    vocab = json.loads((workspace / "models/vocab.json").read_text())
    vocab["words"][1], vocab["words"][2] = vocab["words"][2], vocab["words"][1]  # same size
    (workspace / "models/vocab.json").write_text(json.dumps(vocab))
    with pytest.raises(SystemExit):
        predict.main(["a superb film"])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(
        "sentiment-predict: error: vocab.json is not from the run that wrote "
        "models/fingerprint.json"
    )
    evaluate = subprocess.run(
        [sys.executable, "-m", "stages.evaluate"], capture_output=True, text=True, env=tool_env()
    )
    assert evaluate.returncode == 1
    assert evaluate.stderr.strip().startswith("evaluate: error: vocab.json is not from the run")


def test_a_model_of_the_same_shapes_from_another_run_is_refused(workspace, monkeypatch, capsys):
    monkeypatch.chdir(workspace)
    net = model.load_model("models/model.keras")
    net.set_weights([w[::-1] if w.ndim else w for w in net.get_weights()])  # another run's
    net.save("models/model.keras")
    with pytest.raises(SystemExit):
        predict.main(["a superb film"])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(
        "sentiment-predict: error: model.keras is not from the run that wrote "
        "models/fingerprint.json (its SHA-256 differs)"
    )
    evaluate = subprocess.run(
        [sys.executable, "-m", "stages.evaluate"], capture_output=True, text=True, env=tool_env()
    )
    assert evaluate.returncode == 1
    assert evaluate.stderr.strip().startswith("evaluate: error: model.keras is not from the run")


def test_results_stream_out_batch_by_batch_while_the_input_is_still_open(reproduced):
    process = subprocess.Popen(
        ["sentiment-predict", "--json", "--batch-size", "2"],
        cwd=reproduced,
        env={**tool_env(), "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    process.stdin.write("a superb film\na dull film\n")
    process.stdin.flush()
    first = [json.loads(process.stdout.readline()) for _ in range(2)]  # stdin still open
    assert [r["line"] for r in first] == [1, 2]
    process.stdin.write("great\n")
    process.stdin.close()
    assert json.loads(process.stdout.readline())["line"] == 3
    assert process.wait(timeout=60) == 0


def test_a_huge_line_is_read_only_as_far_as_the_encoder_looks(in_workspace, capsys, tmp_path):
    encoding = json.loads((in_workspace / "models/encoding.json").read_text())
    assert encoding["truncating"] == "pre"  # the encoder keeps a review's last max_seq words
    tail = "a superb and moving film " * 40
    huge = tmp_path / "huge.txt"
    huge.write_text("dreadful " * 2_000_000 + tail + "\n")  # 18 MB on one line
    (kept,) = results(capsys, "--file", str(huge))
    assert len(kept["text"]) <= predict.line_cap(encoding)
    (alone,) = results(capsys, tail)
    assert kept["p_pos"] == pytest.approx(alone["p_pos"], abs=1e-6)


def test_table_output_escapes_terminal_control_sequences(in_workspace, capsys):
    predict.main(["\x1b[31mred alert\x1b[0m a superb film", "bell\x07 and \x9b csi"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "\\x1b[31mred alert" in out and "bell\\x07" in out


@pytest.mark.parametrize("size", ["0", "-3", "many"])
def test_a_batch_size_that_is_not_a_positive_integer_is_refused(in_workspace, capsys, size):
    with pytest.raises(SystemExit) as exit_info:
        predict.main(["--batch-size", size, "a film"])
    assert exit_info.value.code == 2
    assert "is not a whole number >= 1" in capsys.readouterr().err


def test_a_reader_that_stops_early_ends_predict_quietly(reproduced, tmp_path):
    reviews = tmp_path / "many.txt"
    reviews.write_text("a superb film\n" * 5000)
    result = subprocess.run(
        f"sentiment-predict --batch-size 64 --file {reviews} | head -n 2",
        shell=True, cwd=reproduced, env=tool_env(), capture_output=True, text=True,
    )
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 2
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_a_model_naming_a_class_keras_does_not_know_is_one_line(tmp_path):
    import zipfile

    from sentiment.io import PipelineError

    net = model.build_model(np.zeros((30, 4), np.float32), 6, 3, 0.0, 0.0, 0.0)
    saved = tmp_path / "model.keras"
    net.save(saved)
    crafted = tmp_path / "crafted.keras"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(crafted, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                data = data.replace(b'"class_name": "Dense"', b'"class_name": "NoSuchLayer"')
            target.writestr(item, data)
    with pytest.raises(PipelineError) as error:
        model.load_model(str(crafted))
    assert str(error.value).startswith(f"{crafted} is unreadable (")
    assert "\n" not in str(error.value) and len(str(error.value)) < 400
