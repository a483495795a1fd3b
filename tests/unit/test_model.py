"""The notebook's architecture, its parameter count, and its device placement rules."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers import tiny_recipe

from sentiment import devices, model, training


@pytest.fixture(scope="module")
def notebook_model():
    matrix = np.random.default_rng(0).normal(size=(45000, 300)).astype(np.float32)
    return model.build_model(matrix, 280, 256, 0.35, 0.3, 0.6), matrix


def test_default_config_has_the_notebooks_14_641_762_parameters(notebook_model):
    net, _ = notebook_model
    assert net.count_params() == 14_641_762


def test_layers_are_the_notebooks_in_order(notebook_model):
    net, _ = notebook_model
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == [
        "InputLayer",
        "Embedding",
        "SpatialDropout1D",
        "Bidirectional",
        "GlobalMaxPooling1D",
        "Dropout",
        "Dense",
    ]
    assert net.input_shape == (None, 280) and net.output_shape == (None, 2)


def test_embedding_starts_from_the_matrix_and_is_trainable(notebook_model):
    net, matrix = notebook_model
    embedding = net.get_layer("embedding")
    assert embedding.trainable
    np.testing.assert_array_equal(embedding.get_weights()[0], matrix)
    assert "Constant" not in str(embedding.get_config())  # the matrix is not copied into config


def test_lstm_config_stays_on_the_cudnn_path(notebook_model):
    net, _ = notebook_model
    lstm = net.get_layer("bilstm").forward_layer
    config = lstm.get_config()
    assert {k: config[k] for k in model.CUDNN_SETTINGS} == model.CUDNN_SETTINGS
    assert config["units"] == 256 and config["dropout"] == 0.3
    assert lstm.use_cudnn == "auto"
    assert not net.get_layer("embedding").mask_zero  # left padding with a mask breaks cuDNN


def test_output_is_a_probability_per_class():
    net = model.build_model(np.zeros((30, 4), np.float32), 6, 3, 0.0, 0.0, 0.0)
    probs = net.predict(np.ones((5, 6), np.int32), verbose=0)
    assert probs.shape == (5, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_mixed_precision_is_used_on_a_gpu_and_falls_back_to_float32_without_one():
    import tensorflow as tf

    expected = "mixed_float16" if tf.config.list_physical_devices("GPU") else "float32"
    try:
        assert devices.set_precision(True) == expected
        net = model.build_model(np.zeros((30, 4), np.float32), 6, 3, 0.0, 0.0, 0.0)
        assert net.get_layer("output").dtype_policy.compute_dtype == "float32"  # always
    finally:
        devices.set_precision(False)


def test_mixed_precision_keeps_the_output_layer_in_float32():
    import keras

    try:
        keras.mixed_precision.set_global_policy("mixed_float16")
        net = model.build_model(np.zeros((30, 4), np.float32), 6, 3, 0.0, 0.0, 0.0)
        assert net.get_layer("bilstm").compute_dtype == "float16"
        assert net.get_layer("output").compute_dtype == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_mirrored_strategy_over_two_devices_trains_like_one_device():
    # A fresh process: logical devices must be configured before TensorFlow starts.
    code = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf, keras
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from sentiment import devices, model
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        x = np.random.default_rng(0).integers(0, 30, (32, 6)).astype("int32")
        y = keras.utils.to_categorical(np.arange(32) % 2, 2)
        losses = {}
        for distribute in ("auto", "off"):
            keras.utils.set_random_seed(0)
            with devices.strategy_scope(distribute, cpus) as strategy:
                net = model.build_model(np.zeros((30, 4), np.float32), 6, 3, 0.0, 0.0, 0.0)
                model.compile_model(net, 0.01, 0.0)
            replicas = strategy.num_replicas_in_sync if strategy else 1
            history = net.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
            losses[distribute] = (replicas, history.history["loss"])
        print(losses)
        assert losses["auto"][0] == 2 and losses["off"][0] == 1
        np.testing.assert_allclose(losses["auto"][1], losses["off"][1], rtol=1e-4)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def test_a_non_finite_loss_fails_training_with_one_line(tmp_path):
    from sentiment.io import PipelineError

    matrix = np.full((30, 4), np.nan, dtype=np.float32)  # NaN from the first batch on
    x = np.random.default_rng(0).integers(0, 30, (32, 6)).astype("int32")
    y = np.arange(32) % 2
    recipe = tiny_recipe(units=3, spatial_dropout=0.0, dropout=0.0, dense_dropout=0.0,
                         learning_rate=0.01, weight_decay=0.0, epochs=2, validation_split=0.0)
    with pytest.raises(PipelineError, match=r"loss became nan at epoch 1, batch 1: lower"):
        training.train(x, y, matrix, recipe, str(tmp_path / "live"))


@pytest.mark.parametrize("value", ["-1", "0", "abc", "2000", "1.5", "٣"])
def test_a_thread_setting_that_tensorflow_would_abort_on_or_ignore_is_one_line(
    monkeypatch, value
):
    from sentiment.io import PipelineError

    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", value)
    with pytest.raises(PipelineError, match="TF_NUM_INTRAOP_THREADS=.* is not a whole number"):
        devices.thread_settings()


def test_thread_settings_within_bounds_are_taken_as_numbers(monkeypatch):
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "1")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    assert devices.thread_settings() == {"TF_NUM_INTEROP_THREADS": 1, "TF_NUM_INTRAOP_THREADS": 3}
