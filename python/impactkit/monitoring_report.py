"""Donor and board reports of a results framework: one self-contained HTML page and its Markdown twin.

``ResultsFramework.report(path, title=..., data=..., period=...)`` writes ``path`` (HTML: inline CSS,
charts as base64 PNG, no scripts, no network) and the same content as Markdown beside it
(``.md``): status overview, the indicator table with status colours and intervals, progress and
trend charts, the disaggregation table (``ik.disaggregate``), panel retention (``ik.panel_monitoring``)
and a methods box stating every convention (interval method, design, adjustment, status rule).

``python -m impactkit.monitoring_report OUTDIR`` writes the report of the shipped synthetic
monitoring panel (``make demo``).
"""
from __future__ import annotations

import base64
import io
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from ._render import CellTable, html_escape
from .results_framework import _STATUS_COLOURS

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1b1f24;line-height:1.45}
h1{font-size:1.6em;margin-bottom:0.1em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}
.sub{color:#555}.badge{display:inline-block;padding:0.2em 0.7em;border-radius:1em;color:#fff;margin-right:0.5em;font-weight:600}
.methods{background:#f4f6f8;border-left:4px solid #456;padding:0.6em 1em;font-size:0.92em}
img{max-width:100%;height:auto}.impactkit-table{overflow-x:auto}
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _frame_table(df: pd.DataFrame, title: str, digits: int = 3) -> CellTable:
    from ._render import format_number

    rows = [[format_number(v, digits) if isinstance(v, (float, np.floating)) else str(v) for v in r] for r in df.itertuples(index=False)]
    return CellTable(list(map(str, df.columns)), rows, title=title,
                     align=["l" if not pd.api.types.is_numeric_dtype(df[c]) else "r" for c in df.columns])


def write_report(framework, path, *, title: str, data: pd.DataFrame, period: str, by=None, design=None,
                 disaggregate_by=None, reference: Optional[dict] = None, adjust: str = "holm", unit_id: Optional[str] = None,
                 retention_covariates: Optional[str] = None, level: float = 0.95, subtitle: str = ""):
    """Writes the HTML report to ``path`` and its Markdown twin beside it; returns (html path, md path)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from . import __version__
    from .disaggregate import disaggregate
    from .panel_monitoring import panel_monitoring

    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        path = path.with_suffix(".html")
    path.parent.mkdir(parents=True, exist_ok=True)
    ev = framework.evaluate(data, period=period, by=by, design=design, level=level)
    latest = ev.latest()
    overview = latest[latest["dimension"] == "all"]["status"].value_counts()
    summary = ev.summary()

    fig, ax = plt.subplots(figsize=(8, 0.8 + 0.5 * len(framework.indicators)))
    ev.plot(kind="progress", ax=ax)
    progress_png = _png(fig)
    axes = ev.plot(kind="trend")
    trend_png = _png(axes[0].figure)

    sections = []  # (heading, html, markdown)
    cols = {r["column"]: r["name"] for _, r in framework.indicators.iterrows() if isinstance(r["column"], str)}
    periods = sorted(pd.unique(data[period]))
    dis = None
    if disaggregate_by:
        dis = disaggregate(data, outcomes=cols, by=disaggregate_by, period=period, baseline=periods[0], endline=periods[-1],
                           design=design, reference=reference, adjust=adjust, level=level)
        sections.append((f"Disaggregation: change from {periods[0]} to {periods[-1]} by group", dis.to_html(), dis.to_markdown()))
    pm = None
    if unit_id is not None:
        pm = panel_monitoring(data, unit_id=unit_id, period=period, by=disaggregate_by, covariates=retention_covariates)
        ret = pm.retention[["period", "dimension", "group", "n_baseline", "n_retained", "retention", "conf_low", "conf_high"]]
        t1 = _frame_table(ret, "Retention of baseline households (Wilson intervals)")
        t2 = _frame_table(pm.attrition_tests, "Tests of differential attrition")
        sections.append(("Panel retention and attrition", t1.to_html() + t2.to_html(), t1.to_markdown() + "\n\n" + t2.to_markdown()))

    methods = ev.notes() + (dis.notes() if dis is not None else []) + (pm.notes() if pm is not None else [])
    methods.append("Design: " + (repr(design) if design is not None else "none given; observations treated as independent within "
                                 "period and group") + ".")
    methods.append(f"Produced by impactkit {__version__}; every number can be recomputed from the data with the functions named here "
                   "(ik.ResultsFramework.evaluate, ik.disaggregate, ik.panel_monitoring).")

    badges = "".join(f'<span class="badge" style="background:{_STATUS_COLOURS[s]}">{html_escape(s)}: {int(overview.get(s, 0))}</span>'
                     for s in ("on track", "at risk", "off track"))
    html = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html_escape(title)}</title>",
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{_CSS}</style></head><body>",
            f"<h1>{html_escape(title)}</h1>",
            f"<p class=\"sub\">{html_escape(subtitle)} {len(data):,} observations; periods {html_escape(', '.join(map(str, periods)))}.</p>",
            f"<div id=\"status-overview\">{badges}</div>",
            "<h2>Indicators (latest period)</h2>", f"<div id=\"indicator-table\">{summary.to_html()}</div>",
            "<h2>Progress towards targets</h2>",
            f"<img id=\"progress-chart\" alt=\"Progress towards targets with intervals\" src=\"data:image/png;base64,{progress_png}\">",
            "<h2>Indicator trends</h2>",
            f"<img id=\"trend-chart\" alt=\"Indicator trends with intervals\" src=\"data:image/png;base64,{trend_png}\">"]
    md = [f"# {title}", "", f"{subtitle} {len(data):,} observations; periods {', '.join(map(str, periods))}.".strip(), "",
          "Status: " + ", ".join(f"{s}: {int(overview.get(s, 0))}" for s in ("on track", "at risk", "off track")), "",
          "## Indicators (latest period)", "", summary.to_markdown(), "", "## Progress towards targets", "",
          f"![Progress towards targets](data:image/png;base64,{progress_png})", "", "## Indicator trends", "",
          f"![Indicator trends](data:image/png;base64,{trend_png})", ""]
    for i, (head, h, m) in enumerate(sections):
        html += [f"<h2>{html_escape(head)}</h2>", f"<div id=\"section-{i}\">{h}</div>"]
        md += [f"## {head}", "", m, ""]
    html += ["<h2>Methods</h2>", "<div class=\"methods\" id=\"methods\"><ul>"] + [f"<li>{html_escape(n)}</li>" for n in methods]
    html += ["</ul></div></body></html>"]
    md += ["## Methods", ""] + [f"- {n}" for n in methods] + [""]
    path.write_text("\n".join(html), encoding="utf-8")
    md_path = path.with_suffix(".md")
    md_path.write_text("\n".join(md), encoding="utf-8")
    return path, md_path


def demo(out_dir="reports"):
    """The monitoring report of the shipped synthetic panel (``make demo``)."""
    from . import SurveyDesign
    from .datasets import load
    from .datasets.monitoring import monitoring_framework
    from .results_framework import ResultsFramework

    data = load("monitoring_panel")
    design = SurveyDesign(data, weights="weight", strata="district", psu="village", nest=True)
    rf = ResultsFramework(monitoring_framework())
    return rf.report(Path(out_dir) / "monitoring_report.html", title="Programme monitoring report (synthetic data)", data=data,
                     period="round", design=design, disaggregate_by=["head_sex", "disability", "area"],
                     reference={"head_sex": "M", "disability": 0, "area": "urban"}, unit_id="household",
                     retention_covariates="income + C(area) + C(head_age_band)",
                     subtitle="Households followed over rounds 0 (2022) to 3 (2025).")


if __name__ == "__main__":
    html, md = demo(sys.argv[1] if len(sys.argv) > 1 else "reports")
    print(f"wrote {html} and {md}")
