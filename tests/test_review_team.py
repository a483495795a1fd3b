"""The review loop of a team, under GitHub's conditions: a fork's PR reviewed by trusted
code, a true conflict resolved by `make update`, a re-run after `dvc push`, and a hostile
base branch name. Its own module so pytest-xdist runs it beside tests/test_review.py."""

import shutil
import subprocess
import sys

import test_review
import yaml
from conftest import dvc, run
from test_pipeline import set_params
from test_review import ci_review, sha, switch

from sentiment.demo import tool_env
from sentiment.review import MARKER

github = test_review.github  # the fixtures, built again for this module's own worker
developer = test_review.developer


def test_a_forks_pr_is_reviewed_by_trusted_code_that_reads_its_commit_as_data(github, tmp_path):
    from github_fakes import install_fake_gh, serve

    origin, author = github
    trusted = tmp_path / "trusted"
    run(tmp_path, "git", "clone", "-q", "-b", "main", str(origin), str(trusted))
    fork = tmp_path / "fork"
    shutil.copytree(author, fork, symlinks=True)
    switch(fork, "pr")
    planted = tmp_path / "fork-code-ran"
    with open(fork / "sentiment/review.py", "a") as module:  # would run if imported
        module.write(f"\nimport pathlib; pathlib.Path({str(planted)!r}).touch()\n")
    dvc(fork, "remote", "modify", "storage", "url", str(tmp_path / "attacker"))
    run(fork, "git", "commit", "-qam", "a fork's change")
    head = sha(fork, "HEAD")
    run(fork, "git", "push", "-q", str(origin), "HEAD:refs/pull/5/head")  # as GitHub keeps it

    env = install_fake_gh(tmp_path / "gh")
    serve(env, "repos/team/imdb/pulls/5", {"base": {"ref": "main"}, "head": {"sha": head}})
    work = tmp_path / "runner"
    work.mkdir()
    result = subprocess.run(
        [str(trusted / ".ci/fork-review"), "5", sys.executable],
        cwd=work, env={**env, "ORIGIN": str(origin)}, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert not planted.exists()  # the fork's code never ran
    comment = (work / "head/review/comment.md").read_text()
    assert comment.startswith(MARKER) and "| bilstm |" in comment  # pulled via trusted config
    assert run(work / "head", "git", "rev-parse", "HEAD").stdout.strip() == head


def test_a_true_conflict_is_named_and_make_update_resolves_it(github, developer, tmp_path):
    origin, _ = github
    switch(developer, "-b", "retrained", "main")
    set_params(developer, "train", dropout=0.1)  # the same stage as the PR's epochs
    dvc(developer, "repro")
    dvc(developer, "push", "--run-cache")
    run(developer, "git", "commit", "-qam", "main: another dropout")
    run(developer, "git", "push", "-q", "origin", "retrained")
    code, errors, comment, _ = ci_review(origin, tmp_path / "a", "pr", base="origin/retrained")
    assert code == 0, errors
    (status,) = [line for line in comment.splitlines() if "conflicts with" in line]
    assert "**This branch conflicts with `retrained`**" in status and "`dvc.lock`" in status
    assert "`make update BASE=origin/retrained`" in status

    switch(developer, "pr")
    run(developer, "git", "pull", "-q", "origin", "pr")
    updated = subprocess.run(
        [sys.executable, "-m", "sentiment.branch", "update", "--base", "origin/retrained"],
        cwd=developer, capture_output=True, text=True, env=tool_env(),  # as `make update`
    )
    assert updated.returncode == 0, updated.stderr
    params = yaml.safe_load((developer / "params.yaml").read_text())["train"]
    assert (params["dropout"], params["epochs"]) == (0.1, 1)  # both changes kept
    assert "Data and pipelines are up to date" in dvc(developer, "status").stdout
    code, errors, comment, _ = ci_review(origin, tmp_path / "b", "pr", base="origin/retrained")
    assert code == 0, errors
    assert "merges cleanly" in comment and "conflicts with" not in comment


def test_after_dvc_push_a_rerun_of_the_same_commit_reviews_it(github, developer, tmp_path):
    run(developer, "git", "checkout", "-q", "-b", "later", "pr")
    set_params(developer, "baseline", C=3.0)
    dvc(developer, "repro")
    run(developer, "git", "commit", "-qam", "results pushed only later")
    run(developer, "git", "push", "-q", "origin", "later")
    code, _, comment, _ = ci_review(github[0], tmp_path / "first", "later")
    assert code == 1 and "## The results are not on the DVC remote" in comment
    assert "without a new commit" in comment and "Re-run all jobs" in comment
    dvc(developer, "push")
    code, errors, comment, _ = ci_review(github[0], tmp_path / "rerun", "later")  # same commit
    assert code == 0, errors and "| baseline |" in comment


def test_a_base_branch_name_is_never_run_as_shell_text(github, tmp_path):
    from conftest import make

    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", "-b", "pr", str(github[0]), str(clone))
    hostile = "x;touch${IFS}pwned;#"
    result = make(clone, "review", f"BASE={hostile}", check=False)
    assert result.returncode != 0
    assert not (clone / "pwned").exists()
    assert hostile in (clone / "review/comment.md").read_text()  # taken as a name, verbatim
