"""A small convolutional network: blocks of convolution, ReLU and max pooling, then the MLP's dense layers.

It takes X as the notebook does, (h w c) x n columns, and turns them into
C x H x W x n images once, at its input (tinygraph.images_from_columns). For
filters [f1, ..., fB] and dense hidden layers [n1, ...]:

    A0 = images(X)                       C x H x W x n
    Zl = conv(A(l-1), Wl) + bl           fl x H x W x n    Wl is fl x f(l-1) x k x k ("same" padding), bl is fl
    Al = relu(Zl)
    Pl = maxpool(Al)                     fl x H/2 x W/2 x n (2 x 2 windows side by side)
    flat = P_B reshaped                  (fB H W / 4^B) x n: the first dense layer's input
    then as the MLP: Z(B+1) = W(B+1) flat + b(B+1), ..., the logits Z_L

In training mode, each mini-batch can be augmented as image courses do: every
image flipped left-right with probability 1/2 and shifted by up to `shift`
pixels each way (the border filled with zeros), drawn from the model's seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import tinygraph as tg
from tinygraph.models.errors import ConfigError, ParameterError
from tinygraph.models.initializers import get_initializer
from tinygraph.backend import to_numpy
from tinygraph.modes import grad_enabled
from tinygraph.models.mlp import ACTIVATIONS, MLP, check_activations, check_layer_sizes, input_constant, named, retained

KERNEL, POOL = 3, 2  # 3 x 3 filters with "same" padding; 2 x 2 max pooling halves each side
CHUNK = 128  # images per forward pass in evaluation


class CNN(MLP):
    """Parameters W1, b1, ... (the blocks' filters and biases), then the dense layers' W, b, in `params`.

    image_shape  (height, width, channels) of each column of X, (64, 64, 3) for the notebook's
    filters      filters of each block, e.g. (16, 32, 64)
    hidden       the dense hidden layers' sizes after the blocks (may be empty)
    outputs      1 for binary labels (sigmoid), K for K classes (softmax)
    activation   of the dense hidden layers, as in the MLP (the blocks use ReLU)
    init         he (the default: suits ReLU), xavier or uniform, for every weight; biases start at 0
    dropout      on the dense hidden layers, as in the MLP
    augment      in training mode, flip and shift each image of a batch at random
    shift        the largest shift, in pixels (default: a sixteenth of the image side, 4 for 64)
    """

    def __init__(
        self,
        image_shape: Sequence[int],
        filters: Sequence[int],
        hidden: Sequence[int] = (),
        outputs: int = 1,
        activation: str = "relu",
        init: str = "he",
        seed: int = 1,
        dropout: float = 0.0,
        augment: bool = False,
        shift: int | None = None,
        dtype: Any = np.float64,
    ):
        shape = list(image_shape)
        if len(shape) != 3 or not all(isinstance(size, (int, np.integer)) and size >= 1 for size in shape):
            raise ConfigError(f"CNN: image_shape is (height, width, channels), whole numbers, not {image_shape!r}")
        self.image_shape = tuple(int(size) for size in shape)
        if not filters:
            raise ConfigError("CNN: needs at least one block of filters, e.g. filters=(16, 32)")
        self.filters = check_layer_sizes(self.kind, [self.image_shape[2], *filters])[1:]
        height, width, _ = self.image_shape
        if min(height, width) >> len(self.filters) < 1:
            raise ConfigError(f"CNN: {len(self.filters)} poolings halve {height} x {width} images to nothing")
        features = self.filters[-1] * (height >> len(self.filters)) * (width >> len(self.filters))
        self.layer_sizes = check_layer_sizes(self.kind, [features, *hidden, outputs])  # the dense part
        self.activations = check_activations(self.kind, activation, hidden_layers=len(self.layer_sizes) - 2)
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"CNN: dropout is the probability of dropping a unit, in [0, 1), not {dropout!r}")
        self.dropout, self.augment = dropout, augment
        self.shift = max(1, min(height, width) // 16) if shift is None else shift
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise tg.DTypeError(f"CNN: parameters must be floating point, not {self.dtype}")
        self.params = {
            name: tg.Tensor(array.astype(self.dtype), requires_grad=True, name=name)
            for name, array in self.initial_arrays(init, seed).items()
        }
        self.dropout_rng = np.random.default_rng(seed)
        self.augment_rng = np.random.default_rng([seed, 1])  # its own stream: dropout on or off draws the same

    def initial_arrays(self, init: str, seed: int) -> dict[str, np.ndarray]:
        """Every weight drawn in layer order from one RandomState(seed); a filter bank as a (f, c k k) matrix."""
        draw, rng = get_initializer(init), np.random.RandomState(seed)
        arrays = {}
        channels = self.image_shape[2]
        for layer, out in enumerate(self.filters, start=1):
            arrays[f"W{layer}"] = draw((out, channels * KERNEL * KERNEL), rng).reshape(out, channels, KERNEL, KERNEL)
            arrays[f"b{layer}"] = np.zeros(out)
            channels = out
        sizes = self.layer_sizes
        for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=len(self.filters) + 1):
            arrays[f"W{layer}"], arrays[f"b{layer}"] = draw((n_out, n_in), rng), np.zeros((n_out, 1))
        return arrays

    @classmethod
    def from_architecture(
        cls, architecture: Mapping[str, Any], arrays: Mapping[str, Any], seed: int = 1, dtype: Any = None
    ) -> CNN:
        """The network that `architecture()` described, holding copies of `arrays` (e.g. a saved params.npz)."""
        missing = [key for key in ("image_shape", "filters", "layer_sizes", "activations") if key not in architecture]
        if missing:
            raise ParameterError(f"CNN: the architecture lacks {missing} (found {sorted(architecture)})")
        if dtype is None:
            dtype = np.asarray(arrays["W1"]).dtype if "W1" in arrays else np.float64
        sizes = architecture["layer_sizes"]
        model = CNN(
            architecture["image_shape"], architecture["filters"], sizes[1:-1], sizes[-1], architecture["activations"],
            seed=seed, dropout=architecture.get("dropout", 0.0), augment=architecture.get("augment", False),
            shift=architecture.get("shift"), dtype=dtype,
        )  # fmt: skip
        model.load_arrays(arrays)
        return model

    # ---- what it holds --------------------------------------------------------------
    @property
    def nx(self) -> int:
        """The number of features, the rows of X: h w c pixels (the dense part's inputs are layer_sizes[0])."""
        return math.prod(self.image_shape)

    @property
    def blocks(self) -> int:
        return len(self.filters)

    @property
    def depth(self) -> int:
        """L, the number of layers with weights: the blocks, the dense hidden layers and the output layer."""
        return self.blocks + len(self.layer_sizes) - 1

    def architecture(self) -> dict[str, Any]:
        return {
            **super().architecture(),
            "image_shape": list(self.image_shape),
            "filters": list(self.filters),
            "augment": self.augment,
            "shift": self.shift,
        }

    def summary(self) -> str:
        """The blocks and layers with their shapes and parameter counts, and the total, as a small table."""
        rows = [("layer", "W", "b", "does", "parameters")]
        for layer in range(1, self.depth + 1):
            W, b = self.params[f"W{layer}"].shape, self.params[f"b{layer}"].shape
            count = f"{math.prod(W) + math.prod(b):,}"
            rows.append((str(layer), " x ".join(map(str, W)), " x ".join(map(str, b)), self.layer_title(layer), count))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        return "\n".join([repr(self), *lines, f"{self.parameter_count():,} parameters, {self.dtype}"])

    def layer_title(self, layer: int) -> str:
        """What layer `layer` (1-based) is, in words, for the summary and the graph's frames."""
        if layer <= self.blocks:
            return f"conv block {layer} ({self.filters[layer - 1]} filters {KERNEL}x{KERNEL}, relu, max pool)"
        if layer < self.depth:
            return f"hidden layer {layer} ({self.activations[layer - self.blocks - 1]})"
        return f"output layer ({self.output})"

    def __repr__(self) -> str:
        h, w, c = self.image_shape
        dense = "-".join(map(str, self.layer_sizes[1:]))
        return f"CNN({h}x{w}x{c}, filters={'-'.join(map(str, self.filters))}, dense={dense}, output={self.output})"

    # ---- the forward pass ---------------------------------------------------------------
    def forward_steps(self, X: Any, training: bool = False, retain_grad: bool = False) -> dict[str, tg.Tensor]:
        """Every named intermediate tensor, in order: images, Z1, A1, P1, ..., flat, Z(B+1), ..., ZL.

        Without a graph (evaluation) on more than CHUNK images, only the logits ZL,
        computed CHUNK images at a time: the patches of 500 images of 64 x 64 at once
        would take gigabytes.
        """
        X = self.as_input(X)
        n = X.shape[1]
        if grad_enabled() or n <= CHUNK:
            return self.all_steps(X, training, retain_grad)
        last = f"Z{self.depth}"
        parts = [self.all_steps(X.data[:, i : i + CHUNK], training, retain_grad)[last].data for i in range(0, n, CHUNK)]
        return {last: named(tg.Tensor(X.xp.concat(parts, axis=1)), last)}

    def all_steps(self, X: Any, training: bool, retain_grad: bool) -> dict[str, tg.Tensor]:
        """forward_steps in one pass, whatever the number of images."""
        X = self.as_input(X)
        h, w, c = self.image_shape
        steps: dict[str, tg.Tensor] = {}
        A = steps["images"] = named(tg.images_from_columns(X, (h, w, c)), "images")
        if training and self.augment:
            A = steps["images_augmented"] = named(A.constant_like(self.augmented(A.data)), "images_augmented")
        for layer in range(1, self.blocks + 1):
            W, b = self.params[f"W{layer}"], self.params[f"b{layer}"]
            Z = steps[f"Z{layer}"] = named(tg.conv2d(A, W, b, padding=KERNEL // 2), f"Z{layer}")
            A = steps[f"A{layer}"] = named(tg.relu(Z), f"A{layer}")
            A = steps[f"P{layer}"] = named(tg.max_pool2d(A, POOL), f"P{layer}")
        A = steps["flat"] = named(A.reshape((self.layer_sizes[0], A.shape[-1])), "flat")
        for layer, activation in enumerate([*self.activations, None], start=self.blocks + 1):
            Z = steps[f"Z{layer}"] = named(self.params[f"W{layer}"] @ A + self.params[f"b{layer}"], f"Z{layer}")
            if activation is None:
                break
            A = steps[f"A{layer}"] = named(ACTIVATIONS[activation](Z), f"A{layer}")
            if training and self.dropout:
                A = steps[f"A{layer}_dropout"] = named(A * self.dropout_mask(A, layer), f"A{layer}_dropout")
        return retained(steps) if retain_grad else steps

    def augmented(self, images: Any) -> Any:
        """The C x H x W x n images, each flipped left-right with probability 1/2 and shifted by up to `shift` pixels.

        One draw per image from the model's own generator, so a seed gives the same batches again.
        """
        images = to_numpy(images)
        C, H, W, n = images.shape
        rng, s = self.augment_rng, self.shift
        flip = rng.random(n) < 0.5
        images = np.where(flip, images[:, :, ::-1, :], images)
        down, right = rng.integers(0, 2 * s + 1, n), rng.integers(0, 2 * s + 1, n)
        padded = np.zeros((C, H + 2 * s, W + 2 * s, n), dtype=images.dtype)
        padded[:, s : s + H, s : s + W, :] = images
        # Every H x W crop of the padded images; image k takes the one at (down[k], right[k]).
        crops = sliding_window_view(padded, (H, W), axis=(1, 2))  # C x (2s+1) x (2s+1) x n x H x W
        return crops[:, down, right, np.arange(n)].transpose(0, 2, 3, 1)

    def layer_of(self, steps: Mapping[str, tg.Tensor]) -> Callable[[tg.Tensor], str | None]:
        """For Tensor.draw(clusters=...): "conv block 1 (...)" for W1, b1, Z1, A1, P1; the dense layers as the MLP's.

        The input's conversion (images) and the flattening stay outside every frame.
        """
        outside = {id(step) for name, step in steps.items() if name.startswith("images") or name == "flat"}
        labels: dict[int, str] = {}
        layer = 0
        for name, step in steps.items():
            if name == f"Z{layer + 1}":
                layer += 1
                for param in (self.params[f"W{layer}"], self.params[f"b{layer}"]):
                    labels[id(param)] = self.layer_title(layer)
            if layer and id(step) not in outside:
                # A step's node inputs are of its layer too (W A before the bias, a mask), unless already framed.
                for tensor in [step, *(step.node.inputs if step.node is not None else ())]:
                    if id(tensor) not in outside:
                        labels.setdefault(id(tensor), self.layer_title(layer))
        return lambda tensor: labels.get(id(tensor))

    # ---- checking what comes in ---------------------------------------------------------
    def as_input(self, X: Any, what: str = "X") -> tg.Tensor:
        """X ((h w c) x n, one flattened image per column) as a constant tensor of the model's dtype and library."""
        X = input_constant(self.params["W1"], X, what, f"{self.kind}: {what}")
        h, w, c = self.image_shape
        if X.ndim != 2 or X.shape[0] != self.nx:
            raise tg.ShapeError(
                f"{self.kind}: {what} has shape {X.shape}, but the network takes {self.nx} x n "
                f"(one {h} x {w} x {c} image per column, flattened as numpy's reshape({h}, {w}, {c}) reads it)"
            )
        return X
