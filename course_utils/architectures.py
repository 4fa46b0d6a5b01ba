"""CNN architectures built from scratch for lesson 03, as serialisable Keras 3 layers and models.

Builders: :func:`fashion_cnn` (the lesson's Fashion-MNIST CNN), :func:`lenet5`
(LeCun et al., 1998, with its trainable :class:`Subsampling` layers),
:class:`ResidualUnit` and :func:`resnet34`, :class:`InceptionModule`
(GoogLeNet) and :class:`SEBlock` (SENet). Every custom layer has a
``get_config`` and is registered under the package name ``course_utils``, so
a model saved as ``.keras`` loads back without ``custom_objects``::

    >>> model = resnet34()
    >>> count_params(model).total
    21306826

Small helpers print what a lesson wants to show: :func:`count_params`
(total / trainable / non-trainable), :func:`layer_table` (name, type, output
shape and parameters per layer) and :func:`plot_architecture` (a diagram
when pydot and Graphviz are installed, a clear message when they are not).
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

PACKAGE = "course_utils"

#: Residual units of ResNet-34: filters of each unit, in order (3 + 4 + 6 + 3 = 16 units).
RESNET34_UNITS: tuple[int, ...] = (64,) * 3 + (128,) * 4 + (256,) * 6 + (512,) * 3


# --- counting


@dataclass(frozen=True)
class ParamCounts:
    """Parameter counts of a model or layer, as ``model.summary()`` reports them."""

    total: int
    trainable: int
    non_trainable: int

    def __str__(self) -> str:
        return (
            f"total params {self.total:,}; trainable {self.trainable:,}; "
            f"non-trainable {self.non_trainable:,}"
        )


def _size(weights: Sequence[Any]) -> int:
    seen: dict[int, int] = {}
    for w in weights:  # count each variable once, even if it is shared
        seen[id(w)] = int(np.prod(w.shape))
    return sum(seen.values())


def count_params(model: keras.layers.Layer) -> ParamCounts:
    """Total, trainable and non-trainable parameters of a built layer or model.

    Non-trainable ones are e.g. batch norm's moving mean and variance.

    >>> bn = keras.layers.BatchNormalization()
    >>> bn.build((None, 4, 4, 64))
    >>> count_params(bn)
    ParamCounts(total=256, trainable=128, non_trainable=128)
    """
    if not model.built:
        raise ValueError(
            f"{model.name!r} is not built yet, so it has no weights to count: give the "
            "model an Input or call it on some data first."
        )
    trainable = _size(model.trainable_weights)
    non_trainable = _size(model.non_trainable_weights)
    return ParamCounts(trainable + non_trainable, trainable, non_trainable)


def layer_table(model: keras.Model) -> list[tuple[str, str, tuple[Any, ...], int]]:
    """One row per top-level layer: ``(name, class name, output shape, parameters)``.

    The model must have been built on an ``Input`` (Sequential or functional).

    >>> rows = layer_table(lenet5())
    >>> rows[0]
    ('C1', 'Conv2D', (None, 28, 28, 6), 156)
    """
    rows = []
    for layer in model.layers:
        try:
            shape = tuple(layer.output.shape)
        except (AttributeError, ValueError) as err:
            raise ValueError(
                f"layer {layer.name!r} has no symbolic output: build the model on a "
                "keras.Input so every layer knows its output shape"
            ) from err
        rows.append((layer.name, type(layer).__name__, shape, count_params(layer).total))
    return rows


def format_layer_table(model: keras.Model, show_names: bool = True) -> str:
    """:func:`layer_table` as aligned text, ending with the :class:`ParamCounts` line.

    ``show_names=False`` numbers the layers instead: automatic names such as
    ``conv2d_7`` depend on how many layers were created before.

    >>> print(format_layer_table(lenet5()).splitlines()[1])
    C1       Conv2D       (None, 28, 28, 6)      156
    """
    rows = [
        (name if show_names else str(i), kind, str(shape), f"{params:,}")
        for i, (name, kind, shape, params) in enumerate(layer_table(model), start=1)
    ]
    header = ("layer" if show_names else "#", "type", "output shape", "params")
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(4)]
    lines = [
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>{widths[3]}}"
        for r in [header, *rows]
    ]
    lines.append(str(count_params(model)))
    return "\n".join(lines)


# --- Fashion-MNIST CNN


def fashion_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10, dropout: float = 0.5
) -> keras.Sequential:
    """The lesson's Fashion-MNIST CNN: conv/pool blocks that get deeper as the image shrinks.

    64 maps of 7x7 first, then two 3x3 convs of 128 and two of 256, each pair
    followed by 2x2 max pooling; then Dense 128 -> Dropout -> Dense 64 ->
    Dropout -> softmax. Not compiled.

    >>> fashion_cnn().output_shape
    (None, 10)
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(64, 7, padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(128, 3, padding="same", activation="relu", name="conv2a"),
            layers.Conv2D(128, 3, padding="same", activation="relu", name="conv2b"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Conv2D(256, 3, padding="same", activation="relu", name="conv3a"),
            layers.Conv2D(256, 3, padding="same", activation="relu", name="conv3b"),
            layers.MaxPooling2D(2, name="pool3"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense1"),
            layers.Dropout(dropout, name="dropout1"),
            layers.Dense(64, activation="relu", name="dense2"),
            layers.Dropout(dropout, name="dropout2"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="fashion_cnn",
    )


def compact_fashion_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10, dropout: float = 0.4
) -> keras.Sequential:
    """The lesson's CPU-sized Fashion-MNIST CNN: three conv/BN/ReLU/pool stages, 32-64-128 maps.

    About a tenth of :func:`fashion_cnn`'s multiply-adds per image; batch
    normalisation after each 3x3 convolution (which then needs no bias) lets it
    train with a larger learning rate in a few epochs. Not compiled.

    >>> count_params(compact_fashion_cnn()).total
    242218
    """
    stages = []
    for i, filters in enumerate((32, 64, 128), start=1):
        stages += [
            layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"conv{i}"),
            layers.BatchNormalization(name=f"bn{i}"),
            layers.Activation("relu", name=f"relu{i}"),
            layers.MaxPooling2D(2, name=f"pool{i}"),
        ]
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            *stages,
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dropout(dropout, name="dropout"),
            layers.Dense(num_classes, activation="softmax", name="output"),
        ],
        name="compact_cnn",
    )


