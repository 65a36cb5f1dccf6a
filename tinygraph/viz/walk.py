"""Collecting the part of a graph that a picture shows, without recursion."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tinygraph.backend import size
from tinygraph.tensor import Tensor

# Past this many boxes (tensors plus operations) Graphviz's layout takes seconds and
# the picture is unreadable anyway, so draw() shows the part nearest the output.
MAX_NODES = 400


@dataclass(frozen=True)
class Edge:
    """`source` is input number `position` of the operation that produced `target`."""

    source: Tensor
    target: Tensor
    position: int


@dataclass
class Walk:
    """The tensors and operations a picture shows.

    An operation is identified by the tensor it produced (each node has exactly
    one output), so `tensors` holds everything: a tensor whose `node` is not None
    is drawn together with its operation. Constants are included, although the
    engine's topological order skips them: the picture shows the notebook's X.
    """

    root: Tensor
    tensors: list[Tensor]
    edges: list[Edge]
    # Operations with inputs beyond the limit, and how much was left out.
    cut: list[Tensor]
    hidden_tensors: int
    hidden_ops: int
    max_nodes: int

    def __post_init__(self) -> None:
        self.position = {id(t): i for i, t in enumerate(self.tensors)}
        # A one-number constant (the 2 of `2 * x`) is called by its value; others t1, t2, ...
        unnamed = [t for t in self.tensors if not t.name]
        numbers = [t for t in unnamed if t.node is None and not t.requires_grad and size(t.data) == 1]
        self.automatic_names = {id(t): f"{t.item():g}" for t in numbers}
        others = [t for t in unnamed if id(t) not in self.automatic_names]
        self.automatic_names.update((id(t), f"t{k}") for k, t in enumerate(others, start=1))
        self._consumers: dict[int, list[Edge]] = {}
        for edge in self.edges:
            self._consumers.setdefault(id(edge.source), []).append(edge)

    def __contains__(self, tensor: Tensor) -> bool:
        return id(tensor) in self.position

    def name(self, tensor: Tensor) -> str:
        """The tensor's name; for an unnamed one its value if it is a one-number constant, else t1, t2, ..."""
        return tensor.name or self.automatic_names[id(tensor)]

    def consumers(self, tensor: Tensor) -> list[Edge]:
        """The drawn edges that carry `tensor` into an operation, in drawing order."""
        return self._consumers.get(id(tensor), [])


def walk(root: Tensor, max_nodes: int = MAX_NODES) -> Walk:
    """Everything that produced `root`, nearest first, up to `max_nodes` boxes.

    A breadth-first search from `root` over every node's inputs (constants too).
    Once the next tensor would take the picture past `max_nodes` boxes, the search
    only counts what it leaves out, so a 100,000-node chain costs one pass.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"draw: expected a Tensor, not {type(root).__name__}")
    if max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be at least 1, not {max_nodes}")
    drawn: list[Tensor] = []
    boxes = hidden_tensors = hidden_ops = 0
    full = False
    seen = {id(root)}
    queue = deque([root])
    while queue:
        tensor = queue.popleft()
        cost = 1 if tensor.node is None else 2
        full = full or boxes + cost > max_nodes
        if full:
            hidden_tensors += 1
            hidden_ops += cost - 1
        else:
            drawn.append(tensor)
            boxes += cost
        if tensor.node is not None:
            for inp in tensor.node.inputs:
                if id(inp) not in seen:
                    seen.add(id(inp))
                    queue.append(inp)
    drawn.reverse()  # roughly inputs first, which Graphviz lays out more tidily
    kept = {id(t) for t in drawn}
    edges: list[Edge] = []
    cut: list[Tensor] = []
    for target in drawn:
        inputs = target.node.inputs if target.node is not None else ()
        edges.extend(Edge(source, target, i) for i, source in enumerate(inputs) if id(source) in kept)
        if any(id(source) not in kept for source in inputs):
            cut.append(target)
    return Walk(root, drawn, edges, cut, hidden_tensors, hidden_ops, max_nodes)
