"""check_params: validate the whole params.yaml, so a mistyped key fails the run loudly.

It depends on the whole file (unlike the real stages, which depend key by key), so any
edit, including one that adds a key no stage reads, makes it run again. Every other stage
depends on its output, whose bytes never change: a valid edit re-runs only the stages
whose keys changed, and an invalid one stops `dvc repro <any target>` here.
"""

from sentiment import params
from sentiment.io import outputs, run_stage, write_text


def main() -> None:
    params.raise_if(params.all_problems(params.load_params()))
    with outputs("check_params") as out:
        write_text(out("data/params_checked.txt"), f"{params.PARAMS_FILE}: every section valid\n")
    print(f"{params.PARAMS_FILE}: every section valid")


if __name__ == "__main__":
    run_stage(main)