#: Lesson 03's Fashion-MNIST models by the name its ``trained_model`` knob uses.
FASHION_MODELS = {"compact": compact_fashion_cnn, "book": fashion_cnn}


# --- LeNet-5


@keras.saving.register_keras_serializable(package=PACKAGE)
class Subsampling(layers.Layer):
    """LeNet-5's S2/S4 layer: average pooling, times a trainable weight, plus a bias, then tanh.

    Each feature map has its own weight and bias, so a layer over ``c`` maps
    has ``2 * c`` parameters (today's ``AveragePooling2D`` has none).

    >>> tuple(Subsampling()(np.ones((1, 4, 4, 3), "float32")).shape)
    (1, 2, 2, 3)
    """

    def __init__(self, pool_size: int = 2, activation: str = "tanh", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.activation = keras.activations.get(activation)
        self.pool = layers.AveragePooling2D(self.pool_size)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("Subsampling needs a known number of channels (last axis)")
        self.coefficient = self.add_weight(
            shape=(channels,), initializer="ones", name="coefficient"
        )
        self.bias = self.add_weight(shape=(channels,), initializer="zeros", name="bias")

    def call(self, inputs: Any) -> Any:
        return self.activation(self.pool(inputs) * self.coefficient + self.bias)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return self.pool.compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "activation": keras.activations.serialize(self.activation),
        }


def lenet5(
    input_shape: tuple[int, int, int] = (32, 32, 1), num_classes: int = 10
) -> keras.Sequential:
    """LeNet-5 from its table: C1-S2-C3-S4-C5-F6-Out, tanh everywhere, 32x32 input.

    Two simplifications, as in most modern versions: C3 connects to all six
    S2 maps (the 1998 paper used a sparse connection table), and the output
    is a softmax instead of radial basis functions. Not compiled.

    >>> [name for name, *_ in layer_table(lenet5())]
    ['C1', 'S2', 'C3', 'S4', 'C5', 'flatten', 'F6', 'Out']
    """
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(6, 5, activation="tanh", name="C1"),
            Subsampling(2, name="S2"),
            layers.Conv2D(16, 5, activation="tanh", name="C3"),
            Subsampling(2, name="S4"),
            layers.Conv2D(120, 5, activation="tanh", name="C5"),
            layers.Flatten(name="flatten"),
            layers.Dense(84, activation="tanh", name="F6"),
            layers.Dense(num_classes, activation="softmax", name="Out"),
        ],
        name="lenet5",
    )


