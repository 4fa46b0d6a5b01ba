"""Tests for course_utils.architectures (lesson 03): layers, models, counts, diagrams."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from course_utils import architectures as arch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def conv_params(kernel: int, in_maps: int, filters: int, bias: bool = True) -> int:
    return kernel * kernel * in_maps * filters + (filters if bias else 0)


# --- counting helpers


def test_count_params_splits_batch_norm_statistics() -> None:
    bn = keras.layers.BatchNormalization()
    bn.build((None, 4, 4, 64))
    assert arch.count_params(bn) == arch.ParamCounts(256, 128, 128)
    assert str(arch.ParamCounts(1234, 1000, 234)) == (
        "total params 1,234; trainable 1,000; non-trainable 234"
    )


def test_count_params_agrees_with_keras() -> None:
    model = arch.fashion_cnn()
    assert arch.count_params(model).total == model.count_params()


def test_count_params_of_unbuilt_layer_fails_clearly() -> None:
    with pytest.raises(ValueError, match="not built"):
        arch.count_params(keras.layers.Dense(3))


def test_layer_table_needs_symbolic_outputs() -> None:
    class Tiny(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="keras.Input"):
        arch.layer_table(model)


def test_format_layer_table_can_number_layers() -> None:
    text = arch.format_layer_table(arch.lenet5(), show_names=False)
    lines = text.splitlines()
    assert lines[0].split() == ["#", "type", "output", "shape", "params"]
    assert lines[1].split()[:2] == ["1", "Conv2D"]
    assert "C1" not in text
    assert lines[-1] == "total params 61,750; trainable 61,750; non-trainable 0"


# --- Fashion-MNIST CNN


def test_fashion_cnn_follows_the_syllabus() -> None:
    model = arch.fashion_cnn()
    rows = arch.layer_table(model)
    kinds = [kind for _, kind, _, _ in rows]
    assert kinds == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dropout",
        "Dense",
        "Dropout",
        "Dense",
    ]
    shapes = {name: shape for name, _, shape, _ in rows}
    assert shapes["conv1"] == (None, 28, 28, 64)
    assert shapes["pool3"] == (None, 3, 3, 256)
    assert shapes["output"] == (None, 10)
    params = {name: p for name, _, _, p in rows}
    assert params["conv1"] == conv_params(7, 1, 64)
    assert params["conv3b"] == conv_params(3, 256, 256)
    assert params["dense1"] == 3 * 3 * 256 * 128 + 128
    assert arch.count_params(model) == arch.ParamCounts(1_413_834, 1_413_834, 0)
    assert model.get_layer("dropout1").rate == 0.5


# --- LeNet-5

LENET5_TABLE = [  # name, output shape, parameters
    ("C1", (None, 28, 28, 6), 156),
    ("S2", (None, 14, 14, 6), 12),
    ("C3", (None, 10, 10, 16), 2_416),
    ("S4", (None, 5, 5, 16), 32),
    ("C5", (None, 1, 1, 120), 48_120),
    ("flatten", (None, 120), 0),
    ("F6", (None, 84), 10_164),
    ("Out", (None, 10), 850),
]


def test_lenet5_layer_by_layer() -> None:
    rows = [(name, shape, params) for name, _, shape, params in arch.layer_table(arch.lenet5())]
    assert rows == LENET5_TABLE
    assert sum(p for *_, p in LENET5_TABLE) == 61_750


def test_lenet5_conv_counts_follow_the_formula() -> None:
    params = {name: p for name, _, _, p in arch.layer_table(arch.lenet5())}
    assert params["C1"] == conv_params(5, 1, 6)
    assert params["C3"] == conv_params(5, 6, 16)
    assert params["C5"] == conv_params(5, 16, 120)
    assert params["S2"] == 2 * 6 and params["S4"] == 2 * 16  # one weight + one bias per map


def test_lenet5_uses_tanh_and_softmax() -> None:
    model = arch.lenet5(num_classes=7)
    for name in ("C1", "C3", "C5", "F6"):
        assert model.get_layer(name).activation.__name__ == "tanh"
    assert model.get_layer("Out").activation.__name__ == "softmax"
    assert model.output_shape == (None, 7)


def test_subsampling_matches_keras_average_pooling(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2, 6, 6, 3)).astype("float32")
    plain = arch.Subsampling(2, activation="linear")
    expected = keras.layers.AveragePooling2D(2)(x)
    np.testing.assert_allclose(plain(x), expected, rtol=1e-6)


def test_subsampling_weight_bias_and_tanh(rng: np.random.Generator) -> None:
    x = rng.normal(size=(1, 4, 4, 2)).astype("float32")
    layer = arch.Subsampling(2)
    layer.build(x.shape)
    layer.set_weights([np.array([2.0, -1.0], "float32"), np.array([0.5, 0.0], "float32")])
    mean = x.reshape(1, 2, 2, 2, 2, 2).mean(axis=(2, 4))  # 2x2 blocks
    expected = np.tanh(mean * np.array([2.0, -1.0]) + np.array([0.5, 0.0]))
    np.testing.assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-6)


def test_subsampling_needs_known_channels() -> None:
    with pytest.raises(ValueError, match="channels"):
        arch.Subsampling().build((None, 4, 4, None))


# --- ResNet

RESNET34_UNIT_PARAMS = (
    [74_240] * 3
    + [230_912]
    + [295_936] * 3
    + [920_576]
    + [1_181_696] * 5
    + [3_676_160]
    + [4_722_688] * 2
)


@pytest.fixture(scope="module")
def resnet34_model() -> keras.Model:
    return arch.resnet34()


@pytest.mark.slow
def test_resnet34_exact_parameter_counts(resnet34_model: keras.Model) -> None:
    counts = arch.count_params(resnet34_model)
    assert counts.total == 21_306_826
    assert counts.trainable == 21_289_802
    assert counts.non_trainable == 17_024
    assert str(counts) == ("total params 21,306,826; trainable 21,289,802; non-trainable 17,024")


@pytest.mark.slow
def test_resnet34_units_shapes_and_counts(resnet34_model: keras.Model) -> None:
    rows = arch.layer_table(resnet34_model)
    units = [r for r in rows if r[1] == "ResidualUnit"]
    assert len(units) == 16 == len(arch.RESNET34_UNITS)
    assert [p for *_, p in units] == RESNET34_UNIT_PARAMS
    assert units[0][2] == (None, 56, 56, 64)
    assert units[3][2] == (None, 28, 28, 128)
    assert units[7][2] == (None, 14, 14, 256)
    assert units[-1][2] == (None, 7, 7, 512)
    assert rows[0][:3] == ("stem_conv", "Conv2D", (None, 112, 112, 64))
    assert resnet34_model.output_shape == (None, 10)
    strides = [resnet34_model.get_layer(name).strides for name, *_ in units]
    assert strides == [1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1]


def test_resnet_rejects_no_units() -> None:
    with pytest.raises(ValueError, match="at least one"):
        arch.resnet([])


@pytest.mark.parametrize("bad", [dict(filters=0), dict(filters=8, strides=0)])
def test_residual_unit_rejects_bad_arguments(bad: dict) -> None:
    with pytest.raises(ValueError, match="positive"):
        arch.ResidualUnit(**bad)


def test_residual_unit_skip_path_only_when_strided() -> None:
    assert arch.ResidualUnit(8).skip_layers == []
    kinds = [type(layer).__name__ for layer in arch.ResidualUnit(8, strides=2).skip_layers]
    assert kinds == ["Conv2D", "BatchNormalization"]


def _library_residual_unit(unit: arch.ResidualUnit, in_shape: tuple[int, ...]) -> keras.Model:
    """The same computation from stock Keras layers, with the unit's weights copied in."""
    inputs = keras.Input(shape=in_shape)
    main_layers = [
        keras.layers.Conv2D(unit.filters, 3, strides=unit.strides, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.Conv2D(unit.filters, 3, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
    ]
    main = inputs
    for layer in main_layers:
        main = layer(main)
    skip, skip_layers = inputs, []
    if unit.strides > 1:
        skip_layers = [
            keras.layers.Conv2D(unit.filters, 1, strides=unit.strides, use_bias=False),
            keras.layers.BatchNormalization(),
        ]
        for layer in skip_layers:
            skip = layer(skip)
    outputs = keras.layers.ReLU()(keras.layers.Add()([main, skip]))
    for ours, theirs in zip(
        unit.main_layers + unit.skip_layers, main_layers + skip_layers, strict=True
    ):
        theirs.set_weights(ours.get_weights())
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("strides", [1, 2])
def test_residual_unit_matches_stock_layers(strides: int, rng: np.random.Generator) -> None:
    in_maps = 8 if strides == 1 else 4
    x = rng.normal(size=(2, 6, 6, in_maps)).astype("float32")
    unit = arch.ResidualUnit(8, strides=strides)
    unit(x)
    # Give batch norm non-trivial statistics so that inference mode is really tested.
    for layer in unit.main_layers + unit.skip_layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 2, n),
                    rng.normal(size=n),
                    rng.normal(size=n),
                    rng.uniform(0.5, 2, n),
                ]
            )
    reference = _library_residual_unit(unit, x.shape[1:])
    np.testing.assert_allclose(
        unit(x, training=False), reference(x, training=False), rtol=1e-4, atol=1e-5
    )
    expected_shape = (2, 6 // strides, 6 // strides, 8)
    assert tuple(unit(x).shape) == expected_shape
    assert tuple(unit.compute_output_shape(x.shape)) == expected_shape


@pytest.mark.parametrize(("strides", "expected"), [(1, 1_216), (2, 3_776)])
def test_residual_unit_build_creates_every_weight(strides: int, expected: int) -> None:
    unit = arch.ResidualUnit(16 if strides == 2 else 8, strides=strides)
    unit.build((None, 8, 8, 8))  # no call: a reloaded model relies on build() alone
    assert all(layer.built for layer in unit.main_layers + unit.skip_layers)
    n_bn = 3 if strides == 2 else 2
    assert arch.count_params(unit).non_trainable == n_bn * 2 * unit.filters
    assert arch.count_params(unit).total == (
        expected
        if strides == 1
        else conv_params(3, 8, 16, False)
        + conv_params(3, 16, 16, False)
        + conv_params(1, 8, 16, False)
        + 3 * 4 * 16
    )


def test_residual_unit_is_identity_plus_relu_when_main_path_is_zero(
    rng: np.random.Generator,
) -> None:
    x = rng.normal(size=(1, 5, 5, 4)).astype("float32")
    unit = arch.ResidualUnit(4)
    unit(x)
    unit.main_layers[-1].set_weights([np.zeros(4), np.zeros(4), np.zeros(4), np.ones(4)])
    np.testing.assert_allclose(unit(x, training=False), np.maximum(x, 0), atol=1e-6)


# --- Inception module and SE block


def test_inception_module_shapes_and_params() -> None:
    x = keras.Input(shape=(28, 28, 192))
    module = arch.InceptionModule(64, 96, 128, 16, 32, 32)  # GoogLeNet's "3a"
    out = module(x)
    assert tuple(out.shape) == (None, 28, 28, 256)
    assert [tuple(b.shape) for b in module.branch_outputs(x)] == [
        (None, 28, 28, 64),
        (None, 28, 28, 128),
        (None, 28, 28, 32),
        (None, 28, 28, 32),
    ]
    expected = (
        conv_params(1, 192, 64)
        + conv_params(1, 192, 96)
        + conv_params(3, 96, 128)
        + conv_params(1, 192, 16)
        + conv_params(5, 16, 32)
        + conv_params(1, 192, 32)
    )
    assert arch.count_params(module).total == expected == 163_696
    assert module.compute_output_shape((None, 28, 28, 192)) == (None, 28, 28, 256)


def test_inception_module_build_creates_every_weight() -> None:
    module = arch.InceptionModule(2, 3, 4, 5, 6, 7)
    module.build((None, 8, 8, 3))
    assert arch.count_params(module).total == (
        conv_params(1, 3, 2)
        + conv_params(1, 3, 3)
        + conv_params(3, 3, 4)
        + conv_params(1, 3, 5)
        + conv_params(5, 5, 6)
        + conv_params(1, 3, 7)
    )


def test_inception_module_rejects_empty_branch() -> None:
    with pytest.raises(ValueError, match="at least one filter"):
        arch.InceptionModule(8, 0, 8, 4, 4, 4)


def test_se_block_shapes_params_and_rescaling(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2, 5, 5, 256)).astype("float32")
    block = arch.SEBlock(ratio=16)
    y = block(x)
    assert y.shape == x.shape
    assert block.squeeze_units == 16
    assert arch.count_params(block).total == (256 * 16 + 16) + (16 * 256 + 256) == 8_464
    scores = np.asarray(block.scores(x))
    assert scores.shape == (2, 1, 1, 256)
    assert np.all((scores > 0) & (scores < 1))
    np.testing.assert_allclose(y, x * scores, rtol=1e-5)
    # the same computation from stock layers
    pooled = x.mean(axis=(1, 2))
    w1, b1, w2, b2 = block.get_weights()
    hidden = np.maximum(pooled @ w1 + b1, 0)
    expected = 1 / (1 + np.exp(-(hidden @ w2 + b2)))
    np.testing.assert_allclose(scores[:, 0, 0], expected, rtol=1e-4, atol=1e-6)


