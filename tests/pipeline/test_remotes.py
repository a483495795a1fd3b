"""A real S3 remote (moto's server on 127.0.0.1, through dvc-s3), and the model as an artifact."""

import socket

import pytest
from helpers import dvc, run, stages_run

BUCKET = "imdb-sentiment"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_endpoint(monkeypatch):
    """An S3-compatible server on loopback with one empty bucket; credentials from the env."""
    import boto3
    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def test_s3_push_clone_pull_is_up_to_date_and_the_model_is_an_artifact(
    workspace, tmp_path, s3_endpoint
):
    dvc(workspace, "remote", "add", "-d", "s3", f"s3://{BUCKET}/dvc")
    dvc(workspace, "remote", "modify", "s3", "endpointurl", s3_endpoint)
    run(workspace, "git", "commit", "-qam", "an S3 remote (credentials come from the env)")
    assert "testing" not in (workspace / ".dvc/config").read_text()
    dvc(workspace, "push", "--run-cache")

    clone = tmp_path / "clone"
    run(tmp_path, "git", "clone", "-q", str(workspace), str(clone))
    dvc(clone, "pull", "--run-cache")
    assert (clone / "models/model.keras").read_bytes() == (
        workspace / "models/model.keras"
    ).read_bytes()
    assert "Data and pipelines are up to date" in dvc(clone, "status").stdout
    assert stages_run(dvc(clone, "repro")) == []

    # a registered version (a GTO tag, as `gto register bilstm` makes) is fetched from the
    # remote by `dvc artifacts get`, without cloning the pipeline
    run(workspace, "git", "tag", "-a", "bilstm@v0.1.0", "-m", "Registering bilstm v0.1.0")
    dvc(tmp_path, "artifacts", "get", str(workspace), "bilstm", "--out", "fetched.keras")
    assert (tmp_path / "fetched.keras").read_bytes() == (
        workspace / "models/model.keras"
    ).read_bytes()
