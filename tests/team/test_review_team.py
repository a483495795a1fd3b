"""The review loop of a team, under GitHub's conditions: a fork's PR reviewed by trusted
code, a true conflict resolved by `make update`, a re-run after `dvc push`, and a hostile
base branch name. Its own module so pytest-xdist runs it beside tests/team/test_review.py."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ci_review, dvc, run, set_params, sha, switch

from lab.demo import tool_env
from lab.review import MARKER

# one worker builds this module's `github` fixture (module-scoped) and runs all its tests
pytestmark = pytest.mark.xdist_group("review-team")
# the PR under review changes a linear model (the review of a BiLSTM change: test_review.py)
PR_CHANGE = ("nbsvm", {"C": 0.5})

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github/workflows"


def step_text(workflow: str, job: str, contains: str) -> str:
    """The `run:` text of a workflow step, exactly as GitHub's runner would run it."""
    jobs = yaml.safe_load((WORKFLOWS / workflow).read_text())["jobs"]
    (text,) = [s["run"] for s in jobs[job]["steps"] if contains in s.get("run", "")]
    return text


def fork_pr(github, tmp_path, change) -> tuple[Path, dict]:
    """A fork's PR #5 (`change(fork)` then committed), and a runner laid out as the
    fork-review job's checkout leaves it: trusted/ (the default branch, its virtualenv)."""
    from github_fakes import install_fake_gh, serve

    origin, author = github
    work = tmp_path / "runner"
    trusted = work / "trusted"
    run(tmp_path, "git", "clone", "-q", "-b", "main", str(origin), str(trusted))
    (trusted / ".venv").symlink_to(sys.prefix)  # what the job's cached `make install` made
    # the step's `make -C trusted install` must find it up to date (Make's own answer), or
    # it would reinstall this package into the running virtualenv from a temporary clone
    up_to_date = run(trusted, "make", "-q", "install", check=False).returncode == 0
    assert up_to_date, "the virtualenv is older than the lock: run `make install`"
    fork = tmp_path / "fork"
    shutil.copytree(author, fork, symlinks=True)
    switch(fork, "pr")
    change(fork)
    run(fork, "git", "add", "-A")
    run(fork, "git", "commit", "-qm", "a fork's change")
    # as GitHub keeps a PR's head (forced: each test here is its own PR #5 on one origin)
    run(fork, "git", "push", "-qf", str(origin), "HEAD:refs/pull/5/head")
    env = install_fake_gh(tmp_path / "gh")
    serve(env, "repos/team/imdb/pulls/5",
          {"base": {"ref": "main"}, "head": {"sha": sha(fork, "HEAD")}})
    env.update(ORIGIN=str(origin), REPO="team/imdb", PR="5", KEY_ID="", SECRET="",
               SHA=sha(fork, "HEAD"))  # what the maintainer published and dispatches
    return work, env


def run_fork_review_step(work: Path, env: dict) -> subprocess.CompletedProcess:
    text = step_text("pr-report.yml", "fork-review", "trusted/.ci/fork-review")
    return subprocess.run(["bash", "-e", "-c", text], cwd=work, env=env,
                          capture_output=True, text=True)


