"""Every number the step-through shows, in both conventions, against the notebook's own forward and backward.

The notebook writes its backward pass without the mean's 1/n (dZ2 = Yhat - Y) and
puts the 1/n into dW and db; tinygraph's true gradients carry it from dL/dYhat on.
The step-through shows either; here both are checked, number by number, against
the notebook's code written out below as the notebook writes it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from test_viz_support import SVG, boxes, parse_svg, text_of

import tinygraph as tg
from tinygraph.viz import draw, step_through
from tinygraph.viz.render import image

pytest.importorskip("graphviz")

# Shown numbers have 3 significant digits.
RTOL = 5e-3


def relu(z):
    return np.maximum(0, z)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def dBinaryLoss(Y, Yhat):
    return (Yhat - Y) / (Yhat * (1 - Yhat))


def dsigmoid(Z):
    A = sigmoid(Z)
    return A * (1 - A)


def drelu(Z):
    return np.where(Z > 0, 1.0, 0.0)


def notebook_forward_backward(p, X, Y):
    """The notebook's forward_pass, compute_loss and backward_pass, by hand."""
    n = X.shape[1]
    Z1 = p["W1"] @ X + p["b1"]
    A1 = relu(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    Yhat = sigmoid(Z2)
    loss = (-1 / n) * np.sum(Y * np.log(Yhat) + (1 - Y) * np.log(1 - Yhat))
    dYhat = dBinaryLoss(Y, Yhat)
    dZ2 = dYhat * dsigmoid(Z2)
    dW2 = (1 / n) * dZ2 @ A1.T
    db2 = (1 / n) * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = p["W2"].T @ dZ2
    dZ1 = dA1 * drelu(Z1)
    dW1 = (1 / n) * dZ1 @ X.T
    db1 = (1 / n) * np.sum(dZ1, axis=1, keepdims=True)
    forward = {"Z1": Z1, "A1": A1, "Z2": Z2, "Yhat": Yhat, "L": loss, "W1X": p["W1"] @ X, "W2A1": p["W2"] @ A1}
    # The products W1X and W2A1 pass their sum's gradient on unchanged (the notebook has no name for them).
    intermediates = {"L": 1.0, "Yhat": dYhat, "Z2": dZ2, "W2A1": dZ2, "A1": dA1, "Z1": dZ1, "W1X": dZ1}
    parameters = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    return forward, intermediates, parameters


@pytest.fixture(scope="module")
def lecture():
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(2, 4)), np.array([[1.0, 0.0, 1.0, 1.0]])
    p = {"W1": rng.uniform(-1, 1, (3, 2)), "b1": rng.uniform(-0.5, 0.5, (3, 1)),
         "W2": rng.uniform(-1, 1, (1, 3)), "b2": np.array([[0.1]])}  # fmt: skip
    t = {name: tg.Tensor(value, requires_grad=True, name=name) for name, value in p.items()}
    t["X"], t["Y"] = tg.Tensor(X, name="X"), tg.Tensor(Y, name="Y")
    for name, make in [
        ("W1X", lambda: t["W1"] @ t["X"]),
        ("Z1", lambda: t["W1X"] + t["b1"]),
        ("A1", lambda: tg.relu(t["Z1"])),
        ("W2A1", lambda: t["W2"] @ t["A1"]),
        ("Z2", lambda: t["W2A1"] + t["b2"]),
        ("Yhat", lambda: tg.sigmoid(t["Z2"])),
        ("L", lambda: tg.binary_cross_entropy(t["Yhat"], t["Y"])),
    ]:
        t[name] = make()
        t[name].name = name
    forward, intermediates, parameters = notebook_forward_backward(p, X, Y)
    assert (forward["Z1"] < 0).any() and (forward["Z1"] > 0).any()  # the ReLU mask has zeros to show
    values = {**p, "X": X, "Y": Y, **forward}
    return t, values, intermediates, parameters


