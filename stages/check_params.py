"""check_params: validate the whole params.yaml, so a mistyped key fails the run loudly.

Each section is checked by the rules its stage's script declares (SECTION, PARAMS), found
through dvc.yaml; this stage depends on every script, so a new or changed rule re-checks.

It tracks every value of the file (`params: - params.yaml:`, unlike the real stages, which
name their keys), so any edit, including one that adds a key no stage reads, makes it run
again, while its dvc.lock entry changes only on the lines whose values changed: two branches
that edit different keys merge without a conflict. Every other stage depends on its output,
whose bytes never change: a valid edit re-runs only the stages whose keys changed, and an
invalid one stops `dvc repro <any target>` here.

It also reads dvc.lock (not a declared dependency: a check, not an input) and refuses to go
on when the lock records params that did not make a stage's outputs (sentiment.provenance).
"""

from sentiment import params, pipeline, provenance
from sentiment.io import outputs, run_stage, write_text


def main() -> None:
    params.raise_if(params.all_problems(params.load_params(), pipeline.stage_params()))
    provenance.raise_if_lock_lies()
    with outputs("check_params") as out:
        write_text(out("data/params_checked.txt"), f"{params.PARAMS_FILE}: every section valid\n")
    print(f"{params.PARAMS_FILE}: every section valid")


if __name__ == "__main__":
    run_stage(main)
