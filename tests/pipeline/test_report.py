"""`lab.report`: the PR comment's paired comparisons, and the seed-grouped table."""

import json
import shutil
import subprocess
import sys

from helpers import dvc, run, set_params, table_row
from hypothesis import given, settings
from hypothesis import strategies as st

from lab import report as report_module
from sentiment import evaluation, stats
from sentiment.io import PipelineError


def report(workspace, *args):
    return subprocess.run(
        [sys.executable, "-m", "lab.report", *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_report_pairs_base_and_head_predictions_on_the_same_reviews(workspace):
    # a linear model's change: the pairing is the same for every model (no TensorFlow here)
    base = evaluation.read_predictions(workspace / "data/predictions/baseline.csv")
    set_params(workspace, "baseline", C=0.05)
    dvc(workspace, "repro")
    run(workspace, "git", "commit", "-qam", "a stronger regularisation")
    head = evaluation.read_predictions(workspace / "data/predictions/baseline.csv")
    text = report(workspace, "--base", "HEAD~1")

    base_sha = run(workspace, "git", "rev-parse", "HEAD~1").stdout.strip()
    assert text.startswith(f"## Results against `HEAD~1` (merge-base `{base_sha[:8]}`)")
    expected = stats.paired_comparison(
        head["label"].to_numpy(), base["prob_pos"].to_numpy(), head["prob_pos"].to_numpy()
    )
    assert expected["base_only"] + expected["head_only"] > 0  # the predictions changed
    row = table_row(text, "baseline")
    assert float(row[3]) == round(100 * expected["change"], 2)
    low, high = (float(x) for x in row[4].split(" to "))
    assert (low, high) == (
        round(100 * expected["change_ci"]["low"], 2),
        round(100 * expected["change_ci"]["high"], 2),
    )
    assert row[5] == f"{expected['base_only']} / {expected['head_only']}"
    assert float(row[6]) == float(f"{expected['p_value']:.3g}")
    assert row[7] == f"**{expected['verdict']}**"
    # the BiLSTM did not re-run: same predictions, no change
    assert table_row(text, "bilstm")[3:] == [
        "+0.00",
        "+0.00 to +0.00",
        "0 / 0",
        "1",
        "**within noise**",
    ]
    params_rows = [line for line in text.splitlines() if "baseline.C" in line]
    assert params_rows and "0.05" in params_rows[0]
    assert any("baseline.json" in line and "roc_auc" in line for line in text.splitlines())


def test_report_says_when_it_cannot_pair_and_shows_each_sides_interval(workspace):
    set_params(workspace, "prepare", seed=1)
    dvc(workspace, "repro", "baseline")  # a linear model on the new split (no TensorFlow)
    run(workspace, "git", "commit", "-qam", "another split")
    text = report(workspace, "--base", "HEAD~1")
    line = next(line for line in text.splitlines() if line.startswith("- **baseline**"))
    assert "the test sets differ" in line and "not paired" in line
    assert line.count("95% CI") == 2

    shutil.rmtree(workspace / ".dvc" / "cache")  # no cache, no remote: base objects are gone
    text = report(workspace, "--base", "HEAD~1")
    line = next(line for line in text.splitlines() if line.startswith("- **baseline**"))
    base = run(workspace, "git", "rev-parse", "--short=8", "HEAD~1").stdout.strip()
    assert f"no predictions in `{base}` (its results are not on the DVC remote" in line
    assert line.count("95% CI") == 2


def test_a_base_without_results_gets_first_results_not_columns_of_zeros(workspace):
    first = run(workspace, "git", "rev-list", "--max-parents=0", "HEAD").stdout.strip()
    assert "dvc.lock" not in run(workspace, "git", "ls-tree", "--name-only", first).stdout
    text = report(workspace, "--base", first)
    assert text.startswith(f"## First results: `{first}` has none yet")
    assert "nothing to compare with" in text and "| bilstm | " in text and "| nbsvm | " in text
    assert "base acc" not in text and "<details>" in text  # no base columns; details folded


def test_first_results_show_the_heads_training_curve_and_confusion_matrix(workspace,
                                                                        monkeypatch):
    from lab.review import plot_tables

    first = run(workspace, "git", "rev-list", "--max-parents=0", "HEAD").stdout.strip()
    monkeypatch.chdir(workspace)
    text = "\n".join(plot_tables(first))
    epochs = len((workspace / "metrics/plots/training.csv").read_text().splitlines()) - 1
    assert "| epoch | head |" in text and "_The base has no training curve yet._" in text
    assert f"\n| {epochs} | 0." in text  # every epoch of the head's curve, a number each
    assert "| | head neg | head pos |" in text and "no confusion matrix yet" in text


def test_a_seed_run_twice_counts_once_in_its_group():
    runs = [
        {"rev": "a", "train.seed": 1, "train.units": 8.0},
        {"rev": "b", "train.seed": 2, "train.units": 8.0},
        {"rev": "c", "train.seed": 1, "train.units": 8.0},  # the same seed again
        {"rev": "d", "train.seed": 1, "train.units": 4.0},
    ]
    groups = report_module.group_runs(runs)
    assert [[r["rev"] for r in g] for g in groups.values()] == [["a", "b"], ["d"]]


@settings(max_examples=60, deadline=None)
@given(
    content=st.one_of(
        st.text(max_size=30),
        st.builds(
            json.dumps,
            st.recursive(
                st.one_of(st.none(), st.floats(), st.text(max_size=4)),
                lambda inner: st.one_of(
                    st.lists(inner, max_size=3),
                    st.dictionaries(st.text(max_size=8), inner, max_size=3),
                ),
                max_leaves=5,
            ),
        ),
    )
)
def test_any_metrics_file_gives_an_interval_text_or_one_line(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("metrics")
    (folder / "evaluate.json").write_text(content)
    try:
        shown = report_module._interval_text(str(folder / "evaluate.json"), None)
    except PipelineError as error:
        assert "\n" not in str(error) and "evaluate.json" in str(error)
        return
    assert shown == "no metrics" or shown.endswith(("%", ")"))