# --- ResNet


@keras.saving.register_keras_serializable(package=PACKAGE)
class ResidualUnit(layers.Layer):
    """Two 3x3 convs with batch norm, added to the input (the skip connection), then ReLU.

    When ``strides > 1`` the skip path gets a strided 1x1 conv + batch norm so
    that its shape matches the main path's. The sub-layers live in plain
    Python lists, which Keras 3 tracks (their weights are the unit's weights).

    >>> tuple(ResidualUnit(8, strides=2)(np.zeros((1, 6, 6, 4), "float32")).shape)
    (1, 3, 3, 8)
    """

    def __init__(
        self, filters: int, strides: int = 1, activation: str = "relu", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if filters < 1 or strides < 1:
            raise ValueError(f"filters and strides must be positive, got {filters}, {strides}")
        self.filters = int(filters)
        self.strides = int(strides)
        self.activation = keras.activations.get(activation)
        self.main_layers = [
            layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.Activation(self.activation),
            layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(),
        ]
        self.skip_layers = []
        if strides > 1:
            self.skip_layers = [
                layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False),
                layers.BatchNormalization(),
            ]

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        # Build the sub-layers here (not lazily in call) so that a reloaded model
        # has all its weights in place before Keras copies the saved values in.
        for path in (self.main_layers, self.skip_layers):
            shape = input_shape
            for layer in path:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        main = inputs
        for layer in self.main_layers:
            main = layer(main, training=training)
        skip = inputs
        for layer in self.skip_layers:
            skip = layer(skip, training=training)
        return self.activation(main + skip)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        shape = input_shape
        for layer in self.main_layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "strides": self.strides,
            "activation": keras.activations.serialize(self.activation),
        }


def resnet(
    units: Sequence[int],
    input_shape: tuple[int, int, int] = (224, 224, 3),
    num_classes: int = 10,
    stem_filters: int = 64,
    name: str = "resnet",
) -> keras.Sequential:
    """A plain ResNet: stem, one :class:`ResidualUnit` per entry of ``units``, GAP, softmax.

    A unit uses stride 2 whenever its filter count differs from the previous
    one (the image halves as the maps double). Not compiled.

    >>> resnet([8, 16], input_shape=(32, 32, 3), stem_filters=8).output_shape
    (None, 10)
    """
    if not units:
        raise ValueError("a ResNet needs at least one residual unit")
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(
                stem_filters, 7, strides=2, padding="same", use_bias=False, name="stem_conv"
            ),
            layers.BatchNormalization(name="stem_bn"),
            layers.Activation("relu", name="stem_relu"),
            layers.MaxPooling2D(pool_size=3, strides=2, padding="same", name="stem_pool"),
        ],
        name=name,
    )
    previous = stem_filters
    for i, filters in enumerate(units, start=1):
        strides = 1 if filters == previous else 2
        model.add(ResidualUnit(filters, strides=strides, name=f"unit{i:02d}_{filters}"))
        previous = filters
    model.add(layers.GlobalAveragePooling2D(name="gap"))
    model.add(layers.Dense(num_classes, activation="softmax", name="softmax"))
    return model


def resnet34(
    input_shape: tuple[int, int, int] = (224, 224, 3), num_classes: int = 10
) -> keras.Sequential:
    """ResNet-34: :func:`resnet` with units ``[64]*3 + [128]*4 + [256]*6 + [512]*3``.

    At 224x224x3 with 10 classes: 21,306,826 parameters, 17,024 of them
    non-trainable (batch norm statistics).

    >>> count_params(resnet34()).non_trainable
    17024
    """
    return resnet(RESNET34_UNITS, input_shape, num_classes, stem_filters=64, name="resnet34")


# --- GoogLeNet, SENet


