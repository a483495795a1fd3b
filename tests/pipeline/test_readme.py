"""The README's set-up and loop work as written in a fresh shell."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def fresh_shell(script: str, cwd: Path) -> subprocess.CompletedProcess:
    """bash with a PATH that has no virtualenv on it, as a new terminal has."""
    path = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(sys.prefix)
    )
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env={**os.environ, "PATH": path},
        capture_output=True, text=True,
    )


def test_after_the_readmes_activation_dvc_and_sentiment_predict_are_found(reproduced):
    assert "source .venv/bin/activate" in README
    activate = f"source {sys.prefix}/bin/activate"  # the suite's virtualenv is `.venv/`
    result = fresh_shell(
        f"{activate} && dvc status && sentiment-predict 'a superb film'", reproduced
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Data and pipelines are up to date" in result.stdout
    assert "a superb film" in result.stdout


def test_every_make_target_the_readme_names_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):.*## ", (ROOT / "Makefile").read_text(), re.M))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", README))
    named |= set(re.findall(r"^make ([a-z][a-z-]*)", README, re.M))
    assert named and named <= targets, named - targets
