"""Keep open pull requests' review comments honest when the base branch moves.

GitHub runs no `pull_request` workflow for a PR with a merge conflict, so a push to the
base that puts a PR in conflict would leave its review comment looking current. The
`pr-refresh` workflow runs this on every push to the base branch: for each open PR it
asks GitHub whether the PR still merges and rewrites the comment's status block (between
STATUS_START and STATUS_END): conflicts / still merges, with the one command that brings
the base in. It uses the standard library and `gh` only, and reads no PR code.

    python3 -m lab.refresh --repo owner/name --base main --sha <new base commit>
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

# The review comment's first line: the one comment per PR that the workflows update.
MARKER = "<!-- sentiment-review -->"
STATUS_START, STATUS_END = "<!-- status -->", "<!-- /status -->"
BOT = os.environ.get("BOT_LOGIN", "github-actions[bot]")


def update_command(base: str, number: int | None = None, fork: bool = False) -> str:
    """The command that brings `base` in. A fork's PR: a maintainer's `gh pr checkout`
    branch pushes to the fork's PR branch; in the fork's own clone `origin` is the fork."""
    command = f"`make update BASE=origin/{base}`"
    if not fork:
        return command
    return (f"`gh pr checkout {number}` then {command} (it pushes to the fork's PR branch); "
            f"in the fork's own clone, with this repository as the remote `upstream`, "
            f"`make update BASE=upstream/{base}`")


def status_block(text: str) -> str:
    return f"{STATUS_START}\n{text}\n{STATUS_END}"


def code(text: object, limit: int = 80) -> str:
    """`text` as an inline code span nothing in it can end: a PR's names (params keys,
    paths, stage names) may hold backticks, line breaks, HTML, links, @mentions or a table's
    `|`, which stay literal (a `|` shows as `¦`: GitHub splits a table row at any `|`)."""
    shown = "".join(c if c.isprintable() else "?" for c in str(text))
    shown = shown.replace("`", "'").replace("|", "¦")
    return f"`{shown[:limit]}{'…' if len(shown) > limit else ''}`"


def inert(text: object) -> str:
    """A PR's name as Markdown: as it is when it is plain (ASCII letters, digits, `_./-`),
    otherwise a code span (code)."""
    plain = isinstance(text, str) and re.fullmatch(r"[A-Za-z0-9_./-]{1,80}", text)
    return text if plain else code(text)


def conflict_status(base: str, sha: str, files: list[str] | None = None,
                    number: int | None = None, fork: bool = False) -> str:
    where = f" (in {', '.join(code(f) for f in files)})" if files else ""
    return (
        f"> **This branch conflicts with `{base}`** (at `{sha[:8]}`){where}. GitHub runs no "
        "check on a conflicted pull request, so the results below are outdated. Resolve it "
        f"with {update_command(base, number, fork)}: it merges `{base}`, re-locks (`dvc "
        "repro` re-runs only what the merge made stale, the rest comes from the run-cache), "
        "and pushes the "
        "results and the commit; the review then runs again."
    )


def moved_status(base: str, sha: str, number: int | None = None, fork: bool = False,
                 compared: bool = True) -> str:
    """`compared`: the comment below holds a comparison (not a stale or failed review)."""
    holds = (", and the comparison below (against the merge-base) still holds" if compared
             else "")
    return (
        f"> `{base}` moved to `{sha[:8]}` since this review; the branch still merges "
        f"cleanly{holds}. To compare with `{base}`'s newest results, "
        f"{update_command(base, number, fork)}."
    )


def pending_status(base: str, sha: str) -> str:
    return (
        f"> `{base}` moved to `{sha[:8]}`; GitHub has not yet said whether this branch still "
        "merges. The next push re-runs the review."
    )


def with_status(body: str, status: str) -> str:
    """`body` with its status block replaced (or inserted after the marker line)."""
    block = status_block(status)
    if STATUS_START in body and STATUS_END in body:
        head, rest = body.split(STATUS_START, 1)
        return head + block + rest.split(STATUS_END, 1)[1]
    first, _, rest = body.partition("\n")
    return f"{first}\n{block}\n{rest}"


def gh(*args: str) -> str:
    result = subprocess.run(["gh", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"gh {' '.join(args[:3])} failed: {result.stderr.strip()[:300]}")
    return result.stdout


def json_lines(text: str) -> list:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def open_pulls(repo: str, base: str) -> list[dict]:
    query = f"repos/{repo}/pulls?state=open&base={base}&per_page=100"
    fork = '((.head.repo.full_name // "") != (.base.repo.full_name // ""))'
    found = json_lines(gh("api", "--paginate", query, "--jq", f".[] | {{number, fork: {fork}}}"))
    return [pull for pull in found if _positive_int(pull.get("number"))]  # it becomes a path


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def mergeability(repo: str, numbers: list[int], tries: int = 4,
                 wait: float = 5.0) -> dict[int, bool | None]:
    """Each PR's mergeability; None where GitHub has not computed it yet. GitHub computes
    it lazily, after the first ask: so every PR is asked in one round, then the ones still
    unknown again after one wait: at most `tries - 1` waits however many PRs are open."""
    known: dict[int, bool | None] = dict.fromkeys(numbers)
    for attempt in range(tries):
        for number in [n for n, state in known.items() if state is None]:
            answer = json.loads(gh("api", f"repos/{repo}/pulls/{number}", "--jq", "{mergeable}"))
            if isinstance(answer.get("mergeable"), bool):  # anything else: not known yet
                known[number] = answer["mergeable"]
        if None not in known.values() or attempt + 1 == tries:
            return known
        time.sleep(wait)
    return known


def review_comment(repo: str, number: int) -> dict | None:
    """The bot's own marker comment (a marker that someone else posted is not it)."""
    select = f'.[] | select(.user.login == "{BOT}" and (.body | startswith("{MARKER}")))'
    found = json_lines(
        gh("api", "--paginate", f"repos/{repo}/issues/{number}/comments", "--jq", select)
    )
    found = [c for c in found if _positive_int(c.get("id")) and isinstance(c.get("body"), str)]
    return found[0] if found else None


