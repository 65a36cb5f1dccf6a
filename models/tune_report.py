"""What `tinygraph tune` shows of a study: the table of trials (printed and as CSV) and Optuna's plots as PNGs."""

from __future__ import annotations

import csv
import functools
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from tinygraph.models.data import write_atomically
from tinygraph.models.tune import LOST

LEGEND_TRIALS = 12  # the curves plot names the trials up to this many


def trial_rows(study: optuna.Study, metric: str) -> list[dict[str, Any]]:
    """One row per trial: number, state, the metric, seconds, the parameters, and why it stopped early."""
    names = sorted({name for t in study.trials for name in t.params})
    rows = []
    for t in study.trials:
        state = "LOST" if LOST in t.user_attrs else t.state.name
        value = t.value if t.state == TrialState.COMPLETE else None  # a pruned trial's is its last reported one
        row = {"number": t.number, "state": state, metric: value, "seconds": t.user_attrs.get("seconds")}
        rows.append(row | {name: t.params.get(name) for name in names} | {"note": t.user_attrs.get("note", "")})
    return rows


def write_plots(study: optuna.Study, folder: Path) -> list[str]:
    """Optuna's matplotlib plots as PNGs in `folder`: history, slice, the reported curves, importances.

    (Optuna's contour plot needs SciPy, which nothing else here does; the slice plot shows each parameter.)
    """
    import matplotlib.pyplot as plt  # Optuna draws with pyplot: its figures are closed at the end
    from matplotlib.ticker import NullFormatter
    from optuna.visualization import matplotlib as plots

    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    names = sorted({name for t in complete for name in t.params})
    wanted = {"history.png": plots.plot_optimization_history, "slice.png": plots.plot_slice} if complete else {}
    if any(t.intermediate_values for t in study.trials):
        wanted["curves.png"] = plot_curves
    if len(complete) >= 2 and names:
        evaluator = optuna.importance.PedAnovaImportanceEvaluator()  # needs no scikit-learn, unlike fANOVA
        wanted["importances.png"] = functools.partial(plots.plot_param_importances, evaluator=evaluator)
    written = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's notes on experimental plots and few trials: not the user's concern
        for name, plot in wanted.items():
            axes = plot(study)
            figure = (axes.flat[0] if isinstance(axes, np.ndarray) else axes).figure
            figure.set_size_inches(max(6.4, 3.5 * len(figure.axes)), 4.8)  # a slice plot's panels side by side
            for panel in figure.axes:  # Optuna labels a log axis's minor ticks too, and they overlap
                panel.xaxis.set_minor_formatter(NullFormatter())
            write_atomically(  # tight: Optuna puts legends outside the axes
                folder / name, lambda f, figure=figure: figure.savefig(f, format="png", dpi=100, bbox_inches="tight")
            )
            written.append(name)
    plt.close("all")
    return written


def plot_curves(study: optuna.Study) -> Any:
    """Optuna's plot of the reported values, saying what they are: the metric's curve of each trial."""
    from optuna.visualization.matplotlib import plot_intermediate_values

    axes = plot_intermediate_values(study)
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    ylabel = "validation accuracy" if maximize else "validation loss"
    axes.set(title="Validation curves the pruner judged", xlabel="epoch", ylabel=ylabel)
    if len(study.trials) > LEGEND_TRIALS:  # a legend of every trial would be taller than the plot
        axes.get_legend().remove()
    return axes


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as aligned columns; numbers to 4 significant digits."""
    if not rows:
        return "no trials"
    cells = [[str(key) for key in rows[0]]] + [[format_cell(value) for value in row.values()] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells)


def format_cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["number"])
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(path, lambda f: f.write(text.getvalue().encode()))
