"""The GPU machine gets both splits in one carried file and rebuilds each exactly."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from benchmarks import gpu_recipe


def _workspace(root, split: str, matrix: np.ndarray, seed: int):
    rng = np.random.default_rng(seed)
    arrays = {
        "data/encoded/x_train.npy": rng.integers(0, len(matrix), (30, 12)),
        "data/encoded/y_train.npy": rng.integers(0, 2, 30),
        "data/encoded/x_test.npy": rng.integers(0, len(matrix), (10, 12)),
        "data/encoded/y_test.npy": rng.integers(0, 2, 10),
        "data/embedding_matrix.npy": matrix,
    }
    for path, array in arrays.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        np.save(root / path, array)
    (root / "data/params_used").mkdir(parents=True)
    for stage in ("prepare", "encode", "embed"):
        used = {"prepare.split": split} if stage == "prepare" else {f"{stage}.seed": seed}
        (root / f"data/params_used/{stage}.json").write_text(json.dumps(used))
    (root / "data/prepared").mkdir()
    pd.DataFrame({"text": [f"{split} review {i}" for i in range(10)]}).to_parquet(
        root / "data/prepared/test.parquet")
    lock = {"stages": {"embed": {"outs": [{"path": p, "md5": f"{i:032x}"}
                                          for i, p in enumerate(arrays)]}}}
    (root / "dvc.lock").write_text(yaml.safe_dump(lock))
    return arrays


def test_two_splits_share_their_common_vectors_and_unpack_bit_for_bit(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    common = rng.normal(size=(50, 8)).astype(np.float32)
    official = np.concatenate([np.zeros((1, 8), np.float32), common])
    random = np.concatenate([common[::-1], rng.normal(size=(5, 8)).astype(np.float32)])
    made = {"official": _workspace(tmp_path / "a", "official", official, 1),
            "random": _workspace(tmp_path / "b", "random", random, 2)}
    monkeypatch.chdir(tmp_path)
    gpu_recipe.pack([tmp_path / "a", tmp_path / "b"])
    assert len(gpu_recipe.unsqueeze(np.load(gpu_recipe.PACKED)["vector_rows"])) == 56

    for split, arrays in made.items():
        name, unpacked = gpu_recipe.unpack(split)
        assert name == split
        for path, array in arrays.items():
            stem = path.rsplit("/", 1)[1].removesuffix(".npy")
            np.testing.assert_array_equal(unpacked[stem], array)
        assert json.loads(str(unpacked["provenance"]))["params"]["prepare.split"] == split
        assert len(unpacked["test_ids"]) == 10

    with pytest.raises(SystemExit, match="pass --split"):
        gpu_recipe.unpack("validation")


def test_two_workspaces_of_one_split_are_refused(tmp_path, monkeypatch):
    matrix = np.ones((4, 3), np.float32)
    _workspace(tmp_path / "a", "random", matrix, 1)
    _workspace(tmp_path / "b", "random", matrix, 2)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="one per split"):
        gpu_recipe.pack([tmp_path / "a", tmp_path / "b"])
    assert not gpu_recipe.PACKED.exists()


@pytest.mark.parametrize("damage", ["flipped-labels", "bomb"])
def test_unpack_refuses_an_array_that_is_not_what_pack_recorded(tmp_path, monkeypatch, damage):
    import lzma

    _workspace(tmp_path / "a", "official", np.ones((4, 3), np.float32), 1)
    monkeypatch.chdir(tmp_path)
    gpu_recipe.pack([tmp_path / "a"])
    arrays = dict(np.load(gpu_recipe.PACKED))
    if damage == "flipped-labels":
        labels = gpu_recipe.unsqueeze(arrays["official/y_test"])
        arrays["official/y_test"] = gpu_recipe.squeeze(1 - labels)
    else:  # a few KB that claim to be a small array but expand to 16 MiB
        header = json.dumps({"dtype": "<u2", "shape": [10, 12]}).encode() + b"\n"
        arrays["official/x_test"] = np.frombuffer(header + lzma.compress(bytes(2**24)),
                                                  np.uint8)
    np.savez(gpu_recipe.PACKED, **arrays)
    with pytest.raises(SystemExit, match="not the array pack recorded|its header says"):
        gpu_recipe.unpack("official")
