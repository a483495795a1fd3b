"""The linear models tuned on the BiLSTM's validation slice, and fitted on its training
slice for comparisons at equal training data."""

import json
import subprocess
import sys

import pandas as pd


def test_one_family_on_a_budget_with_equal_data_rows_fitted_on_the_bilstms_slice(
    reproduced, tmp_path
):
    out = tmp_path / "tuned"
    subprocess.run([sys.executable, "-m", "lab.tuning", str(reproduced), str(out),
                    "--family", "nbsvm", "--budget", "0", "--equal-data"],
                   check=True, capture_output=True, text=True)
    report = json.loads((out / "tuning.json").read_text())
    assert list(report["families"]) == ["nbsvm"]
    assert report["families"]["nbsvm"]["points"] == 8  # one n-gram order: the budget ran out
    reviews = len(pd.read_parquet(reproduced / "data/prepared/train.parquet"))
    fitted = {folder.name: json.loads((folder / "params.json").read_text())["reviews_fitted"]
              for folder in out.iterdir() if folder.is_dir()}
    assert fitted == {"nbsvm-tuned": reviews, "nbsvm-tuned-equal": int(reviews * 0.8),
                      "tfidf_lr-committed-equal": int(reviews * 0.8),
                      "nbsvm-committed-equal": int(reviews * 0.8)}
