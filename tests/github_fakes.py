"""A fake `gh` for rehearsing the workflows: it logs every call, serves `gh api` GETs from
JSON pages on disk (through the real `jq` for `--jq`, page by page for `--paginate`), and
records writes (PATCH/POST) instead of sending them."""

import json
import os
import stat
import sys
from pathlib import Path

FAKE_GH = r'''#!PYTHON
import json, os, pathlib, subprocess, sys
state = pathlib.Path(os.environ["FAKE_GH_STATE"])
args = sys.argv[1:]
with open(state / "calls.jsonl", "a") as log:
    log.write(json.dumps(args) + "\n")
if args[:1] != ["api"]:
    sys.exit(0)  # `gh auth setup-git` and the like
method, query, paginate, fields, path = "GET", None, False, {}, None
rest = iter(args[1:])
for arg in rest:
    if arg == "-X":
        method = next(rest)
    elif arg == "--jq":
        query = next(rest)
    elif arg == "--paginate":
        paginate = True
    elif arg == "-F":
        key, value = next(rest).split("=", 1)
        fields[key] = open(value[1:]).read() if value.startswith("@") else value
    else:
        path = arg
if method != "GET" or fields:
    with open(state / "writes.jsonl", "a") as writes:
        verb = "POST" if method == "GET" else method
        writes.write(json.dumps({"method": verb, "path": path, "fields": fields}) + "\n")
    print("{}")
    sys.exit(0)
key = path.split("?")[0].replace("/", "__")
pages = sorted(state.glob(key + ".*.json"))
if not pages:
    print(f"gh: Not Found (HTTP 404) {path}", file=sys.stderr)
    sys.exit(1)
for page in pages if paginate else pages[:1]:
    text = page.read_text()
    if query:
        text = subprocess.run(["jq", "-r", "-c", query], input=text, capture_output=True,
                              text=True, check=True).stdout
    sys.stdout.write(text)
'''


def install_fake_gh(folder: Path) -> dict[str, str]:
    """Put the fake `gh` first on PATH; returns the environment to run commands with."""
    bin_dir, state = folder / "bin", folder / "state"
    bin_dir.mkdir(parents=True, exist_ok=True)
    state.mkdir(exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.replace("PYTHON", sys.executable, 1))
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    path = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "FAKE_GH_STATE": str(state), "REPO": "team/imdb"}


def serve(env: dict[str, str], path: str, *pages) -> None:
    """`gh api PATH` answers with these pages (JSON values), in order."""
    state = Path(env["FAKE_GH_STATE"])
    for number, page in enumerate(pages):
        (state / f"{path.replace('/', '__')}.{number}.json").write_text(json.dumps(page))


def writes(env: dict[str, str]) -> list[dict]:
    log = Path(env["FAKE_GH_STATE"]) / "writes.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def calls(env: dict[str, str]) -> list[list[str]]:
    log = Path(env["FAKE_GH_STATE"]) / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