def post(repo: str, number: int, comment: dict | None, body: str) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as handle:
        handle.write(body)
    try:
        if comment:
            path = f"repos/{repo}/issues/comments/{comment['id']}"
            gh("api", "-X", "PATCH", path, "-F", f"body=@{handle.name}")
        else:
            gh("api", f"repos/{repo}/issues/{number}/comments", "-F", f"body=@{handle.name}")
    finally:
        os.unlink(handle.name)


def refresh(repo: str, base: str, sha: str, wait: float = 5.0) -> list[str]:
    """Rewrite each open PR's status; returns one line per PR saying what was done."""
    done = []
    pulls = open_pulls(repo, base)
    merging = mergeability(repo, [pull["number"] for pull in pulls], wait=wait)
    for pull in pulls:
        number, fork = pull["number"], pull.get("fork") is True
        merges = merging[number]
        status = (
            pending_status(base, sha)
            if merges is None
            else moved_status(base, sha, number, fork)
            if merges
            else conflict_status(base, sha, None, number, fork)
        )
        comment = review_comment(repo, number)
        if comment is None and merges is not False:
            done.append(f"#{number}: no review comment yet, still merges: left alone")
            continue
        if merges and "### Paired comparison" not in comment["body"]:  # stale, failed, first
            status = moved_status(base, sha, number, fork, compared=False)
        body = with_status(comment["body"] if comment else f"{MARKER}\n", status)
        post(repo, number, comment, body)
        state = {None: "pending", True: "merges", False: "conflicts"}[merges]
        done.append(f"#{number}: {state}")
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", required=True, help="owner/name")
    parser.add_argument("--base", required=True, help="the base branch that moved")
    parser.add_argument("--sha", required=True, help="its new commit")
    args = parser.parse_args()
    try:
        for line in refresh(args.repo, args.base, args.sha):
            print(line)
    except RuntimeError as error:
        sys.exit(f"refresh: error: {error}")


if __name__ == "__main__":
    main()