def test_se_block_keeps_at_least_one_unit_and_validates() -> None:
    block = arch.SEBlock(ratio=16)
    block.build((None, 4, 4, 8))
    assert block.squeeze_units == 1
    with pytest.raises(ValueError, match="ratio"):
        arch.SEBlock(ratio=0)
    with pytest.raises(ValueError, match="channels"):
        arch.SEBlock().build((None, 4, 4, None))


# --- serialisation


@pytest.mark.parametrize(
    "layer",
    [
        arch.Subsampling(3, activation="relu"),
        arch.ResidualUnit(16, strides=2, activation="elu"),
        arch.InceptionModule(1, 2, 3, 4, 5, 6),
        arch.SEBlock(ratio=4),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_layers_round_trip_through_config(layer: keras.layers.Layer) -> None:
    assert keras.saving.get_registered_name(type(layer)) == f"course_utils>{type(layer).__name__}"
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(revived) is type(layer)
    assert revived.get_config() == config


def _all_custom_layers_model() -> keras.Model:
    inputs = keras.Input(shape=(16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    x = arch.Subsampling(2)(x)
    x = arch.ResidualUnit(8)(x)
    x = arch.ResidualUnit(16, strides=2)(x)
    x = arch.InceptionModule(4, 4, 8, 2, 4, 4)(x)
    x = arch.SEBlock(ratio=4)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize(
    "build",
    [
        _all_custom_layers_model,
        arch.lenet5,
        lambda: arch.resnet([8, 8, 16], input_shape=(32, 32, 3), num_classes=4, stem_filters=8),
    ],
    ids=["custom-layers", "lenet5", "tiny-resnet"],
)
def test_saved_keras_file_reloads_with_identical_predictions(
    build, tmp_path: Path, rng: np.random.Generator
) -> None:
    model = build()
    shape = (8, *model.input_shape[1:])
    x = rng.uniform(size=shape).astype("float32")
    y = rng.integers(0, model.output_shape[-1], size=8)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)  # moves weights and BN statistics
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)  # no custom_objects: the layers are registered
    np.testing.assert_array_equal(model.predict(x, verbose=0), reloaded.predict(x, verbose=0))
    assert arch.count_params(reloaded) == arch.count_params(model)


# --- diagrams


def test_graphviz_available_reports_missing_pydot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arch.importlib.util, "find_spec", lambda name: None)
    ok, why = arch.graphviz_available()
    assert not ok and "pydot" in why


def test_graphviz_available_reports_missing_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arch.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(arch.shutil, "which", lambda name: None)
    ok, why = arch.graphviz_available()
    assert not ok and "Graphviz" in why
    monkeypatch.setattr(arch.shutil, "which", lambda name: "/usr/bin/dot")
    assert arch.graphviz_available() == (True, "")


def test_plot_architecture_says_why_instead_of_failing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(arch, "graphviz_available", lambda: (False, "pydot is missing"))
    assert arch.plot_architecture(arch.lenet5(), tmp_path / "a.png") is None
    assert "No diagram: pydot is missing" in capsys.readouterr().out
    assert not (tmp_path / "a.png").exists()


@pytest.mark.parametrize("error", [ImportError("no pydot"), OSError("dot crashed")])
def test_plot_architecture_catches_plot_model_errors(
    error: Exception,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(arch, "graphviz_available", lambda: (True, ""))
    monkeypatch.setattr(keras.utils, "plot_model", broken)
    assert arch.plot_architecture(arch.lenet5(), tmp_path / "a.png") is None
    assert type(error).__name__ in capsys.readouterr().out


def test_plot_architecture_returns_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = {}

    def fake_plot_model(model, to_file, **kwargs):
        seen.update(kwargs)
        Path(to_file).write_bytes(b"png")

    monkeypatch.setattr(arch, "graphviz_available", lambda: (True, ""))
    monkeypatch.setattr(keras.utils, "plot_model", fake_plot_model)
    target = tmp_path / "diagrams" / "lenet5.png"
    assert arch.plot_architecture(arch.lenet5(), target, dpi=50) == target
    assert seen == {"show_shapes": True, "show_layer_names": True, "dpi": 50}

    monkeypatch.setattr(keras.utils, "plot_model", lambda *a, **k: None)  # IPython path
    assert arch.plot_architecture(arch.lenet5(), tmp_path / "none.png") is None
    assert "did not write" in capsys.readouterr().out


# --- the notebook's written-out layers against the module's tested ones

NOTEBOOK = ROOT / "notebooks" / "03_cnn_architectures.ipynb"


@pytest.fixture(scope="module")
def notebook_layers() -> dict:
    """The classes lesson 03 writes out, defined by executing exactly those notebook cells."""
    import nbformat

    scope: dict = {"keras": keras, "layers": keras.layers, "np": np}
    nb = nbformat.read(NOTEBOOK, as_version=4)
    wanted = ("class InceptionModule(", "class SEBlock(", "class ResidualUnit(")
    cells = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith(wanted)]
    assert len(cells) == 3, "lesson 03 should write out InceptionModule, SEBlock and ResidualUnit"
    for source in cells:
        exec(source, scope)  # the repository's own notebook
    return scope


def _same_output(ours: keras.layers.Layer, theirs: keras.layers.Layer, shape: tuple) -> None:
    x = np.random.default_rng(1).normal(size=(2, *shape)).astype("float32")
    ours(x)
    theirs(x)
    assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
    rng = np.random.default_rng(2)
    values = [rng.normal(scale=0.2, size=w.shape).astype("float32") for w in theirs.weights]
    values = [  # batch norm variances must stay positive
        np.abs(v) + 0.5 if "variance" in w.path else v
        for v, w in zip(values, theirs.weights, strict=True)
    ]
    ours.set_weights(values)
    theirs.set_weights(values)
    for training in (False, True):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(ours(x, training=training)),
            keras.ops.convert_to_numpy(theirs(x, training=training)),
            rtol=1e-5,
            atol=1e-5,
        )