def expected_gradients(lecture, convention: str) -> dict[str, np.ndarray]:
    _, _, intermediates, parameters = lecture
    n = 4
    if convention == "true":  # dL/dX = notebook's dX / n between the loss and the parameters
        intermediates = {name: g if name == "L" else g / n for name, g in intermediates.items()}
    return {**intermediates, **parameters}


def assert_shown(grid: np.ndarray, truth, what: str) -> None:
    """`grid` is `truth` to the 3 digits shown, rows as rows (a scalar is a 1 x 1 grid)."""
    truth = np.atleast_2d(truth)
    assert grid.shape == truth.shape, f"{what}: shown as {grid.shape}, is {truth.shape}"
    np.testing.assert_allclose(grid, truth, rtol=RTOL, atol=1e-12, err_msg=what)


def page_of(path) -> ET.Element:
    return ET.fromstring(path.read_text().removeprefix("<!DOCTYPE html>\n"))


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def caption_grids(frame: ET.Element, kind: str = "data-gradient") -> list[tuple[str, np.ndarray]]:
    """Each gradient (or, with kind="data-value", each value) a caption names, with the grid written after it."""
    found = []
    for parent in frame.iter():
        children = list(parent)
        for i, child in enumerate(children):
            if child.get(kind) is not None:
                table = next((c for c in children[i + 1 :] if c.tag == "table"), None)
                if table is None:  # a scalar is written as its number: `dL (scalar: 1)`
                    rows = [numbers(re.match(r" \(scalar: (\S+)\)", child.tail)[1])]
                else:
                    rows = [[float(td.text) for td in tr] for tr in table]
                found.append((child.get(kind), np.array(rows)))
    return found


ROW = re.compile(r"\[?[-+.\deE\s\xa0]+\]?")


def grid_after(lines: list[str], header: int) -> np.ndarray:
    """The rows of numbers that follow line `header`."""
    rows = []
    for line in lines[header + 1 :]:
        if not ROW.fullmatch(line):
            break
        rows.append(numbers(line))
    return np.array(rows)


def svg_grids(svg: ET.Element) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """The tensors' values (name, grid) and the gradients written as `dL/dZ1:` or `dZ1:` with their grids."""
    values, gradients = [], []
    for g in boxes(svg, "tensor"):
        lines = text_of(g)
        values.append((lines[0], grid_after(lines, 1)))  # after the name and the shape
    for g in boxes(svg, "edge") + boxes(svg, "tensor"):
        lines = text_of(g)
        for i, line in enumerate(lines):
            label = re.fullmatch(r"(?:[a-z]: )?(?:dL/)?d(\S+):", line)
            if label:
                gradients.append((label[1], grid_after(lines, i)))
    return values, gradients


@pytest.fixture(scope="module")
def saved(lecture, tmp_path_factory):
    """The step-through in each convention, forward pass included, values in the pictures: saved once."""
    return {
        convention: step_through(
            lecture[0]["L"], tmp_path_factory.mktemp(convention), values=True, forward=True, convention=convention
        ).page
        for convention in ("true", "notebook")
    }


@pytest.mark.parametrize("convention", ["true", "notebook"])
def test_every_gradient_in_the_captions_is_the_notebooks(lecture, saved, convention):
    expected = expected_gradients(lecture, convention)
    shown = [pair for frame in page_of(saved[convention]).iter("section") for pair in caption_grids(frame)]
    assert {name for name, _ in shown} == set(expected)
    for name, grid in shown:
        assert_shown(grid, expected[name], name)


def test_every_value_in_the_forward_captions_is_the_notebooks(lecture, saved):
    forward = lecture[1]
    shown = [pair for frame in page_of(saved["true"]).iter("section") for pair in caption_grids(frame, "data-value")]
    assert {name for name, _ in shown} == set(forward)
    for name, grid in shown:
        assert_shown(grid, forward[name], name)


