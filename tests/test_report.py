"""`sentiment.report`: the PR comment's paired comparisons, and the seed-grouped table."""

import shutil
import subprocess
import sys

import numpy as np
from conftest import dvc, run
from test_pipeline import set_params

from sentiment import evaluation, stats


def report(workspace, *args):
    return subprocess.run(
        [sys.executable, "-m", "sentiment.report", *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def table_row(text, first_cell):
    rows = [line for line in text.splitlines() if line.startswith(f"| {first_cell} ")]
    assert len(rows) == 1, text
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def test_report_pairs_base_and_head_predictions_on_the_same_reviews(workspace):
    base = evaluation.read_predictions(workspace / "data/predictions/bilstm.csv")
    set_params(workspace, "train", learning_rate=0.05, epochs=1)
    dvc(workspace, "repro")
    run(workspace, "git", "commit", "-qam", "faster, shorter training")
    head = evaluation.read_predictions(workspace / "data/predictions/bilstm.csv")
    text = report(workspace, "--base", "HEAD~1")

    base_sha = run(workspace, "git", "rev-parse", "HEAD~1").stdout.strip()
    assert text.startswith(f"## Results against `HEAD~1` (merge-base `{base_sha[:8]}`)")
    expected = stats.paired_comparison(
        head["label"].to_numpy(), base["prob_pos"].to_numpy(), head["prob_pos"].to_numpy()
    )
    row = table_row(text, "bilstm")
    assert float(row[3]) == round(100 * expected["change"], 2)
    low, high = (float(x) for x in row[4].split(" to "))
    assert (low, high) == (
        round(100 * expected["change_ci"]["low"], 2),
        round(100 * expected["change_ci"]["high"], 2),
    )
    assert row[5] == f"{expected['base_only']} / {expected['head_only']}"
    assert float(row[6]) == float(f"{expected['p_value']:.3g}")
    assert row[7] == f"**{expected['verdict']}**"
    # the baseline did not re-run: same predictions, no change
    assert table_row(text, "baseline")[3:] == [
        "+0.00",
        "+0.00 to +0.00",
        "0 / 0",
        "1",
        "**within noise**",
    ]
    params_rows = [line for line in text.splitlines() if "train.learning_rate" in line]
    assert params_rows and "0.05" in params_rows[0]
    assert any("evaluate.json" in line and "accuracy" in line for line in text.splitlines())


def test_report_says_when_it_cannot_pair_and_shows_each_sides_interval(workspace):
    set_params(workspace, "prepare", seed=1)
    dvc(workspace, "repro")
    run(workspace, "git", "commit", "-qam", "another split")
    text = report(workspace, "--base", "HEAD~1")
    line = next(line for line in text.splitlines() if line.startswith("- **bilstm**"))
    assert "the test sets differ" in line and "not paired" in line
    assert line.count("95% CI") == 2

    shutil.rmtree(workspace / ".dvc" / "cache")  # no cache, no remote: base objects are gone
    text = report(workspace, "--base", "HEAD~1")
    line = next(line for line in text.splitlines() if line.startswith("- **bilstm**"))
    base = run(workspace, "git", "rev-parse", "--short=8", "HEAD~1").stdout.strip()
    assert f"no predictions in `{base}` (run `dvc pull`)" in line and line.count("95% CI") == 2


def test_queued_seeds_run_with_relative_local_sources_and_group_in_the_table(workspace):
    # the sample lives in a git-ignored folder given by a relative path, as the README's
    # ../shared paths are: the queued copy under .dvc/tmp/exps/ does not have it
    for args in (
        ["-S", "train.seed=1"],
        ["-S", "train.seed=2"],
        ["-S", "train.seed=1", "-S", "train.units=4"],
    ):
        dvc(workspace, "exp", "run", "--queue", *args)
    dvc(workspace, "exp", "run", "--run-all", "-j", "1")
    text = report(workspace, "--experiments")

    reference = table_row(text, "most common settings")  # units 8: 2 runs of 3
    assert reference[1] == "2 (1, 2)" and reference[-1] == "reference"
    variant = table_row(text, "train.units=4")
    assert variant[1] == "1 (1)"
    assert "McNemar p" in variant[-1] and variant[-1].endswith(
        ("**better**", "**worse**", "**within noise**")
    )
    accuracies = [float(x) for x in reference[3].split("–")]
    mean, std = (float(x) for x in reference[2].split(" ± "))
    assert accuracies[0] <= mean <= accuracies[1]
    assert np.isclose(std, np.std(accuracies, ddof=1), atol=0.011)
