"""The pull-request check as CI runs it: a fresh clone of a head branch, a base branch,
a remote the author pushed to; it pulls, refuses stale results and writes the comment."""

import subprocess
import sys

import pytest
from conftest import dvc, run
from test_pipeline import set_params

PNG = b"\x89PNG\r\n\x1a\n"


def review(clone):
    return subprocess.run(
        [sys.executable, "-m", "sentiment.review", "--base", "origin/main", "--out", "review"],
        cwd=clone,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def pull_request(workspace, tmp_path):
    """A fresh clone of branch `pr` (one training epoch instead of three), both pushed."""
    dvc(workspace, "remote", "add", "-d", "storage", str(tmp_path / "remote"))
    run(workspace, "git", "commit", "-qam", "a remote")
    dvc(workspace, "push")
    run(workspace, "git", "checkout", "-qb", "pr")
    set_params(workspace, "train", epochs=1)
    dvc(workspace, "repro")
    dvc(workspace, "push")
    run(workspace, "git", "commit", "-qam", "one epoch")
    clone = tmp_path / "ci"
    run(tmp_path, "git", "clone", "-q", "-b", "pr", str(workspace), str(clone))
    return clone


def test_review_pulls_and_writes_the_comment_with_paired_results_and_plots(pull_request):
    result = review(pull_request)
    assert result.returncode == 0, result.stderr[-2000:]
    comment = (pull_request / "review/comment.md").read_text()
    assert comment.startswith("## Results against `origin/main`")
    assert "| bilstm |" in comment and "| baseline |" in comment  # paired, both pulled
    assert "McNemar" in comment
    assert any(
        "train.epochs" in line and "3" in line and "1" in line for line in comment.split("\n")
    )
    for name in ("accuracy-by-epoch.png", "metrics-plots-confusion-csv.png"):
        assert f"(./{name})" in comment
        assert (pull_request / "review" / name).read_bytes().startswith(PNG)
    assert (pull_request / "models/model.keras").is_file()  # pulled, never trained


def test_review_of_stale_results_names_the_stages_and_fails(pull_request):
    set_params(pull_request, "train", epochs=2)
    run(pull_request, "git", "commit", "-qam", "two epochs, not reproduced")
    result = review(pull_request)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "review: error: stale stages check_params, train: run `dvc repro` and `dvc push`"
    ]
    comment = (pull_request / "review/comment.md").read_text()
    assert comment.startswith("## Results are stale")
    assert "`check_params`, `train`" in comment and "dvc repro` on a GPU box" in comment
    assert "Running stage" not in result.stdout + result.stderr  # it never trains


def test_review_without_a_remote_or_with_missing_objects_fails_in_one_line(pull_request, tmp_path):
    dvc(pull_request, "remote", "modify", "storage", "url", str(tmp_path / "empty"))
    missing = review(pull_request)
    assert missing.returncode == 1
    (line,) = missing.stderr.strip().splitlines()
    assert line.startswith("review: error: `dvc pull` failed (")
    assert line.endswith("run `dvc repro` on a GPU box and `dvc push`")

    dvc(pull_request, "remote", "remove", "storage")
    result = review(pull_request)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "review: error: no default DVC remote is configured: add one with "
        "`dvc remote add -d NAME URL` and commit .dvc/config (see docs/remotes.md)"
    ]
    assert "could not run" in (pull_request / "review/comment.md").read_text()