@keras.saving.register_keras_serializable(package=PACKAGE)
class InceptionModule(layers.Layer):
    """GoogLeNet's inception module: four parallel branches, concatenated along depth.

    Branches (all stride 1, "same" padding, ReLU): 1x1; 1x1 -> 3x3; 1x1 -> 5x5;
    3x3 max pool -> 1x1. The 1x1 "reduce" convs cut the depth before the
    costly 3x3 and 5x5 convs. Output depth: ``f1 + f3 + f5 + pool_proj``.

    >>> tuple(InceptionModule(4, 2, 4, 2, 4, 4)(np.zeros((1, 8, 8, 3), "float32")).shape)
    (1, 8, 8, 16)
    """

    def __init__(
        self,
        f1: int,
        f3_reduce: int,
        f3: int,
        f5_reduce: int,
        f5: int,
        pool_proj: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = {
            "f1": int(f1),
            "f3_reduce": int(f3_reduce),
            "f3": int(f3),
            "f5_reduce": int(f5_reduce),
            "f5": int(f5),
            "pool_proj": int(pool_proj),
        }
        if min(self.filters.values()) < 1:
            raise ValueError(f"every branch needs at least one filter, got {self.filters}")

        def conv(n: int, k: int) -> layers.Conv2D:
            return layers.Conv2D(n, k, padding="same", activation="relu")

        # One named Sequential per branch: Keras saves and restores named sub-layers in the same
        # order on every version (a nested list of layers was restored shuffled by Keras 3.13).
        self.branch_1x1 = keras.Sequential([conv(f1, 1)], name="branch_1x1")
        self.branch_3x3 = keras.Sequential([conv(f3_reduce, 1), conv(f3, 3)], name="branch_3x3")
        self.branch_5x5 = keras.Sequential([conv(f5_reduce, 1), conv(f5, 5)], name="branch_5x5")
        self.branch_pool = keras.Sequential(
            [layers.MaxPooling2D(3, strides=1, padding="same"), conv(pool_proj, 1)],
            name="branch_pool",
        )
        self.concat = layers.Concatenate(axis=-1)

    @property
    def branches(self) -> list[keras.Sequential]:
        """The four branches, in concatenation order: 1x1, 3x3, 5x5, pool."""
        return [self.branch_1x1, self.branch_3x3, self.branch_5x5, self.branch_pool]

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        for branch in self.branches:
            branch.build(input_shape)
        self.concat.build([b.compute_output_shape(input_shape) for b in self.branches])

    def branch_outputs(self, inputs: Any) -> list[Any]:
        """The four branch outputs before concatenation (to show their shapes)."""
        return [branch(inputs) for branch in self.branches]

    def call(self, inputs: Any) -> Any:
        return self.concat(self.branch_outputs(inputs))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        f = self.filters
        return (*input_shape[:-1], f["f1"] + f["f3"] + f["f5"] + f["pool_proj"])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.filters}


