"""prepare: load the labelled reviews, split them, and describe the data."""

from sentiment import data, params, sources
from sentiment.io import outputs, run_stage, save_frame, write_json

SECTION = "prepare"  # its params.yaml section: the keys below, each checked by its rule
PARAMS = {
    "dataset": params.text(),
    "revision": params.text(nullable=True),
    "split": params.choice("random", "official"),
    "test_size": params.fraction(low_open=True),
    "seed": params.seed(),
    "max_samples": params.integer(4, nullable=True),
    "dedupe": params.flag(),
    "unlabelled": params.flag(),
}


def main() -> None:
    p = params.read_section(SECTION, PARAMS)
    path, pin = sources.fetch(p["dataset"], p["revision"], "dataset", "prepare.dataset")
    splits, dropped = data.load_and_split(
        path, p["split"], p["test_size"], p["seed"], p["max_samples"], p["dedupe"]
    )
    data.check_enough_training(splits["train"])
    stats = data.describe(splits, dropped)
    stats["source"] = {"dataset": p["dataset"], "revision": pin}
    unlabelled = (
        data.load_unlabelled(path, p["max_samples"], p["seed"])
        if p["unlabelled"]
        else data.no_reviews()
    )
    stats["reviews"]["unlabelled"] = len(unlabelled)
    with outputs("prepare") as out:
        for name, frame in {**splits, "unlabelled": unlabelled}.items():
            save_frame(out(f"data/prepared/{name}.parquet"), frame)
        write_json(out("metrics/data.json"), stats)
        write_json(out(params.used_path("prepare")), params.used())
    print(f"prepare: {stats['reviews']} reviews from {p['dataset']}@{pin}")


if __name__ == "__main__":
    run_stage(main)
