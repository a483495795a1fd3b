"""check_params: validate the whole params.yaml, so a mistyped key fails the run loudly.

It depends on the whole file (unlike the real stages, which depend key by key), so any
edit, including one that adds a key no stage reads, makes it run again.
"""

from sentiment import params
from sentiment.io import run_stage


def main() -> None:
    params.raise_if(params.all_problems(params.load_params()))
    print(f"{params.PARAMS_FILE}: every section valid")


if __name__ == "__main__":
    run_stage(main)
