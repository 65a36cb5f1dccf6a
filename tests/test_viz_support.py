"""Shared by the test_viz* files: the notebook's graph, and reading SVG back (no tests here)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

import tinygraph as tg

SVG = "{http://www.w3.org/2000/svg}"


def notebook_graph(seed: int = 0) -> dict[str, tg.Tensor]:
    """The lecture's network on 4 features and 8 examples, every tensor named as in the notebook."""
    rng = np.random.default_rng(seed)
    t = {
        "X": tg.Tensor(rng.random((4, 8)), name="X"),
        "Y": tg.Tensor((rng.random((1, 8)) > 0.5).astype(float), name="Y"),
        "W1": tg.Tensor(rng.uniform(-1, 1, (3, 4)), requires_grad=True, name="W1"),
        "b1": tg.Tensor(rng.uniform(-1, 1, (3, 1)), requires_grad=True, name="b1"),
        "W2": tg.Tensor(rng.uniform(-1, 1, (1, 3)), requires_grad=True, name="W2"),
        "b2": tg.Tensor(rng.uniform(-1, 1, (1, 1)), requires_grad=True, name="b2"),
    }
    for name, value in [
        ("Z1", lambda: t["W1"] @ t["X"] + t["b1"]),
        ("A1", lambda: tg.relu(t["Z1"])),
        ("Z2", lambda: t["W2"] @ t["A1"] + t["b2"]),
        ("Yhat", lambda: tg.sigmoid(t["Z2"])),
        ("L", lambda: tg.binary_cross_entropy(t["Yhat"], t["Y"])),
    ]:
        t[name] = value()
        t[name].name = name
    return t


def parse_svg(svg: str | bytes) -> ET.Element:
    return ET.fromstring(svg.encode() if isinstance(svg, str) else svg)


def text_of(element: ET.Element) -> list[str]:
    """The lines of text inside an SVG element, in order."""
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def boxes(svg_root: ET.Element, kind: str) -> list[ET.Element]:
    """The <g> elements whose class names `kind` ('tensor', 'op', 'parameter', 'edge', ...)."""
    return [g for g in svg_root.iter(f"{SVG}g") if kind in (g.get("class") or "").split()]


def edge_texts(svg_root: ET.Element) -> list[str]:
    """Every edge's label, its lines joined by newlines."""
    return ["\n".join(text_of(g)) for g in boxes(svg_root, "edge")]


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


class Undocumented(tg.Node):
    # Deliberately without a docstring, so without formulas to read.
    def forward(self, A):
        return 2 * A

    def local_grads(self, dZ):
        return (2 * dZ,)


def snapshot(tensors: dict[str, tg.Tensor]) -> dict[str, dict]:
    """Everything drawing could disturb: each tensor's arrays (identity and values), flags and saved arrays."""
    return {
        name: {
            "data": (id(t.data), t.data.copy()),
            "flags": (t.requires_grad, t.retains_grad),
            "grad": None if t.grad is None else (id(t.grad), t.grad.copy()),
            "saved": None if t.node is None or t.node.saved is None else tuple(map(id, t.node.saved)),
            "released": t.node is not None and t.node.saved is None,
        }
        for name, t in tensors.items()
    }


def assert_same(before: dict[str, dict], after: dict[str, dict]) -> None:
    assert before.keys() == after.keys()
    for name, fields in before.items():
        for field, value in fields.items():
            np.testing.assert_equal(after[name][field], value, err_msg=f"{name}: {field} changed")
