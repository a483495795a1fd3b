"""check_params: validate the whole params.yaml, so a mistyped key fails the run loudly.

It depends on the whole file (unlike the real stages, which depend key by key), so any
edit, including one that adds a key no stage reads, makes it run again. Every other stage
depends on its output, whose bytes never change: a valid edit re-runs only the stages
whose keys changed, and an invalid one stops `dvc repro <any target>` here.
"""

from sentiment import params
from sentiment.io import run_stage, write_text

CHECKED = "data/params_checked.txt"


def main() -> None:
    params.raise_if(params.all_problems(params.load_params()))
    write_text(CHECKED, f"{params.PARAMS_FILE}: every section valid\n")
    print(f"{params.PARAMS_FILE}: every section valid")


if __name__ == "__main__":
    run_stage(main)