def test_notebook_inception_module_equals_the_module_s(notebook_layers: dict) -> None:
    args = (8, 6, 8, 2, 4, 4)
    _same_output(notebook_layers["InceptionModule"](*args), arch.InceptionModule(*args), (7, 7, 5))


def test_notebook_se_block_equals_the_module_s(notebook_layers: dict) -> None:
    _same_output(notebook_layers["SEBlock"](ratio=4), arch.SEBlock(ratio=4), (5, 5, 16))


@pytest.mark.parametrize("strides", [1, 2])
def test_notebook_residual_unit_equals_the_module_s(notebook_layers: dict, strides: int) -> None:
    _same_output(
        notebook_layers["ResidualUnit"](8, strides=strides),
        arch.ResidualUnit(8, strides=strides),
        (6, 6, 4 if strides == 2 else 8),
    )


# --- block diagrams without Graphviz


@pytest.mark.parametrize(
    ("block", "shape", "kinds"),
    [
        (
            arch.SEBlock(ratio=4),
            (5, 5, 8),
            ["GlobalAveragePooling2D", "Dense", "Dense", "Multiply"],
        ),
        (arch.ResidualUnit(4), (6, 6, 4), ["Conv2D", "BatchNormalization", "Activation"]),
        (arch.InceptionModule(2, 2, 2, 2, 2, 2), (6, 6, 3), ["Conv2D", "MaxPooling2D"]),
    ],
)
def test_block_graph_reuses_the_block_s_layers(block, shape, kinds) -> None:
    graph = arch.block_graph(block, shape)
    names = [type(layer).__name__ for layer in graph.layers]
    assert all(kind in names for kind in kinds)
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(np.asarray(graph(x)), np.asarray(block(x)), rtol=1e-6)


