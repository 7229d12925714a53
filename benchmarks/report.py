"""The Markdown of ``run.py``'s part of BENCHMARKS.md, from the rows its measurements return:
the headline's lines and sections 1-5 (each section's own module writes its lines; section 4,
the plot, draws from sections 2 and 3), each a marked block stamped with the run that measured
it (``sections.write_blocks`` writes them: all after a whole run, some after ``--sections``)."""
from __future__ import annotations

from pathlib import Path

from run_mentor_match import headline_mentor_match, mentor_match_section
from run_quality import headline_quality, quality_section
from run_scale import headline_scale, scale_section
from run_speed import SPEED_PEERS, headline_speed, speed_section


def plot(speed_rows, mm_rows, path: Path) -> bool:
    """Section 4: solve time against size, log-log, from sections 2 and 3's rows, drawn to
    ``path``; False where matplotlib is missing (the section says so)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for peer in SPEED_PEERS:
        pts = sorted((r["size_pairs"], r["time"]) for r in speed_rows
                     if r["peer"] == peer and r.get("status_run") == "ok" and not r.get("k"))
        if pts:
            line, = ax.plot(*zip(*pts), marker="o", label=peer)
            sp = [(r["size_pairs"], r["time"]) for r in speed_rows
                  if r["peer"] == peer and r.get("status_run") == "ok" and r.get("k")]
            if sp:
                ax.plot(*zip(*sp), marker="*", markersize=12, linestyle="none", color=line.get_color(),
                        label=f"{peer}, sparse candidates")
    for label, idx in (("mentor-match 7.0.1 (3 partners each)", 1), ("mentormatch joint flow (3 partners each)", 2)):
        pts = sorted((row[0] * row[0], row[idx]["time"]) for row in mm_rows if row[idx].get("status_run") == "ok")
        if pts:
            ax.plot(*zip(*pts), marker="s", linestyle="--", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("problem size: mentees x mentors (candidate pairs)")
    ax.set_ylabel("time to solve (s)")
    ax.set_title("mentormatch vs peers: solve time")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


#: run.py's sections, in file order: each measured and written on its own with ``--sections``
#: (the headline's lines drawn from a section are written with it; the plot, which needs the
#: speed and mentor-match rows, with a run of both). Each: its number in the report, and its
#: headline lines and its block's lines from the run's rows (``rows[name]``, for the speed
#: section with the scoring table's rows and the timeout).
PARTS = {
    "quality": (1, headline_quality, lambda rows: quality_section(rows["quality"])),
    "speed": (2, headline_speed, lambda rows: speed_section(rows["speed"], rows["scoring"], rows["timeout"])),
    "mentor_match": (3, headline_mentor_match, lambda rows: mentor_match_section(rows["mentor_match"])),
    "scale": (5, headline_scale, lambda rows: scale_section(rows["scale"])),
}
SECTIONS = tuple(PARTS)
#: Its marked blocks, in file order (``run_headline_X``: the headline's lines from section X).
BLOCKS = ("run_machine", *(f"run_headline_{s}" for s in SECTIONS), "run_quality", "run_speed",
          "run_mentor_match", "run_plot", "run_scale")


def stamp(info, run, command) -> str:
    """The line that says which run measured a section: when, which code, how long, what load."""
    return (f"*Measured {run['date']} at git {info.get('git', '?')} by `{command}` in "
            f"{run['minutes']:.1f} min; load average (1 min) {run['load'][0]:.1f} at the start, "
            f"{run['load'][1]:.1f} at the end, on the machine above.*")


def machine_lines(info) -> list[str]:
    """The machine block (``harness.machine``'s description)."""
    return ["## Machine", "",
            f"- CPU: {info.get('cpu', '?')}, {info.get('cores')} cores; RAM {info.get('ram_gib', 0):.1f} GiB",
            f"- Python {info['python']} on {info['platform']}",
            "- " + ", ".join(f"{k} {v}" for k, v in info.items()
                             if k not in ("python", "platform", "date", "cores", "cpu", "ram_gib", "git")
                             and v is not None), ""]


def report_blocks(rows: dict, runs: dict, info, command: str, plot_name) -> dict[str, list[str]]:
    """The blocks of the sections this run measured (``rows`` has theirs), each stamped."""
    def stamped(lines):  # the stamp under the section's title
        return [*lines[:2], stamp(info, runs[name], command), "", *lines[2:]]

    # the machine block only with a whole run: the sections it describes were measured there
    blocks = {"run_machine": machine_lines(info)} if all(name in rows for name in SECTIONS) else {}
    for name in SECTIONS:
        if name not in rows:
            continue
        number, headline, section = PARTS[name]
        head = headline(rows[name])
        blocks[f"run_headline_{name}"] = (
            [*head, f"- *The lines above: section {number}'s run, "
                    f"{runs[name]['date']}, git {info.get('git', '?')}.*", ""] if head else [])
        blocks[f"run_{name}"] = stamped(section(rows))
    if "speed" in rows and "mentor_match" in rows:
        blocks["run_plot"] = ["## 4. Time against size", "",
                              *([f"![solve time against problem size, log-log]({plot_name})", ""] if plot_name
                                else ["(matplotlib not available: no plot)", ""]),
                              f"*Drawn from sections 2 and 3 of the run of {runs['speed']['date']}.*", ""]
    return blocks


def write_report(path: Path, blocks: dict[str, list[str]], total_minutes: float):
    """Write run.py's part of the report (``sections.write_blocks``): the whole of it after a
    whole run, else only the blocks of the sections run; the other scripts' sections stay."""
    from sections import write_blocks

    head = ["# Benchmarks", "",
            "The headline and sections 1-5 are written by `benchmarks/run.py` (`make bench`; the whole "
            f"run took {total_minutes:.1f} minutes last time); `benchmarks/run.py --sections speed "
            "--write BENCHMARKS.md` refreshes one section (and its headline lines) in a few minutes. "
            "Each section states the run that measured it: date, git commit, duration, load. Every "
            "ratio compares figures measured in the same run on this machine. Re-run to refresh; do "
            "not edit by hand.", ""]
    write_blocks(path, head, list(BLOCKS), blocks, before={"run_headline_quality": ["## Headline", ""]})