def test_a_forks_pr_is_reviewed_by_the_workflows_own_step_running_nothing_of_the_fork(
    github, tmp_path
):
    planted = tmp_path / "fork-code-ran"

    def change(fork):
        dvc(fork, "remote", "modify", "storage", "url", str(tmp_path / "attacker"))
        touch = f"\nimport pathlib; pathlib.Path({str(planted)!r}).touch()\n"
        with open(fork / "lab/review.py", "a") as module:  # would run if imported
            module.write(touch)
        (fork / "configobj.py").write_text(touch)  # a module DVC imports, at the top

    work, env = fork_pr(github, tmp_path, change)
    result = run_fork_review_step(work, env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not planted.exists()  # neither the fork's package nor its configobj.py ran
    comment = (work / "head/review/comment.md").read_text()
    assert comment.startswith(MARKER) and "| nbsvm |" in comment  # pulled via trusted config
    assert run(work / "head", "git", "rev-parse", "HEAD").stdout.strip() == sha(
        tmp_path / "fork", "HEAD")


def test_a_forks_symlinks_are_refused_and_nothing_they_point_at_reaches_the_comment(
    github, tmp_path
):
    secret = tmp_path / "credentials.yaml"
    secret.write_text("token: SECRET-TOKEN-123\n")

    def change(fork):
        (fork / "leak.yaml").symlink_to(secret)
        (fork / "leak.json").symlink_to("/dev/zero")
        pipeline_file = fork / "dvc.yaml"
        document = yaml.safe_load(pipeline_file.read_text())
        document["params"], document["metrics"] = ["leak.yaml"], ["leak.json"]
        pipeline_file.write_text(yaml.safe_dump(document, sort_keys=False))

    work, env = fork_pr(github, tmp_path, change)
    result = run_fork_review_step(work, env)
    assert result.returncode != 0
    comment = (work / "head/review/comment.md").read_text()
    assert comment.startswith(MARKER) and "symbolic links (`leak.json`, `leak.yaml`)" in comment
    assert "SECRET" not in comment and "SECRET" not in result.stdout + result.stderr
    assert secret.read_text() == "token: SECRET-TOKEN-123\n"


SECRET_TEXT = "SECRET-TOKEN-123"


@pytest.mark.parametrize("reference", ["vars-absolute", "vars-relative", "params-file",
                                       "plots-file", "template", "dep-url", "foreach"])
def test_a_forks_pipeline_naming_files_outside_its_tree_is_refused_before_dvc_reads_them(
    github, tmp_path, reference
):
    secret = tmp_path / "secret.yaml"
    secret.write_text(f"token: {SECRET_TEXT}\n")
    sneaky = "../" * 8 + str(secret).lstrip("/")

    def change(fork):
        pipeline_file = fork / "dvc.yaml"
        document = yaml.safe_load(pipeline_file.read_text())
        nbsvm = document["stages"]["nbsvm"]
        if reference.startswith("vars"):
            document = {"vars": [str(secret) if reference == "vars-absolute" else sneaky],
                        **document}
            nbsvm["params"].append("nbsvm.${token}")
        elif reference == "params-file":
            nbsvm["params"].append({str(secret): ["token"]})
        elif reference == "plots-file":
            document["plots"].append({"leak": {"y": {sneaky: ["token"]}}})
        elif reference == "template":
            document["plots"].append({"leak": {"template": str(secret), "y": {
                "metrics/plots/training.csv": ["accuracy"]}}})
        elif reference == "dep-url":
            nbsvm["deps"].append("http://169.254.169.254/latest/meta-data")
        else:  # a foreach over a file's values: DVC reads its source first
            document["stages"]["many"] = {"foreach": "${token}",
                                          "do": {"cmd": "echo ${item}"}}
        pipeline_file.write_text(yaml.safe_dump(document, sort_keys=False))

    work, env = fork_pr(github, tmp_path, change)
    result = run_fork_review_step(work, env)
    assert result.returncode == 1
    comment = (work / "head/review/comment.md").read_text()
    assert "## The review could not run" in comment and "outside this commit's tree" in comment
    assert SECRET_TEXT not in comment + result.stdout + result.stderr


def test_a_forks_committed_cache_is_dropped_so_forged_results_are_not_reviewed(
    github, tmp_path
):
    def change(fork):  # forged predictions, their lock and metrics, committed, not pushed
        predictions = fork / "data/predictions/nbsvm.csv"
        rows = predictions.read_text().splitlines()
        header = rows[0].split(",")
        label, prob = header.index("label"), header.index("prob_pos")
        forged = [header]
        for row in rows[1:]:
            cells = row.split(",")
            cells[prob] = "1.0" if cells[label] in ("1", "pos") else "0.0"
            forged.append(cells)
        predictions.write_text("\n".join(",".join(r) for r in forged) + "\n")
        dvc(fork, "commit", "-f", "nbsvm")
        run(fork, "git", "add", "-f", ".dvc/cache")

    work, env = fork_pr(github, tmp_path, change)
    assert run(work.parent / "fork", "git", "ls-files", ".dvc/cache").stdout.strip()
    result = run_fork_review_step(work, env)
    assert result.returncode == 1
    comment = (work / "head/review/comment.md").read_text()
    assert "## The results are not on the DVC remote" in comment
    assert "data/predictions/nbsvm.csv" in comment and "better" not in comment


def test_a_dispatch_for_another_head_than_the_published_one_is_refused(github, tmp_path):
    work, env = fork_pr(github, tmp_path, lambda fork: (fork / "NOTE.md").write_text("hi\n"))
    env["SHA"] = "0" * 40  # what the maintainer published; the fork pushed again since
    result = run_fork_review_step(work, env)
    assert result.returncode == 1
    assert f"PR 5's head is now {sha(work.parent / 'fork', 'HEAD')}, not {'0' * 40}" in (
        result.stderr)
    assert not (work / "head").exists()  # nothing of the PR was fetched


def test_a_forks_stale_results_name_the_maintainers_steps_not_the_authors(github, tmp_path):
    def change(fork):
        set_params(fork, "baseline", C=3.0)  # committed without `dvc repro`

    work, env = fork_pr(github, tmp_path, change)
    result = run_fork_review_step(work, env)
    assert result.returncode != 0
    comment = (work / "head/review/comment.md").read_text()
    assert "## Results are stale" in comment and "`baseline`" in comment
    assert "A fork cannot push to this repository's DVC remote" in comment
    assert "`gh pr checkout 5`" in comment
    assert "`gh workflow run pr-report.yml -f pr=5 -f sha=$(git rev-parse HEAD)`" in comment
    assert "the review runs again on that push" not in comment  # the author's own path


def test_a_base_that_re_ran_the_prs_stage_is_named_and_make_update_resolves_the_conflict(
    github, developer, tmp_path
):
    origin, _ = github
    fork_point = sha(developer, "main")
    # another PR merged into the base re-ran the stage this PR changes: both changed its
    # lines of dvc.lock, so GitHub makes no merge ref (and runs no pull_request workflow)
    switch(developer, "-b", "retrained", "main")
    set_params(developer, "nbsvm", min_df=2)  # params.yaml merges: not the next line
    dvc(developer, "repro")
    dvc(developer, "push", "--run-cache")
    run(developer, "git", "commit", "-qam", "main: another min_df")
    run(developer, "git", "push", "-q", "origin", "retrained")
    merge = run(developer, "git", "merge-tree", "--write-tree", "retrained", "pr", check=False)
    assert merge.returncode == 1
    assert "CONFLICT (content): Merge conflict in dvc.lock" in merge.stdout
    code, errors, comment, _ = ci_review(origin, tmp_path / "a", "pr", base="origin/retrained")
    assert code == 0, errors  # the review still compares with the merge-base
    assert f"(merge-base `{fork_point[:8]}`)" in comment
    (moved_on,) = [line for line in comment.splitlines() if "has new results" in line]
    assert moved_on.startswith("> `origin/retrained` has new results since this branch forked")
    assert "`metrics/nbsvm.json`" in moved_on and fork_point[:8] in moved_on
    (status,) = [line for line in comment.splitlines() if "conflicts with" in line]
    assert "**This branch conflicts with `retrained`**" in status and "`dvc.lock`" in status
    assert "`make update BASE=origin/retrained`" in status

    switch(developer, "pr")
    run(developer, "git", "pull", "-q", "origin", "pr")
    updated = subprocess.run(
        [sys.executable, "-m", "lab.branch", "update", "--base", "origin/retrained"],
        cwd=developer, capture_output=True, text=True, env=tool_env(),  # as `make update`
    )
    assert updated.returncode == 0, updated.stderr
    params = yaml.safe_load((developer / "params.yaml").read_text())["nbsvm"]
    assert (params["min_df"], params["C"]) == (2, 0.5)  # both changes kept
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
    from helpers import make

    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", "-b", "pr", str(github[0]), str(clone))
    hostile = "x;touch${IFS}pwned;#"
    result = make(clone, "review", f"BASE={hostile}", check=False)
    assert result.returncode != 0
    assert not (clone / "pwned").exists()
    assert hostile in (clone / "review/comment.md").read_text()  # taken as a name, verbatim


def test_make_update_on_a_gh_pr_checkout_branch_pushes_to_the_prs_own_branch(
    github, developer, tmp_path
):
    origin, _ = github
    fork = tmp_path / "fork.git"  # the contributor's fork, holding the PR's branch `pr`
    run(tmp_path, "git", "clone", "-q", "--bare", str(origin), str(fork))
    switch(developer, "-b", "newbase", "main")
    (developer / "NOTES.md").write_text("the base moves on\n")
    run(developer, "git", "add", "NOTES.md")
    run(developer, "git", "commit", "-qm", "the base moves on")
    # what `gh pr checkout N` leaves for a fork's PR: the fork by URL, no upstream ref
    run(developer, "git", "fetch", "-q", str(fork), "refs/heads/pr:gh-pr")
    run(developer, "git", "checkout", "-q", "gh-pr")
    dvc(developer, "pull")  # the PR's results, from the remote its author pushed them to
    run(developer, "git", "config", "branch.gh-pr.remote", str(fork))
    run(developer, "git", "config", "branch.gh-pr.merge", "refs/heads/pr")
    upstream_refs = run(tmp_path, "git", "ls-remote", str(origin)).stdout
    updated = subprocess.run(
        [sys.executable, "-m", "lab.branch", "update", "--base", "newbase"],
        cwd=developer, capture_output=True, text=True, env=tool_env(),  # as `make update`
    )
    assert updated.returncode == 0, updated.stderr
    assert f"pushed to {fork} refs/heads/pr" in updated.stdout
    pushed = run(tmp_path, "git", "--git-dir", str(fork), "rev-parse", "pr").stdout.strip()
    assert pushed == sha(developer, "HEAD")  # the PR's own branch moved
    assert run(tmp_path, "git", "ls-remote", str(origin)).stdout == upstream_refs  # untouched
