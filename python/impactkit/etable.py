"""Publication tables of several models side by side (like ``fixest::etable`` or stargazer).

>>> tab = ik.etable([fit1, fit2], labels=["Simple", "Controls"], stats=("nobs", "r2", "adj_r2"))
>>> print(tab)                 # fixed-width text
>>> tab.to_markdown(); tab.to_latex(); tab.to_html(); tab.to_dataframe()

Each model column shows estimates with significance stars (* p<0.1, ** p<0.05, *** p<0.01) and
standard errors beneath, then the chosen fit statistics, absorbed fixed effects (if any model has
them) and the standard-error type of each model.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ._render import (HTML_CELL, HTML_NOTE, HTML_RULE_MID, HTML_RULE_TOP, HTML_TABLE_STYLE, HTML_TXT,
                      STAR_NOTE, format_number, html_escape, latex_escape, latex_number, latex_stars,
                      markdown_escape, stars as _stars)

__all__ = ["etable", "ETable", "STATS"]


def _get(res, name):
    v = getattr(res, name, None)
    return v() if callable(v) else v


def _stat_int(res, name):
    v = _get(res, name)
    if v is None:
        return ""
    try:
        if np.isnan(float(v)):
            return "NaN"
    except (TypeError, ValueError):
        return str(v)
    return f"{int(v):,}"


def _stat_float(name):
    def fmt(res, digits):
        v = _get(res, name)
        return "" if v is None else format_number(float(v), max(digits, 4) if name.startswith(("r2", "adj")) else digits)
    return fmt


def _stat_r2_within(res, digits):
    if not getattr(res, "fixed_effects", None):
        return ""
    return _stat_float("r2_within")(res, digits)


def _stat_clusters(res, digits):
    nc = getattr(res, "n_clusters", None) or {}
    if not nc:
        return ""
    return ", ".join(f"{int(g):,}" for g in nc.values())


def _stat_df_resid(res, digits):
    v = _get(res, "df_resid")
    return "" if v is None else f"{float(v):g}"


#: stat name -> (row label, formatter(result, digits) -> str)
STATS: Dict[str, Tuple[str, object]] = {
    "nobs": ("Observations", lambda r, d: _stat_int(r, "nobs")),
    "nobs_missing": ("Rows dropped (missing)", lambda r, d: _stat_int(r, "nobs_missing")),
    "r2": ("R²", _stat_float("r2")),
    "adj_r2": ("Adj. R²", _stat_float("adj_r2")),
    "r2_within": ("Within R²", _stat_r2_within),
    "sigma": ("Residual SE", _stat_float("sigma")),
    "rss": ("RSS", _stat_float("rss")),
    "df_resid": ("Residual df", _stat_df_resid),
    "n_clusters": ("Clusters", _stat_clusters),
    "pseudo_r2": ("Pseudo R²", lambda r, d: _stat_float("pseudo_r2")(r, max(d, 4))),
    "loglik": ("Log-likelihood", _stat_float("loglik")),
}

_SE_WRAP = {"parentheses": ("(", ")"), "brackets": ("[", "]")}


def _vcov_label(res) -> str:
    vt = str(getattr(res, "vcov_type", "") or "")
    nc = getattr(res, "n_clusters", None) or {}
    if nc and vt.upper().startswith("CR"):
        vt += " (" + ", ".join(str(k) for k in nc) + ")"
    return vt


def _match(term: str, patterns: Sequence[str]) -> bool:
    for p in patterns:
        if term == p:
            return True
        try:
            if re.search(p, term):
                return True
        except re.error:
            pass
    return False


def _as_patterns(x, name) -> Optional[List[str]]:
    if x is None:
        return None
    if isinstance(x, str):
        return [x]
    try:
        out = [str(p) for p in x]
    except TypeError:
        raise TypeError(f"etable: {name} must be a string or a list of strings (exact term names or regular expressions)")
    return out


class ETable:
    """Side-by-side table of several fitted models. Build with :func:`etable`.

    Renderings: :meth:`to_dataframe`, :meth:`to_markdown`, :meth:`to_latex`, :meth:`to_html`
    (also ``_repr_html_`` for Jupyter) and ``str()`` (fixed-width text).
    """

    def __init__(self, results, *, labels=None, stats=("nobs", "r2"), se="parentheses", stars=True, digits=3,
                 keep=None, drop=None):
        if isinstance(results, dict):
            if labels is None:
                labels = [str(k) for k in results]
            results = list(results.values())
        elif not isinstance(results, (list, tuple)):
            results = [results]
        results = list(results)
        if not results:
            raise ValueError("etable: no results given")
        for i, r in enumerate(results):
            for attr in ("coef", "se", "pvalues"):
                if not hasattr(r, attr):
                    raise TypeError(f"etable: result {i + 1} ({type(r).__name__}) has no '{attr}'; pass fitted results such as ik.ols(...)")
        if labels is None:
            labels = [f"({i + 1})" for i in range(len(results))]
        labels = [str(x) for x in labels]
        if len(labels) != len(results):
            raise ValueError(f"etable: {len(labels)} label(s) for {len(results)} model(s)")
        if se not in _SE_WRAP:
            raise ValueError(f"etable: se must be one of {sorted(_SE_WRAP)}, got {se!r}")
        if isinstance(stats, str):
            stats = (stats,)
        stats = tuple(stats or ())
        unknown = [s for s in stats if s not in STATS]
        if unknown:
            raise ValueError(f"etable: unknown stat(s) {unknown}; valid names: {', '.join(STATS)}")
        try:
            digits = int(digits)
        except (TypeError, ValueError):
            raise ValueError(f"etable: digits must be a positive integer, got {digits!r}")
        if digits < 1:
            raise ValueError(f"etable: digits must be a positive integer, got {digits!r}")
        keep_p, drop_p = _as_patterns(keep, "keep"), _as_patterns(drop, "drop")

        self.results = results
        self.labels = labels
        self.stats = stats
        self.se_style = se
        self.show_stars = bool(stars)
        self.digits = digits

        # terms: union in first-appearance order, then keep/drop
        terms: List[str] = []
        seen = set()
        for r in results:
            for t in r.coef.index:
                t = str(t)
                if t not in seen:
                    seen.add(t)
                    terms.append(t)
        if keep_p is not None:
            terms = [t for t in terms if _match(t, keep_p)]
        if drop_p is not None:
            terms = [t for t in terms if not _match(t, drop_p)]
        self.terms = terms

        # cells: {term: [(estimate str, stars, se str) or None per model]}
        open_, close = _SE_WRAP[se]
        self._coef_cells: Dict[str, List[Optional[Tuple[str, str, str]]]] = {}
        coefs = [r.coef.rename(index=str) for r in results]
        ses = [r.se.rename(index=str) for r in results]
        ps = [r.pvalues.rename(index=str) for r in results]
        for t in terms:
            row = []
            for b, s, p in zip(coefs, ses, ps):
                if t in b.index:
                    star = _stars(p.get(t, np.nan)) if self.show_stars else ""
                    row.append((format_number(float(b[t]), digits), star,
                                open_ + format_number(float(s.get(t, np.nan)), digits) + close))
                else:
                    row.append(None)
            self._coef_cells[t] = row

        self.depvars = [str(getattr(r, "depvar", "") or "") for r in results]
        self._stat_rows = [(STATS[s][0], [STATS[s][1](r, digits) for r in results]) for s in stats]
        fe_names: List[str] = []
        for r in results:
            for f in getattr(r, "fixed_effects", None) or []:
                if str(f) not in fe_names:
                    fe_names.append(str(f))
        self._fe_rows = [(name, ["Yes" if name in [str(f) for f in (getattr(r, "fixed_effects", None) or [])] else "No"
                                 for r in results]) for name in fe_names]
        self._vcov_row = ("S.E. type", [_vcov_label(r) for r in results])

    # -- notes -----------------------------------------------------------------------------
    def notes(self) -> List[str]:
        what = "parentheses" if self.se_style == "parentheses" else "brackets"
        out = [f"Standard errors in {what}."]
        if self.show_stars:
            out.append(STAR_NOTE + ".")
        return out

    def _note_line(self) -> str:
        return " ".join(self.notes())

    # -- DataFrame ---------------------------------------------------------------------------
    def to_dataframe(self) -> pd.DataFrame:
        """Strings, one column per model. Index levels (row, value): ``("treat", "estimate")``,
        ``("treat", "std_error")`` for coefficients; ``(label, "")`` for the other rows."""
        idx, data = [], []
        idx.append(("Dependent variable", ""))
        data.append(list(self.depvars))
        for t in self.terms:
            idx.append((t, "estimate"))
            data.append(["" if c is None else c[0] + c[1] for c in self._coef_cells[t]])
            idx.append((t, "std_error"))
            data.append(["" if c is None else c[2] for c in self._coef_cells[t]])
        for label, vals in self._stat_rows + [(f"FE: {n}", v) for n, v in self._fe_rows] + [self._vcov_row]:
            idx.append((label, ""))
            data.append(list(vals))
        index = pd.MultiIndex.from_tuples(idx, names=["row", "value"])
        return pd.DataFrame(data, index=index, columns=pd.Index(self.labels), dtype=object)

    # -- generic row layout used by text / markdown / html / latex -------------------------
    def _sections(self, cell):
        """[(section name, [(label, [cells])])] with cells rendered by ``cell(estimate, stars, se, kind)``."""
        coef_rows = []
        for t in self.terms:
            cells = self._coef_cells[t]
            coef_rows.append((t, [cell("", "", "", "blank") if c is None else cell(c[0], c[1], None, "estimate")
                                  for c in cells], "estimate"))
            coef_rows.append(("", [cell("", "", "", "blank") if c is None else cell(None, None, c[2], "se")
                                   for c in cells], "se"))
        out = [("depvar", [("Dependent variable", list(self.depvars), "text")]),
               ("coef", coef_rows)]
        if self._fe_rows:
            out.append(("fe", [(f"FE: {n}", v, "text") for n, v in self._fe_rows]))
        stat_rows = [(label, v, "stat") for label, v in self._stat_rows] + [(self._vcov_row[0], self._vcov_row[1], "text")]
        out.append(("stats", stat_rows))
        return out

    # -- text --------------------------------------------------------------------------------
    def __str__(self) -> str:
        def cell(est, star, se, kind):
            if kind == "blank":
                return ""
            return se if kind == "se" else est + star

        sections = self._sections(cell)
        all_rows = [r for _, rows in sections for r in rows]
        lw = max([len(r[0]) for r in all_rows] + [0])
        widths = [max([len(lab)] + [len(r[1][j]) for r in all_rows]) for j, lab in enumerate(self.labels)]
        def line(label, cells):
            return (label.ljust(lw) + "  " + "  ".join(c.center(w) for c, w in zip(cells, widths))).rstrip()

        total = lw + 2 + sum(widths) + 2 * (len(widths) - 1)
        out = ["=" * total, line("", self.labels)]
        for name, rows in sections:
            out.append("-" * total)
            for label, cells, _kind in rows:
                out.append(line(label, cells))
        out.append("=" * total)
        out.append(self._note_line())
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

    # -- Markdown ----------------------------------------------------------------------------
    def to_markdown(self) -> str:
        """A GitHub-flavoured Markdown pipe table; stars and other markup characters are escaped."""
        def cell(est, star, se, kind):
            if kind == "blank":
                return ""
            return markdown_escape(se) if kind == "se" else markdown_escape(est + star)

        sections = self._sections(cell)
        rows = []
        for name, srows in sections:
            for label, cells, kind in srows:
                if kind in ("text", "stat"):
                    cells = [markdown_escape(c) for c in cells]
                rows.append([markdown_escape(label)] + list(cells))
        header = [""] + [markdown_escape(lab) for lab in self.labels]
        ncol = len(header)
        widths = [max(3, len(header[j]), *(len(r[j]) for r in rows)) for j in range(ncol)]
        lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
                 "|" + "|".join((":" + "-" * (w + 1)) if j == 0 else (":" + "-" * w + ":") for j, w in enumerate(widths)) + "|"]
        for r in rows:
            lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        lines.append("")
        lines.append(markdown_escape(self._note_line()))
        return "\n".join(lines)

    # -- LaTeX -------------------------------------------------------------------------------
    def to_latex(self, *, caption: Optional[str] = None, label: Optional[str] = None) -> str:
        """A booktabs ``tabular`` (``\\usepackage{booktabs}``); with ``caption``/``label`` it is wrapped
        in a ``table`` float."""
        def cell(est, star, se, kind):
            if kind == "blank":
                return ""
            if kind == "se":
                return se[0] + latex_number(se[1:-1]) + se[-1]
            return latex_number(est) + latex_stars(star)

        m = len(self.labels)
        lines = [f"\\begin{{tabular}}{{l{'c' * m}}}", "\\toprule"]
        lines.append(" & " + " & ".join(latex_escape(x) for x in self.labels) + " \\\\")
        for name, rows in self._sections(cell):
            lines.append("\\midrule")
            for lab, cells, kind in rows:
                if kind == "text":
                    cells = [latex_escape(c) for c in cells]
                elif kind == "stat":
                    cells = [latex_number(c) for c in cells]
                lines.append(latex_escape(lab) + " & " + " & ".join(cells) + " \\\\")
        lines.append("\\bottomrule")
        lines.append(f"\\multicolumn{{{m + 1}}}{{l}}{{\\footnotesize {latex_escape(self._note_line())}}} \\\\")
        lines.append("\\end{tabular}")
        body = "\n".join(lines)
        if caption is None and label is None:
            return body
        wrap = ["\\begin{table}[htbp]", "\\centering"]
        if caption is not None:
            wrap.append(f"\\caption{{{latex_escape(caption)}}}")
        if label is not None:
            wrap.append(f"\\label{{{label}}}")
        return "\n".join(wrap + [body, "\\end{table}"])

    # -- HTML --------------------------------------------------------------------------------
    def to_html(self) -> str:
        """A self-contained HTML table (inline styles; colours inherit, so it reads in light and dark themes)."""
        e = html_escape

        def cell(est, star, se, kind):
            if kind == "blank":
                return ""
            if kind == "se":
                return e(se)
            return e(est) + (f"<sup>{e(star)}</sup>" if star else "")

        m = len(self.labels)
        parts = ['<div class="impactkit-etable" style="color:inherit;">', f'<table style="{HTML_TABLE_STYLE}">', "<thead><tr>"]
        parts.append(f'<th style="{HTML_TXT}{HTML_RULE_TOP}border-bottom:1px solid currentColor;"></th>')
        for lab in self.labels:
            parts.append(f'<th style="{HTML_CELL}text-align:center;{HTML_RULE_TOP}border-bottom:1px solid currentColor;font-weight:600;">{e(lab)}</th>')
        parts.append("</tr></thead><tbody>")
        for si, (name, rows) in enumerate(self._sections(cell)):
            for ri, (lab, cells, kind) in enumerate(rows):
                rule = HTML_RULE_MID if (ri == 0 and si > 0) else ""
                if kind in ("text", "stat"):
                    cells = [e(c) for c in cells]
                tr = [f'<td style="{HTML_TXT}{rule}">{e(lab)}</td>']
                for c in cells:
                    tr.append(f'<td style="{HTML_CELL}text-align:center;white-space:nowrap;{rule}">{c}</td>')
                parts.append("<tr>" + "".join(tr) + "</tr>")
        parts.append("</tbody><tfoot>")
        parts.append(f'<tr><td colspan="{m + 1}" style="{HTML_NOTE}{HTML_RULE_TOP}">{e(self._note_line())}</td></tr>')
        parts.append("</tfoot></table></div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def etable(results, *, labels: Optional[Sequence[str]] = None, stats: Sequence[str] = ("nobs", "r2"),
           se: str = "parentheses", stars: bool = True, digits: int = 3, keep=None, drop=None) -> ETable:
    """A publication table of several models side by side.

    Parameters
    ----------
    results : a fitted result, a list of them, or a dict ``{column label: result}``.
    labels : column headers (default ``(1)``, ``(2)``, ...).
    stats : fit statistics to show, from ``nobs, nobs_missing, r2, adj_r2, r2_within, sigma, rss,
        df_resid, n_clusters, pseudo_r2, loglik`` (a statistic a model does not have is left blank).
    se : ``"parentheses"`` or ``"brackets"`` around the standard errors.
    stars : significance stars, * p<0.1, ** p<0.05, *** p<0.01.
    digits : significant digits of estimates and standard errors (see ``format_number``).
    keep, drop : term names or regular expressions (``re.search``); ``keep`` first, then ``drop``.
    """
    return ETable(results, labels=labels, stats=stats, se=se, stars=stars, digits=digits, keep=keep, drop=drop)
