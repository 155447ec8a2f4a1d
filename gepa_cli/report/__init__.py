"""`gepa report`: a self-contained HTML report of a run directory.

`write_report` reads the run's files (data.py), renders charts as inline SVG
(svg.py) and the page (html.py), and writes it atomically. The file works offline:
no scripts, no external fonts, styles or images.
"""

from __future__ import annotations

from pathlib import Path

from gepa_cli.report.data import load_report_data
from gepa_cli.report.html import render_report
from gepa_cli.report.values import ReportData
from gepa_cli.rundir.directory import write_atomic

REPORT_FILE = "report.html"

__all__ = ["REPORT_FILE", "ReportData", "load_report_data", "render_report", "write_report"]


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the HTML report of `run_dir` to `out` (default: run_dir/report.html); return it.

    Raises `RunDirError` when `run_dir` is not a run directory.
    """
    target = out if out is not None else run_dir / REPORT_FILE
    page = render_report(load_report_data(run_dir))
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, page)
    return target
