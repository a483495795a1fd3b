"""A contributor's branch: publish its results, bring its base branch in.

`publish`: after `dvc repro`, push the outputs with the run-cache to the DVC remote and
stage exactly what a reviewer diffs: dvc.lock, params.yaml, metrics/ and the .gitignore
files DVC writes beside its outputs. The review then finds everything it needs.

`update --base origin/main`: merge the base branch. Conflicts in what DVC writes (dvc.lock,
metrics/, DVC's .gitignore files) are resolved by re-locking: this branch's side is taken
and `dvc repro` re-runs only the stages the merge made stale (the run-cache restores any
that some machine already ran and pushed). Then it publishes, commits and pushes both the
results and the merge, where a plain `git push` of the branch goes (its upstream; for a
branch `gh pr checkout` made from a fork's PR, the fork's PR branch it names by URL; for a
new branch, the base's remote). A conflict in code or params is left for a person: it
stops, naming the files. When the base is already merged it says so and does nothing.

    python -m lab.branch publish                     # or: make publish
    python -m lab.branch update --base origin/main   # or: make update BASE=origin/main
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from sentiment.io import PipelineError

OUTPUT_ROOTS = ("data", "models")
CODE_ROOTS = ("stages", "sentiment", "dvc.yaml")  # what the stages run: new files count too


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True)
    if check and result.returncode != 0:
        lines = (result.stderr.strip() or result.stdout.strip()).splitlines() or ["no output"]
        errors = [line for line in lines if line.startswith("ERROR")] or lines[-1:]
        raise PipelineError(f"`{' '.join(args[-2:])}` failed: {errors[0][:300]}")
    return result


def dvc(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "dvc", *args, check=check)


def is_generated(path: str) -> bool:
    return path == "dvc.lock" or path.startswith("metrics/") or Path(path).name == ".gitignore"


def result_files() -> list[str]:
    """What a reviewer diffs, as paths that exist: the lock, params, metrics and DVC's
    .gitignore files."""
    names = ["dvc.lock", "params.yaml", "metrics"]
    names += [str(p) for root in OUTPUT_ROOTS for p in Path(root).rglob(".gitignore")]
    return [name for name in names if Path(name).exists()]


def publish() -> list[str]:
    """`dvc push --run-cache`, then `git add` exactly the result files. Returns them."""
    if not Path("dvc.lock").exists():
        raise PipelineError("no dvc.lock: run `dvc repro` first")
    stale = dvc("status", "--quiet", check=False)
    if stale.returncode != 0:
        raise PipelineError(
            "the outputs do not match dvc.lock (`dvc status` lists what changed): run "
            "`dvc repro` first"
        )
    dvc("push", "--run-cache")
    files = result_files()
    run("git", "add", "--", *files)
    return files


def conflicted() -> list[str]:
    return run("git", "diff", "--name-only", "--diff-filter=U").stdout.split()


def update(base: str, push: bool = True) -> str:
    """Merge `base`, re-lock, publish, commit and push. Returns what it did, in one line."""
    if run("git", "status", "--porcelain", "--untracked-files=no").stdout.strip():
        raise PipelineError("uncommitted changes: commit or stash them first")
    remote = base.split("/", 1)[0] if "/" in base else None
    if remote and remote in run("git", "remote").stdout.split():
        run("git", "fetch", "-q", remote)
    before = run("git", "rev-parse", "HEAD").stdout.strip()
    merged = run("git", "merge", "--no-ff", "--no-edit", base, check=False)
    if merged.returncode == 0 and run("git", "rev-parse", "HEAD").stdout.strip() == before:
        return f"update: nothing to merge: this branch already has everything of {base}"
    if merged.returncode != 0:
        files = conflicted()
        if not files:
            raise PipelineError(f"`git merge {base}` failed: {merged.stderr.strip()[:300]}")
        by_hand = [f for f in files if not is_generated(f)]
        if by_hand:
            raise PipelineError(
                f"`{base}` and this branch both changed {', '.join(by_hand)}: resolve those "
                "by hand (`git mergetool`), `git add` them, then `git merge --continue` and "
                f"`make update BASE={base}` again (or `git merge --abort`)"
            )
        run("git", "checkout", "--ours", "--", *files)  # re-locked below: either side works
        run("git", "add", "--", *files)
        run("git", "commit", "--no-edit", "-q")
    dvc("pull", "--run-cache", check=False)  # what the remote has: never recomputed
    dvc("repro")
    publish()
    if run("git", "diff", "--cached", "--quiet", check=False).returncode != 0:
        run("git", "commit", "-q", "-m", f"Re-lock after merging {base}")
    head = run("git", "rev-parse", "--short", "HEAD").stdout.strip()
    said = f"update: merged {base}, re-locked and published at {head}"
    if not push:
        return said + "; not pushed (--no-push)"
    where = push_target(remote)
    if not where:
        raise PipelineError(
            f"merged and re-locked at {head}, but this branch has no upstream and no remote "
            "to push to: `git push -u <remote> HEAD`"
        )
    run("git", "push", "-q", *where)
    target_remote, ref = where[-2], where[-1].split(":", 1)[-1]
    if remote_tip(target_remote, ref) != run("git", "rev-parse", "HEAD").stdout.strip():
        raise PipelineError(
            f"`git push {' '.join(where)}` exited 0 but {target_remote} does not hold {head} "
            f"at {ref}: push by hand and check `git ls-remote {target_remote}`"
        )
    return f"{said}, pushed to {target_remote} {ref}"


def push_target(base_remote: str | None) -> list[str]:
    """Where a plain `git push` of this branch goes, as `git push` arguments: the branch's
    remote and merge ref when it has them (an upstream set by `git push -u`, or what `gh pr
    checkout` writes for a fork's PR: the fork by URL and the PR's branch), otherwise the
    base's remote under this branch's name (a new branch). [] when there is nowhere."""
    branch = run("git", "rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    remote = run("git", "config", f"branch.{branch}.remote", check=False).stdout.strip()
    merge = run("git", "config", f"branch.{branch}.merge", check=False).stdout.strip()
    if remote and remote != "." and merge:
        return [remote, f"HEAD:{merge}"]
    if base_remote:
        return ["-u", base_remote, f"HEAD:refs/heads/{branch}"]
    return []


def remote_tip(remote: str, ref: str) -> str | None:
    """The commit `ref` names on `remote` now, asked of the remote itself."""
    listed = run("git", "ls-remote", remote, ref, check=False).stdout.split()
    return listed[0] if listed else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("publish", help="dvc push --run-cache and stage the result files")
    update_parser = commands.add_parser("update", help="merge the base branch and re-lock")
    update_parser.add_argument("--base", required=True, help="e.g. origin/main")
    update_parser.add_argument("--no-push", action="store_true", help="leave `git push` to you")
    args = parser.parse_args()
    try:
        if args.command == "publish":
            files = publish()
            edited = run("git", "diff", "--name-only").stdout.split()  # tracked, not staged
            edited += run("git", "ls-files", "--others", "--exclude-standard", "--",
                          *CODE_ROOTS).stdout.split()  # a new model's module and script
            also = (f"; also changed, not staged: {', '.join(edited)} (`git add` what made "
                    "these results)") if edited else ""
            print(f"publish: pushed to the DVC remote; staged {', '.join(files)}{also}: "
                  "now commit")
        else:
            print(update(args.base, push=not args.no_push))
    except PipelineError as error:
        sys.exit(f"{args.command}: error: {error}")


if __name__ == "__main__":
    main()
