"""Plots for the HTML report, drawn with matplotlib's Agg backend and returned as inline
``data:image/png;base64,...`` URIs (nothing is loaded from the network; no global state changed:
figures are built with the object API, never pyplot)."""
from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd

__all__ = ["score_distribution", "contributions_plot", "load_plot", "distance_plot", "group_plot",
           "to_data_uri", "sensitivity_plot"]

_BLUE, _GREY, _ORANGE = "#2b6cb0", "#a0aec0", "#dd6b20"


def _figure(w: float = 6.0, h: float = 3.4):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def to_data_uri(fig) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def score_distribution(histogram: pd.DataFrame) -> str | None:
    """Pair scores of the result vs the mean of the random assignments (from Audit.histogram)."""
    if not len(histogram):
        return None
    fig, ax = _figure()
    left, right = histogram["bin_left"].to_numpy(), histogram["bin_right"].to_numpy()
    width = right - left
    ax.bar(left, histogram["random_mean"], width=width, align="edge", color=_GREY, alpha=0.8,
           label="random assignment (mean over seeds)")
    ax.bar(left, histogram["optimal"], width=width, align="edge", color=_BLUE, alpha=0.65,
           label="this pairing")
    ax.set_xlabel("pair score")
    ax.set_ylabel("pairs")
    ax.set_title("Score distribution vs random assignment")
    ax.legend(frameon=False, fontsize=8, loc="best")
    return to_data_uri(fig)


def contributions_plot(contributions: pd.DataFrame) -> str | None:
    """Mean contribution of each feature to the chosen pairs' scores, with the spread."""
    if contributions is None or not len(contributions.columns) or not len(contributions):
        return None
    fig, ax = _figure()
    cols = list(contributions.columns)
    data = [contributions[c].to_numpy(dtype=float) for c in cols]
    ax.boxplot(data, orientation="horizontal", showfliers=False, patch_artist=True,
               boxprops={"facecolor": "#bee3f8", "edgecolor": _BLUE}, medianprops={"color": _ORANGE})
    ax.scatter([d.mean() for d in data], np.arange(1, len(cols) + 1), color=_BLUE, zorder=3,
               s=18, label="mean")
    ax.set_yticks(np.arange(1, len(cols) + 1), cols)
    ax.set_xlabel("contribution to the pair score (weight x value)")
    ax.set_title("Contributions per feature")
    ax.legend(frameon=False, fontsize=8)
    return to_data_uri(fig)


def load_plot(per_mentor: pd.DataFrame) -> str | None:
    """Mentors by load, coloured by whether they are full."""
    if not len(per_mentor):
        return None
    fig, ax = _figure()
    load = per_mentor["load"].to_numpy(dtype=float)
    full = load >= per_mentor["capacity"].to_numpy(dtype=float) - 1e-9
    values = np.unique(np.round(load, 6))
    n_full = [int(((np.round(load, 6) == v) & full).sum()) for v in values]
    n_room = [int(((np.round(load, 6) == v) & ~full).sum()) for v in values]
    labels = [f"{v:g}" for v in values]
    ax.bar(labels, n_room, color=_BLUE, label="with room")
    ax.bar(labels, n_full, bottom=n_room, color=_ORANGE, label="full")
    ax.set_xlabel("mentees per mentor (load)")
    ax.set_ylabel("mentors")
    ax.set_title("Mentor load")
    ax.set_ylim(0, max(np.add(n_room, n_full).max() * 1.2, 1))
    ax.legend(frameon=False, fontsize=8, ncols=2, loc="upper left")
    return to_data_uri(fig)


def distance_plot(values: np.ndarray, what: str) -> str | None:
    """Histogram of a geography fact of the chosen pairs (distance_km or shared_hours)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    fig, ax = _figure()
    if what == "shared_hours":
        edges = np.arange(np.floor(values.min()), np.ceil(values.max()) + 2) - 0.5
        ax.hist(values, bins=edges, color=_BLUE)
        ax.set_xlabel("shared working hours")
        ax.set_title("Shared working hours of the pairs")
    else:
        ax.hist(values, bins=20, color=_BLUE)
        ax.set_xlabel("distance between mentee and mentor (km)")
        ax.set_title("Distance of the pairs")
    ax.set_ylabel("pairs")
    return to_data_uri(fig)


def group_plot(fairness: pd.DataFrame, overall: float, ratio: float = 0.8,
               max_groups: int = 40) -> str | None:
    """Matched share of each group (one panel row per group column, from Audit.fairness),
    with the overall share and the flag line at ``ratio`` x overall; flagged groups in orange
    and their mean score written beside the bar. At most ``max_groups`` groups (the smallest
    shares first) are drawn."""
    if fairness is None or not len(fairness):
        return None
    f = fairness.sort_values(["attribute", "matched_share", "group"]).copy()
    if len(f) > max_groups:
        f = f.nsmallest(max_groups, "matched_share").sort_values(["attribute", "matched_share", "group"])
    labels = [f"{a}: {g}" for a, g in zip(f["attribute"], f["group"])]
    fig, ax = _figure(6.0, max(2.2, 0.28 * len(f) + 1.2))
    y = np.arange(len(f))[::-1]
    colors = [_ORANGE if fl else _BLUE for fl in f["flag"]]
    ax.barh(y, f["matched_share"], color=colors, height=0.7)
    ax.axvline(overall, color="#2d3748", lw=1)
    ax.axvline(ratio * overall, color=_ORANGE, lw=1, ls="--")
    for yy, share, mean in zip(y, f["matched_share"], f["mean_score"]):
        text = f"{share:.0%}" + ("" if not np.isfinite(mean) else f", mean score {mean:.2f}")
        ax.text(min(share, 1.0) + 0.01, yy, text, va="center", fontsize=7)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlim(0, 1.6)
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_xlabel(f"share of the group's mentees with a mentor\n(solid line: everyone, {overall:.0%}; "
                  f"dashed: flag line, {ratio:g} x that)", fontsize=8)
    ax.set_title("Matched share by group (orange: flagged)")
    return to_data_uri(fig)


def sensitivity_plot(table: pd.DataFrame, n_mentees: int | None = None) -> str:
    """A tornado chart of a :func:`mentormatch.whatif.sensitivity` table, as an inline
    ``data:image/png`` URI for an HTML report (matplotlib's Agg canvas; no global state is
    changed).

    Bars to the left: mentees whose mentors change when the feature's weight goes down; to the
    right: when it goes up. With ``n_mentees``, the axis shows shares of the mentees.
    """
    fig, ax = _figure(6.0, 0.45 * max(len(table), 3) + 1.2)
    scale = 100.0 / n_mentees if n_mentees else 1.0
    down = table["changed_down"].astype("Float64").fillna(0).to_numpy(dtype=float) * scale
    up = table["changed_up"].astype("Float64").fillna(0).to_numpy(dtype=float) * scale
    y = np.arange(len(table))[::-1]
    ax.barh(y, -down, color=_GREY, label="weight down")
    ax.barh(y, up, color=_BLUE, label="weight up")
    ax.set_yticks(y, [str(f) for f in table.index])
    ax.axvline(0, color="black", linewidth=0.8)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(t):g}" for t in ticks])
    ax.set_xlabel("mentees whose mentor changes" + (" (%)" if n_mentees else ""))
    ax.set_title("Sensitivity of the pairing to each weight")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return to_data_uri(fig)