@keras.saving.register_keras_serializable(package=PACKAGE)
class SEBlock(layers.Layer):
    """Squeeze-and-excitation: reweight each feature map by a learned score in (0, 1).

    Global average pooling squeezes each map to one number; a Dense layer with
    ``channels // ratio`` units (ReLU) and a Dense layer back to ``channels``
    units (sigmoid) turn those into one score per map; the input maps are
    multiplied by their scores. The output has the input's shape.

    >>> tuple(SEBlock(ratio=4)(np.ones((1, 5, 5, 8), "float32")).shape)
    (1, 5, 5, 8)
    """

    def __init__(self, ratio: int = 16, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if ratio < 1:
            raise ValueError(f"ratio must be at least 1, got {ratio}")
        self.ratio = int(ratio)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("SEBlock needs a known number of channels (last axis)")
        self.squeeze_units = max(1, channels // self.ratio)
        self.pool = layers.GlobalAveragePooling2D(keepdims=True)
        self.squeeze = layers.Dense(self.squeeze_units, activation="relu")
        self.excite = layers.Dense(channels, activation="sigmoid")
        pooled = (input_shape[0], 1, 1, channels)
        self.squeeze.build(pooled)
        self.excite.build((input_shape[0], 1, 1, self.squeeze_units))

    def scores(self, inputs: Any) -> Any:
        """One score per feature map, shape ``[batch, 1, 1, channels]``."""
        return self.excite(self.squeeze(self.pool(inputs)))

    def call(self, inputs: Any) -> Any:
        return inputs * self.scores(inputs)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "ratio": self.ratio}


# --- diagrams


def graphviz_available() -> tuple[bool, str]:
    """Whether ``keras.utils.plot_model`` can draw here, and why not if it cannot.

    >>> ok, why = graphviz_available()
    >>> can_draw = shutil.which("dot") is not None and importlib.util.find_spec("pydot") is not None
    >>> ok == can_draw and (why == "") == ok
    True
    """
    if importlib.util.find_spec("pydot") is None:
        return False, "the Python package pydot is not installed (pip install pydot)"
    if shutil.which("dot") is None:
        return False, (
            "Graphviz's `dot` program is not on PATH (apt-get install graphviz, "
            "brew install graphviz, or conda install graphviz)"
        )
    return True, ""


def plot_architecture(model: keras.Model, to_file: str | Path, **kwargs: Any) -> Path | None:
    """Draw ``model`` with ``keras.utils.plot_model(show_shapes=True)``; None if it cannot.

    Without pydot or Graphviz it prints what is missing instead of failing.

    >>> plot_architecture(lenet5(), "/tmp/lenet5.png")  # doctest: +SKIP
    """
    ok, why = graphviz_available()
    if not ok:
        print(f"No diagram: {why}. The layer table above shows the same shapes.")
        return None
    to_file = Path(to_file)
    to_file.parent.mkdir(parents=True, exist_ok=True)
    options = {"show_shapes": True, "show_layer_names": True, **kwargs}
    try:
        keras.utils.plot_model(model, to_file=str(to_file), **options)
    except (ImportError, OSError) as err:
        print(f"No diagram: plot_model failed ({type(err).__name__}: {err}).")
        return None
    if not to_file.exists():  # in IPython, plot_model prints its problem and returns
        print("No diagram: plot_model did not write a file (see its message above).")
        return None
    return to_file


# --- block diagrams without Graphviz


def block_graph(block: layers.Layer, input_shape: tuple[int, ...]) -> keras.Model:
    """A functional model that lays one block's inner layers out as a graph, for a diagram.

    ``block`` is an :class:`InceptionModule`, :class:`ResidualUnit` or :class:`SEBlock`;
    the graph reuses its layers (same weights), so ``model(x)`` equals ``block(x)``.
    ``input_shape`` leaves out the batch axis.

    >>> graph = block_graph(SEBlock(ratio=4), (5, 5, 8))
    >>> [layer.__class__.__name__ for layer in graph.layers][1:]
    ['GlobalAveragePooling2D', 'Dense', 'Dense', 'Multiply']
    """
    inputs = keras.Input(shape=input_shape, name="input")
    block.build((None, *input_shape))
    if isinstance(block, InceptionModule):
        outputs = layers.Concatenate(name="concatenate")([b(inputs) for b in _unrolled(block)])
    elif isinstance(block, ResidualUnit):
        main = _chain(block.main_layers, inputs)
        skip = _chain(block.skip_layers, inputs)
        outputs = layers.Activation(block.activation, name="relu_out")(
            layers.Add(name="add")([main, skip])
        )
    elif isinstance(block, SEBlock):
        scores = block.excite(block.squeeze(block.pool(inputs)))
        outputs = layers.Multiply(name="rescale")([inputs, scores])
    else:
        raise TypeError(
            f"block_graph draws InceptionModule, ResidualUnit or SEBlock, not "
            f"{type(block).__name__}; for a model of your own use keras.Model(inputs, outputs)"
        )
    return keras.Model(inputs, outputs, name=f"{block.name}_graph")


def _chain(path: Sequence[layers.Layer], x: Any) -> Any:
    for layer in path:
        x = layer(x)
    return x


def _unrolled(block: InceptionModule) -> list[Any]:
    """One function per branch that applies the branch's layers one by one (each a node)."""
    return [lambda x, b=branch: _chain(b.layers, x) for branch in block.branches]


def _parents(node_args: Any) -> list[str]:
    """Names of the layers whose outputs a serialised call uses (its ``keras_history``)."""
    if isinstance(node_args, dict):
        history = (
            node_args.get("config", {}).get("keras_history")
            if node_args.get("class_name") == "__keras_tensor__"
            else None
        )
        if history:
            return [history[0]]
        return [p for value in node_args.values() for p in _parents(value)]
    if isinstance(node_args, (list, tuple)):
        return [p for value in node_args for p in _parents(value)]
    return []


def _describe(layer: layers.Layer) -> str:
    kind = type(layer).__name__
    config = layer.get_config()
    if isinstance(layer, layers.Conv2D):
        k = config["kernel_size"][0]
        stride = config["strides"][0]
        act = config.get("activation")
        extra = (f", stride {stride}" if stride > 1 else "") + (
            f", {act}" if act not in (None, "linear") else ""
        )
        return f"Conv {k}x{k}, {config['filters']}{extra}"
    if isinstance(layer, layers.MaxPooling2D):
        k = config["pool_size"][0]
        return f"MaxPool {k}x{k}, stride {config['strides'][0]}"
    if isinstance(layer, layers.Dense):
        return f"Dense {config['units']}, {config['activation']}"
    if isinstance(layer, layers.Activation):
        return str(config["activation"]).capitalize() if "activation" in config else kind
    names = {
        "BatchNormalization": "BatchNorm",
        "GlobalAveragePooling2D": "GlobalAvgPool",
        "InputLayer": "Input",
    }
    return names.get(kind, kind)


def draw_graph(model: keras.Model, title: str = "", box_width: float = 2.3) -> Any:
    """Draw a functional ``model`` as boxes and arrows with matplotlib (no Graphviz needed).

    Each box names the layer and its output shape; the input is at the top.
    Returns the matplotlib figure.

    >>> fig = draw_graph(block_graph(SEBlock(ratio=4), (5, 5, 8)))
    >>> [t.get_text().splitlines()[0] for t in fig.axes[0].texts if t.get_text()]
    ['Input', 'GlobalAvgPool', 'Dense 2, relu', 'Dense 8, sigmoid', 'Multiply']
    """
    import matplotlib.pyplot as plt

    config = model.get_config()
    parents: dict[str, list[str]] = {}
    for entry in config["layers"]:
        nodes = entry.get("inbound_nodes") or []
        parents[entry["name"]] = list(dict.fromkeys(_parents(nodes)))
    order = list(parents)
    depth: dict[str, int] = {}
    for name in order:  # the config lists layers in topological order
        depth[name] = 1 + max((depth[p] for p in parents[name]), default=-1)
    children = {name: [c for c in order if name in parents[c]] for name in order}

    def lane(name: str) -> int:  # which input of the next merge (concat, add) this path feeds
        while len(children[name]) == 1:
            child = children[name][0]
            if len(parents[child]) > 1:
                return parents[child].index(name)
            name = child
        return 0

    x: dict[str, float] = {}
    for name in order:
        ps = parents[name]
        if not ps:
            x[name] = 0.0
        elif len(ps) > 1:
            x[name] = float(np.mean([x[p] for p in ps]))
        else:
            siblings = sorted((c for c in children[ps[0]] if len(parents[c]) == 1), key=lane)
            i = siblings.index(name)
            x[name] = x[ps[0]] + (i - (len(siblings) - 1) / 2) * box_width * 1.15
    xs = list(x.values())
    levels = max(depth.values()) + 1
    width = max(xs) - min(xs) + box_width * 1.3
    fig, ax = plt.subplots(figsize=(max(4.0, width * 1.1), 0.9 * levels + 0.6))
    for name in order:
        layer = model.get_layer(name)
        shape = "x".join(str(d) for d in layer.output.shape[1:])
        ax.text(
            x[name],
            -depth[name],
            f"{_describe(layer)}\n{shape}",
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round", "facecolor": "#e8f0fe", "edgecolor": "#4a6fa5"},
        )
    for name in order:
        for p in parents[name]:
            # a long vertical edge (a skip path) bends round the boxes it would cross
            bend = depth[name] - depth[p] > 1 and abs(x[name] - x[p]) < box_width / 2
            ax.annotate(
                "",
                xy=(x[name], -depth[name]),
                xytext=(x[p], -depth[p]),
                arrowprops={
                    "arrowstyle": "->",
                    "color": "#555555",
                    "shrinkA": 14,
                    "shrinkB": 14,
                    "connectionstyle": f"arc3,rad={0.45 if bend else 0.0}",
                },
            )
    ax.set_xlim(min(xs) - box_width * 0.7, max(xs) + box_width * 0.7)
    ax.set_ylim(-levels + 0.4, 0.6)
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
