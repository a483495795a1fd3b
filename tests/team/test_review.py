"""The pull-request check under GitHub's conditions, rehearsed: a bare Git origin and a DVC
remote; CI is a fresh clone of the PR's head commit with an empty cache; the base branch
moves on after the branch was reproduced; results reproduced but never pushed; stale
results; a remote it has no credentials for; and the workflow routing forks away."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ci_review, dvc, run, set_params, sha, switch

from lab.review import MARKER

# one worker builds this module's `github` fixture (module-scoped) and runs all its tests
pytestmark = pytest.mark.xdist_group("review")

PNG = b"\x89PNG\r\n\x1a\n"
WORKFLOW = Path(__file__).resolve().parents[2] / ".github/workflows/pr-report.yml"


def test_review_of_the_head_commit_compares_with_the_merge_base(github, tmp_path):
    origin, author = github
    code, errors, comment, clone = ci_review(origin, tmp_path, "pr")
    assert code == 0, errors
    assert f"## Results against `origin/main` (merge-base `{sha(author, 'main')[:8]}`)" in comment
    assert "has new results" not in comment
    assert "| bilstm |" in comment and "| baseline |" in comment  # paired, both pulled
    (epochs,) = [line for line in comment.splitlines() if "train.epochs" in line]
    assert "| 2 " in epochs and "| 1 " in epochs
    # the plots GitHub renders inside the comment: tables of both revisions
    assert "| epoch | base | head |" in comment and "| 2 |" in comment
    assert "| **neg** |" in comment and "| **pos** |" in comment
    for name in ("accuracy-by-epoch.png", "metrics-plots-bilstm-confusion-csv.png"):
        assert f"`{name}`" in comment  # the workflow uploads these as an artifact
        assert (clone / "review" / name).read_bytes().startswith(PNG)
    assert "](./" not in comment  # no image links to files GitHub cannot show
    assert (clone / "models/model.keras").is_file()  # pulled, never trained


def test_a_base_that_moved_on_in_code_only_is_not_this_branchs_change(
    github, developer, tmp_path
):
    origin, _ = github
    fork_point = sha(developer, "main")
    # the base branch edits a stage dependency after the branch was reproduced: the branch
    # stays fresh (a base that re-ran stages: tests/team/test_review_team.py's conflict)
    switch(developer, "-b", "moved", "main")
    with open(developer / "sentiment/baseline.py", "a") as module:
        module.write("# a comment merged into main after the branch was reproduced\n")
    run(developer, "git", "commit", "-qam", "main: code only")
    run(developer, "git", "push", "-q", "origin", "moved")
    code, errors, comment, _ = ci_review(origin, tmp_path, "pr", base="origin/moved")
    assert code == 0, errors
    assert f"(merge-base `{fork_point[:8]}`)" in comment and "has new results" not in comment


def test_results_reproduced_but_not_pushed_ask_for_dvc_push(github, developer, tmp_path):
    run(developer, "git", "checkout", "-q", "-b", "unpushed", "pr")
    set_params(developer, "baseline", C=2.0)
    dvc(developer, "repro")  # ... but no `dvc push`
    run(developer, "git", "commit", "-qam", "another C, results not pushed")
    run(developer, "git", "push", "-q", "origin", "unpushed")
    code, errors, comment, _ = ci_review(github[0], tmp_path, "unpushed")
    assert code == 1
    (line,) = errors
    assert line.startswith("review: error: the branch's results are not on the remote (")
    assert "`data/predictions/baseline.csv`" in line
    assert line.endswith("on the machine that ran `dvc repro`, run `make publish` (`dvc push "
                         "--run-cache`, which the review also pulls)")
    assert "run `make publish`" in comment and "GPU box" not in comment


def test_stale_results_name_the_changed_params_and_files_not_check_params(
    github, developer, tmp_path
):
    run(developer, "git", "checkout", "-q", "-b", "stale", "pr")
    set_params(developer, "train", epochs=3)
    with open(developer / "sentiment/baseline.py", "a") as module:
        module.write("# an edit nobody reproduced\n")
    run(developer, "git", "commit", "-qam", "three epochs and a code edit, not reproduced")
    run(developer, "git", "push", "-q", "origin", "stale")
    code, errors, comment, _ = ci_review(github[0], tmp_path, "stale")
    from sentiment import pipeline

    stale = [name for name, stage in pipeline.stages(developer / "dvc.yaml").items()
             if name == "train" or "sentiment/baseline.py" in stage["deps"]]
    assert stale[:3] == ["train", "baseline", "nbsvm"]  # and any model added since
    assert code == 1
    assert errors == [
        f"review: error: stale stages {', '.join(stale)}: run `dvc repro` and `make publish`"
    ]
    assert comment.splitlines()[1] == "## Results are stale"
    assert "- params changed: `train.epochs`" in comment
    assert "- files changed: `sentiment/baseline.py`" in comment
    assert "- stages to re-run: " + ", ".join(f"`{name}`" for name in stale) in comment
    assert "check_params" not in comment and "params_checked" not in comment


def test_a_remote_without_credentials_or_objects_or_no_remote_fails_in_one_line(
    github, developer, tmp_path, monkeypatch
):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    run(developer, "git", "checkout", "-q", "-b", "s3", "pr")
    dvc(developer, "remote", "add", "-d", "s3", "s3://imdb-sentiment/dvc")
    dvc(developer, "remote", "modify", "s3", "endpointurl", "http://127.0.0.1:9")
    run(developer, "git", "commit", "-qam", "an S3 remote, as a fork's PR sees it: no credentials")
    run(developer, "git", "push", "-q", "origin", "s3")
    code, errors, comment, _ = ci_review(github[0], tmp_path / "s3", "s3")
    assert code == 1
    (line,) = errors
    assert "no credentials for it" in line and "once a maintainer pushes the branch" in line

    run(developer, "git", "checkout", "-q", "-b", "empty", "pr")  # same DVC files as `s3`
    dvc(developer, "remote", "modify", "storage", "url", str(tmp_path / "empty"))
    run(developer, "git", "commit", "-qam", "a remote nobody pushed to")
    run(developer, "git", "push", "-q", "origin", "empty")
    code, errors, comment, _ = ci_review(github[0], tmp_path / "empty", "empty")
    assert code == 1 and len(errors) == 1 and "run `make publish`" in errors[0]

    run(developer, "git", "checkout", "-q", "-b", "none", "pr")
    dvc(developer, "remote", "remove", "storage")
    run(developer, "git", "commit", "-qam", "no remote")
    run(developer, "git", "push", "-q", "origin", "none")
    code, errors, comment, _ = ci_review(github[0], tmp_path / "none", "none")
    assert code == 1
    assert errors == [
        "review: error: no default DVC remote is configured: add one with "
        "`dvc remote add -d NAME URL` and commit .dvc/config (see docs/remotes.md)"
    ]
    assert "could not run" in comment


WORKFLOWS = WORKFLOW.parent


def test_the_workflows_hold_against_their_own_supply_chain():
    """Pinned actions, no persisted token, least privilege, fail-closed gates."""
    import re

    for path in WORKFLOWS.glob("*.yml"):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {}, path.name  # each job grants its own
        for name, job in workflow["jobs"].items():
            assert "timeout-minutes" in job and "permissions" in job, (path.name, name)
            for step in job["steps"]:
                if "uses" in step:
                    action, _, sha = step["uses"].partition("@")
                    assert re.fullmatch(r"[0-9a-f]{40}", sha), (path.name, step["uses"])
                    pinned = rf"{re.escape(step['uses'])}\s+# (v[\d.]+)"
                    version = re.search(pinned, path.read_text())
                    assert version, f"{path.name}: {action} has no version comment"
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, (path.name, name)
                condition = str(step.get("if", ""))
                assert "always()" not in condition, (path.name, name)  # not after cancel
    text = WORKFLOW.read_text()
    assert "${{ steps.python.outputs.python-version }}" in text  # exact Python in cache keys
    assert "run: make review" not in text and '--base "origin/$BASE_REF"' in text


def test_the_workflow_reviews_the_head_commit_and_never_runs_a_forks_code_with_secrets():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    jobs = workflow["jobs"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert same_repo in jobs["review"]["if"]
    assert jobs["changes"]["if"] == "github.event_name == 'pull_request'"
    for job in ("changes", "tests", "review"):
        checkout = jobs[job]["steps"][0]
        assert checkout["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"
    # a fork is reviewed only by a maintainer's dispatch, with the trusted checkout's code
    assert jobs["fork-review"]["if"] == "github.event_name == 'workflow_dispatch'"
    assert jobs["fork-review"]["steps"][0]["with"]["path"] == "trusted"
    assert "ref" not in jobs["fork-review"]["steps"][0]["with"]
    runs = " ".join(s.get("run", "") for s in jobs["fork-review"]["steps"])
    assert "trusted/.ci/fork-review" in runs and "make install" not in runs.replace(
        "make -C trusted install", ""
    )
    notice = yaml.safe_load((WORKFLOWS / "pr-fork-notice.yml").read_text())
    (step,) = notice["jobs"]["notice"]["steps"]
    assert "uses" not in step and "actions/checkout" not in str(notice)  # no PR code
    assert jobs["review"]["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["cancel-in-progress"] is True


def committed_repo(repo: Path, files: dict[str, str]) -> Path:
    """A Git repository on `main` whose one commit holds these files."""
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    run(repo, "git", "init", "-q", "-b", "main")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "start")
    return repo


def test_the_docs_gate_fails_closed_and_reads_20000_paths(tmp_path):
    repo = committed_repo(tmp_path / "repo", {"README.md": "x\n"})
    gate = [str(WORKFLOWS.parent.parent / ".ci/changed-code"), "main"]

    def gate_says(branch, start, files):
        run(repo, "git", "checkout", "-q", "-b", branch, start)
        for name in files:
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_text(name)
        run(repo, "git", "add", "-A")
        run(repo, "git", "commit", "-qm", branch)
        return run(repo, *gate).stdout.strip()

    many = [f"docs/page{i}.md" for i in range(20_000)]
    assert gate_says("docs-only", "main", many) == "false"
    # the same 20,000 pages and one code file, listed first or last
    assert gate_says("code-first", "docs-only", ["a.py"]) == "true"  # grep stops early: no SIGPIPE
    assert gate_says("code-last", "docs-only", ["zz/code.py"]) == "true"
    assert run(repo, gate[0], "no-such-base").stdout.strip() == "true"  # an error: code


def test_a_document_a_test_reads_or_a_generated_block_is_not_docs_only(tmp_path):
    repo = committed_repo(tmp_path / "repo", {
        "README.md": "intro\n",
        "docs/research.md": "<!-- results:headline -->\n| a | 90.0 |\n<!-- /results -->\n",
        "docs/free.md": "prose\n",
        "tests/pipeline/test_readme.py": 'README = "README.md"\n',
    })
    gate = [str(WORKFLOWS.parent.parent / ".ci/changed-code"), "main"]

    def gate_says(name, text):
        run(repo, "git", "checkout", "-q", "-B", "pr", "main")
        (repo / name).write_text(text)
        run(repo, "git", "commit", "-qam", name)
        return run(repo, *gate).stdout.strip()

    assert gate_says("README.md", "a headline of 99%\n") == "true"  # a test reads it
    assert gate_says("docs/research.md", "typed 95.0\n") == "true"  # a generated block
    assert gate_says("docs/free.md", "more prose\n") == "false"


def test_the_gate_is_the_base_branchs_and_moved_or_deleted_code_is_code(tmp_path):
    root = WORKFLOWS.parent.parent
    (step,) = [s["run"] for s in yaml.safe_load((WORKFLOWS / "pr-report.yml").read_text())[
        "jobs"]["changes"]["steps"] if "changed-code" in s.get("run", "")]
    gate = (root / ".ci/changed-code").read_text()
    repo = committed_repo(tmp_path / "repo",
                          {".ci/changed-code": gate, "stages/train.py": "code\n"})
    run(repo, "git", "update-ref", "refs/remotes/origin/main", "main")

    def gate_says(branch, change):
        run(repo, "git", "checkout", "-q", "-b", branch, "main")
        change()
        run(repo, "git", "add", "-A")
        run(repo, "git", "commit", "-qm", branch)
        out = tmp_path / f"{branch}.out"
        env = {**os.environ, "BASE_REF": "main", "RUNNER_TEMP": str(tmp_path),
               "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
        subprocess.run(["bash", "-e", "-c", step], cwd=repo, env=env, check=True)
        return out.read_text().strip()

    def talk_round():  # the PR's own gate would say "docs only"
        (repo / ".ci/changed-code").write_text("#!/bin/sh\necho false\n")
        (repo / "stages/train.py").write_text("broken\n")

    assert gate_says("lying-gate", talk_round) == "code=true"
    def move():
        (repo / "docs").mkdir()
        run(repo, "git", "mv", "stages/train.py", "docs/train.py")

    assert gate_says("moved", move) == "code=true"
    assert gate_says("deleted", lambda: (repo / "stages/train.py").unlink()) == "code=true"
    assert gate_says("docs", lambda: (repo / "docs.md").write_text("x")) == "code=false"


def test_the_comment_is_the_bots_own_across_pages_never_a_strangers(tmp_path):
    from github_fakes import install_fake_gh, serve, writes

    env = install_fake_gh(tmp_path)
    body = tmp_path / "body.md"
    body.write_text(f"{MARKER}\nnew results\n")
    path = "repos/team/imdb/issues/7/comments"
    stranger = {"id": 1, "user": {"login": "mallory"}, "body": f"{MARKER}\nmine now"}
    ours = {"id": 42, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\nold"}
    serve(env, path, [stranger], [{"id": 2, "user": {"login": "ann"}, "body": "lgtm"}, ours])
    post = [str(WORKFLOWS.parent.parent / ".ci/post-comment"), "7", str(body)]
    subprocess.run(post, env=env, check=True)
    assert writes(env) == [
        {"method": "PATCH", "path": "repos/team/imdb/issues/comments/42",
         "fields": {"body": body.read_text()}}
    ]

    env = install_fake_gh(tmp_path / "no-comment-of-ours")
    serve(env, path, [stranger])
    subprocess.run(post, env=env, check=True)
    assert [w["method"] + " " + w["path"] for w in writes(env)] == [f"POST {path}"]


@pytest.fixture
def fake_gh_first_on_path(tmp_path, monkeypatch) -> dict[str, str]:
    """The fake `gh` for in-process code (lab.refresh); its environment."""
    from github_fakes import install_fake_gh

    env = install_fake_gh(tmp_path)
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.setenv("FAKE_GH_STATE", env["FAKE_GH_STATE"])
    return env


def test_a_base_push_refreshes_every_open_prs_status(fake_gh_first_on_path):
    from github_fakes import serve, writes

    from lab import refresh

    env = fake_gh_first_on_path
    here, fork = {"repo": {"full_name": "team/imdb"}}, {"repo": {"full_name": "alice/imdb"}}
    serve(env, "repos/team/imdb/pulls", [{"number": 7, "head": here, "base": here}],
          [{"number": 8, "head": fork, "base": here}, {"number": 9, "head": here, "base": here}])
    serve(env, "repos/team/imdb/pulls/7", {"mergeable": False})
    serve(env, "repos/team/imdb/pulls/8", {"mergeable": True})
    serve(env, "repos/team/imdb/pulls/9", {"mergeable": True})
    old = f"{MARKER}\n{refresh.status_block('> Reviewed `aaaa` against `origin/main`.')}\n## R\n"
    stale = old.replace("## R", "## Results are stale")
    bot = {"login": "github-actions[bot]"}
    serve(env, "repos/team/imdb/issues/7/comments", [{"id": 70, "user": bot, "body": old}])
    serve(env, "repos/team/imdb/issues/8/comments", [{"id": 80, "user": bot, "body": stale}])
    serve(env, "repos/team/imdb/issues/9/comments", [])
    done = refresh.refresh("team/imdb", "main", "b" * 40, wait=0)
    # (#8's comment is a stale-results one: it holds no comparison to vouch for)
    assert done[:2] == ["#7: conflicts", "#8: merges"]
    assert done[2] == "#9: no review comment yet, still merges: left alone"
    patched = {w["path"]: w["fields"]["body"] for w in writes(env)}
    conflicted = patched["repos/team/imdb/issues/comments/70"]
    assert "**This branch conflicts with `main`** (at `bbbbbbbb`)" in conflicted
    assert "`make update BASE=origin/main`" in conflicted
    assert conflicted.endswith("\n## R\n") and "Reviewed `aaaa`" not in conflicted
    assert "gh pr checkout" not in conflicted
    moved = patched["repos/team/imdb/issues/comments/80"]  # a fork's PR: steps that work there
    assert "still merges cleanly. To compare" in moved and "still holds" not in moved
    assert "the comparison below (against the merge-base) still holds" in refresh.moved_status(
        "main", "b" * 40)  # what a comment with a comparison is told
    assert "`gh pr checkout 8` then `make update BASE=origin/main`" in moved
    assert "`make update BASE=upstream/main`" in moved


def test_a_dozen_prs_github_has_not_yet_computed_wait_three_times_not_twelve(
    fake_gh_first_on_path, monkeypatch
):
    from github_fakes import serve, writes

    from lab import refresh

    env = fake_gh_first_on_path
    here = {"repo": {"full_name": "team/imdb"}}
    serve(env, "repos/team/imdb/pulls",
          [{"number": n, "head": here, "base": here} for n in range(1, 13)])
    bot = {"login": "github-actions[bot]"}
    for n in range(1, 13):
        serve(env, f"repos/team/imdb/pulls/{n}", {"mergeable": None if n > 1 else True})
        serve(env, f"repos/team/imdb/issues/{n}/comments",
              [{"id": n, "user": bot, "body": f"{MARKER}\n## R\n"}])
    waits = []
    monkeypatch.setattr(refresh.time, "sleep", waits.append)
    done = refresh.refresh("team/imdb", "main", "b" * 40, wait=5)
    assert waits == [5, 5, 5]  # one wait per round (the job's timeout is 10 minutes)
    assert done[0] == "#1: merges" and done[1:] == [f"#{n}: pending" for n in range(2, 13)]
    assert len(writes(env)) == 12


def test_hostile_github_json_reaches_no_other_api_path_and_claims_nothing(
    fake_gh_first_on_path,
):
    from github_fakes import serve, writes

    from lab import refresh

    env = fake_gh_first_on_path
    here = {"repo": {"full_name": "team/imdb"}}
    serve(env, "repos/team/imdb/pulls", [
        {"number": "7/../../../user/keys", "head": here, "base": here},
        {"number": True, "head": here, "base": here}, {"number": -3, "head": here, "base": here},
        {"number": 4, "head": here, "base": here}])
    serve(env, "repos/team/imdb/pulls/4", {"mergeable": "false"})  # a string, not a bool
    bot = {"login": "github-actions[bot]"}
    serve(env, "repos/team/imdb/issues/4/comments",
          [{"id": "1/../../../../user", "user": bot, "body": f"{MARKER}\nx"},
           {"id": 44, "user": bot, "body": f"{MARKER}\n## R\n"}])
    done = refresh.refresh("team/imdb", "main", "b" * 40, wait=0)
    assert done == ["#4: pending"]  # the others are not PRs; "false" is not an answer
    assert [w["path"] for w in writes(env)] == ["repos/team/imdb/issues/comments/44"]


def test_an_out_path_that_is_a_file_is_one_line(tmp_path, capsys):
    from lab import review

    taken = tmp_path / "comment.md"
    taken.write_text("mine")
    assert review.review("origin/main", taken) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"review: error: --out {taken} is a file: name a folder"
    assert taken.read_text() == "mine"


def test_a_prs_names_stay_inside_their_code_spans_in_the_comment():
    from lab.review import lock_comment, stale_comment

    hostile = "a`b\n<img src=x> @team [x](https://evil.example) ``"
    comment = stale_comment({"train`x": [("param", hostile), ("dep", hostile)]})
    comment += lock_comment([f"train: dvc.lock records {hostile}=1 (made with 2)"])
    for line in comment.splitlines():
        assert line.count("`") % 2 == 0  # every span closed: nothing of the names is live
    spans = [s for line in comment.splitlines() for s in line.split("`")[1::2]]
    assert "a'b?<img src=x> @team [x](https://evil.example) ''" in spans
    assert "\n<img" not in comment


def test_make_update_says_nothing_to_merge_and_changes_nothing_when_the_base_is_in(tmp_path):
    repo = committed_repo(tmp_path / "repo", {"a.txt": "a\n"})
    run(repo, "git", "checkout", "-q", "-b", "pr")
    (repo / "b.txt").write_text("b\n")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "a change")
    head = sha(repo, "HEAD")
    result = run(repo, sys.executable, "-m", "lab.branch", "update", "--base", "main")
    assert result.stdout.strip() == (
        "update: nothing to merge: this branch already has everything of main")
    assert sha(repo, "HEAD") == head  # no merge commit, no re-lock, nothing pushed


def test_a_yaml_bomb_in_a_prs_pipeline_files_is_refused_before_dvc_reads_it(tmp_path,
                                                                            monkeypatch):
    from lab import review

    monkeypatch.chdir(tmp_path)
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for name, previous in zip("bcdefghi", "abcdefgh"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    (tmp_path / "params.yaml").write_text("\n".join(lines) + "\n")  # 9**9 strings expanded
    assert review.yaml_problem() == "params.yaml uses 72 YAML aliases (at most 64 are read)"
    assert review.review("origin/main", tmp_path / "out") == 1
    comment = (tmp_path / "out/comment.md").read_text()
    assert "This commit's params.yaml uses 72 YAML aliases" in comment
    assert "nothing of it was read" in comment
    (tmp_path / "params.yaml").write_text("train:\n  units: 8\n")
    (tmp_path / "dvc.lock").write_bytes(b"x" * (16 * 2**20 + 1))
    assert review.yaml_problem() == "dvc.lock is larger than 16 MiB"


def test_a_committed_file_too_large_to_read_is_refused_before_dvc_reads_it(tmp_path,
                                                                          monkeypatch):
    from lab import report, review

    monkeypatch.chdir(tmp_path)
    run(tmp_path, "git", "init", "-q")
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/small.json").write_text('{"accuracy": 0.9}\n')
    (tmp_path / "metrics/train.json").write_bytes(b" " * (16 * 2**20 + 1))
    run(tmp_path, "git", "add", "-A")
    run(tmp_path, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "big")
    assert report.oversized_files() == ["metrics/train.json"]
    assert review.review("origin/main", tmp_path / "out") == 1
    comment = (tmp_path / "out/comment.md").read_text()
    assert "files over 16 MiB (`metrics/train.json`), so nothing of it was read" in comment


def _serve_and_log(port_queue, log: str) -> None:
    """A web server in its own process (vl_convert holds the GIL while it fetches)."""
    import http.server

    class Logged(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            Path(log).open("a").write(self.path + "\n")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"a\n1\n2\n")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Logged)
    port_queue.put(server.server_port)
    server.serve_forever()


def test_a_plot_spec_naming_a_url_is_refused_in_one_line_and_nothing_is_fetched(tmp_path):
    import json
    import multiprocessing

    from lab.review import vega_png
    from sentiment.io import PipelineError

    log = tmp_path / "requests.log"
    log.touch()
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve_and_log, args=(ports, str(log)), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=30)}/metadata.csv"
        encoding = {"x": {"field": "a", "type": "quantitative"}}
        for data in ({"url": url}, {"url": "metadata.csv"}):
            spec = json.dumps({"data": data, "mark": "point", "encoding": encoding})
            with pytest.raises(PipelineError, match="outside URL") as refused:
                vega_png(spec)
            assert "\n" not in str(refused.value)
        images = [{"data": {"values": [{"a": 1}]}, "mark": "image",
                   "encoding": {**encoding, "url": {"value": url}}},
                  {"layer": [{"mark": {"type": "image"}, "encoding": {"url": {"field": "u"}}}],
                   "data": {"values": [{"u": url}]}}]
        for spec in images:
            with pytest.raises(PipelineError, match="image marks"):
                vega_png(json.dumps(spec))
    finally:
        server.terminate()
    assert log.read_text() == ""
    inline = {"data": {"values": [{"a": 1}]}, "mark": "point", "encoding": encoding}
    assert vega_png(json.dumps(inline)).startswith(PNG)