@pytest.mark.parametrize("convention", ["true", "notebook"])
def test_every_number_in_the_frames_is_the_notebooks(lecture, saved, convention):
    forward = lecture[1]
    expected = expected_gradients(lecture, convention)
    frames = sorted(saved[convention].parent.glob("step-*.svg"))
    assert len(frames) == 14  # 7 forward, then 7 backward
    for k, path in enumerate(frames):
        values, gradients = svg_grids(parse_svg(path.read_bytes()))
        assert {name for name, _ in values} == set(forward)
        for name, grid in values:  # in a forward frame, those not yet computed are written invisibly
            assert_shown(grid, forward[name], f"{path.name}: {name}")
        assert {name for name, _ in gradients} == (set(expected) if k >= 7 else set())
        for name, grid in gradients:
            assert_shown(grid, expected[name], f"{path.name}: d{name}")


def edge_labels(root, **options) -> list[str]:
    picture = parse_svg(image(draw(root, local_grads=True, **options), "svg"))
    return [" ".join(text_of(g)) for g in boxes(picture, "edge")]


def test_the_notebook_convention_labels_edges_as_the_notebook_writes_them(lecture):
    labels = edge_labels(lecture[0]["L"], convention="notebook")
    for expected in [
        "dYhat = 4 · dL/dYhat",
        "dZ2 = dYhat * dsigmoid(Z2) = dYhat * Yhat (1 - Yhat)",
        "dA1 = W2^T dW2A1",
        "dZ1 = dA1 * drelu(Z1)",
        "dW1 = (1/4) dW1X X^T",
        "db1 = (1/4) (dZ1) summed over its 4 columns",
    ]:
        assert expected in labels


def test_the_true_convention_is_the_default(lecture):
    assert edge_labels(lecture[0]["L"]) == edge_labels(lecture[0]["L"], convention="true")
    assert "dL/dZ1 = dL/dA1 * drelu(Z1)" in edge_labels(lecture[0]["L"])


def test_a_picture_in_the_notebook_convention_says_so_in_its_title(lecture):
    picture = parse_svg(image(draw(lecture[0]["L"], convention="notebook"), "svg"))
    title = next(picture.iter(f"{SVG}text")).text
    assert title.startswith("Notebook's convention (n = 4): dX = 4 · dL/dX for each tensor between the loss")


def test_each_backward_frame_of_the_notebook_convention_says_so(saved):
    page = page_of(saved["notebook"])
    notes = [" ".join(li.itertext()) for li in page.iter("li") if li.get("class") == "convention"]
    assert len(notes) == 7 and all(note.startswith("Notebook's convention (n = 4)") for note in notes)


def test_a_frame_title_names_the_tensor_its_operation_produces(saved):
    titles = [text_of(parse_svg(p.read_bytes()))[0] for p in sorted(saved["true"].parent.glob("step-*.svg"))]
    assert "Forward pass, step 2 of 7: Add -> Z1" in titles
    assert "Backward pass, step 3 of 7: Add -> Z2" in titles
    assert "Backward pass, step 6 of 7: Add -> Z1" in titles


def test_the_notebook_convention_needs_a_loss_at_the_root():
    W = tg.Tensor(np.ones(2), requires_grad=True, name="W")
    with pytest.raises(tg.TinygraphError, match=r"convention='notebook' needs a loss at the root .* made by Sum"):
        draw((W * 2).sum(), convention="notebook")


def test_an_unknown_convention_is_refused_by_name(lecture):
    with pytest.raises(tg.TinygraphError, match=r"convention must be one of 'true', 'notebook', not 'torch'"):
        draw(lecture[0]["L"], convention="torch")


def test_a_parameter_fed_straight_into_the_loss_keeps_its_true_gradient_label():
    P = tg.Tensor([[0.3, 0.8]], requires_grad=True, name="P")
    L = tg.binary_cross_entropy(P, tg.Tensor([[0.0, 1.0]], name="Y"))
    L.name = "L"
    assert "dP = (P - Y) / (2 P (1 - P))" in edge_labels(L, convention="notebook")  # = dL/dP: a leaf's, unscaled