def test_block_graph_refuses_other_layers() -> None:
    with pytest.raises(TypeError, match="keras.Model"):
        arch.block_graph(keras.layers.Dense(3), (4,))


def test_draw_graph_draws_one_box_per_layer_and_bends_the_skip_path() -> None:
    import matplotlib.pyplot as plt

    graph = arch.block_graph(arch.ResidualUnit(4), (6, 6, 4))
    fig = arch.draw_graph(graph, title="unit")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts if t.get_text()]
    assert len(labels) == len(graph.layers)
    assert labels[0] == "Input\n6x6x4" and any(label.startswith("Add") for label in labels)
    arrows = [t for t in ax.texts if not t.get_text()]  # annotate() arrows have no text
    assert len(arrows) == len(graph.layers)  # one edge into every layer but the input, + skip
    plt.close(fig)


def test_compact_fashion_cnn_is_cheaper_than_the_book_s() -> None:
    compact, book = arch.compact_fashion_cnn(), arch.fashion_cnn()
    kinds = [kind for _, kind, _, _ in arch.layer_table(compact)]
    assert kinds.count("BatchNormalization") == 3 and kinds.count("Conv2D") == 3
    assert arch.count_params(compact).total < arch.count_params(book).total / 5
    assert set(arch.FASHION_MODELS) == {"compact", "book"}
