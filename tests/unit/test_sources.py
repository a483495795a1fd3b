"""Sources resolve to a local folder plus a pin, or fail with one line naming the param."""

import pytest

from sentiment import sources
from sentiment.io import PipelineError


def test_local_folder_is_pinned_by_a_content_hash_that_follows_its_bytes(tmp_path):
    (tmp_path / "plain_text").mkdir()
    (tmp_path / "plain_text" / "train.parquet").write_bytes(b"abc")
    path, pin = sources.fetch(str(tmp_path), None, "dataset", "prepare.dataset")
    assert path == tmp_path and pin.startswith("sha256:")
    assert sources.fetch(str(tmp_path), None, "dataset", "prepare.dataset")[1] == pin
    (tmp_path / "plain_text" / "train.parquet").write_bytes(b"abd")
    assert sources.fetch(str(tmp_path), None, "dataset", "prepare.dataset")[1] != pin


def test_hidden_files_do_not_change_the_pin(tmp_path):
    (tmp_path / "a.model").write_bytes(b"x")
    pin = sources.content_hash(tmp_path)
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "lock").write_bytes(b"y")
    assert sources.content_hash(tmp_path) == pin


@pytest.mark.parametrize(
    ("source", "local"),
    [
        ("stanfordnlp/imdb", False),
        ("../shared/data/imdb", True),
        ("/data/imdb", True),
        ("data", True),
        ("a/b/c", True),
    ],
)
def test_hub_ids_are_told_from_paths(source, local):
    assert sources.is_local(source) is local


def test_missing_local_folder_names_the_param(tmp_path):
    with pytest.raises(PipelineError, match=r"^embed.vectors: no such file or directory"):
        sources.fetch(str(tmp_path / "nope"), None, "model", "embed.vectors")


def test_a_revision_with_a_local_folder_is_refused(tmp_path):
    with pytest.raises(PipelineError, match=r"^prepare.revision: 'v1' is set but prepare.dataset"):
        sources.fetch(str(tmp_path), "v1", "dataset", "prepare.dataset")


def test_offline_hub_names_the_param_and_the_fix(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PipelineError) as error:
        sources.fetch("stanfordnlp/imdb-not-cached", "0123abc", "dataset", "prepare.dataset")
    message = str(error.value)
    assert message.startswith("prepare.dataset: HF_HUB_OFFLINE=1 is set and")
    assert "set prepare.dataset to a local directory" in message
    assert "\n" not in message


def test_a_missing_folder_inside_an_existing_one_is_a_missing_folder_not_a_hub_id(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sample").mkdir()
    with pytest.raises(
        PipelineError, match=r"^prepare.dataset: no such file or directory 'sample/imdb'"
    ):
        sources.fetch("sample/imdb", None, "dataset", "prepare.dataset")


def test_queued_experiments_read_relative_sources_from_the_users_repository(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (tmp_path / "shared" / "imdb").mkdir(parents=True)
    copy = repo / ".dvc" / "tmp" / "exps" / "tmpab12cd"
    copy.mkdir(parents=True)
    monkeypatch.chdir(copy)
    assert sources.workspace_root() == repo
    assert sources.local_path("../shared/imdb") == repo / "../shared/imdb"
    path, pin = sources.fetch("../shared/imdb", None, "dataset", "prepare.dataset")
    assert path.resolve() == (tmp_path / "shared" / "imdb") and pin.startswith("sha256:")
