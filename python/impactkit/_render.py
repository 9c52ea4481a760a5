"""Rendering of results: number formatting, escaping, and the :class:`Summary` object.

Everything here works on a duck-typed result exposing

- ``title`` (str, e.g. ``"OLS"``) and ``depvar`` (str),
- ``tidy()`` → DataFrame with columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``
  (``tidy(level=...)`` is used when the method accepts it),
- ``fit_stats()`` → list of ``(label, formatted value)`` pairs,
- ``notes()`` → list of plain-words sentences (conventions, dropped rows, ...),
- optionally ``df_inference`` (Series; all infinite means normal reference: "z" rather than "t").

:func:`format_number` is the one number formatter used by summaries, ``etable`` and reports, so the
same value prints the same way everywhere.
"""
from __future__ import annotations

import html as _html
import inspect
import math
import textwrap
from numbers import Integral, Real
from typing import List, Sequence, Tuple

import numpy as np

__all__ = ["format_number", "format_pvalue", "stars", "STAR_LEVELS", "STAR_NOTE", "latex_escape",
           "html_escape", "markdown_escape", "Summary"]

#: (threshold, symbol), most significant first: * p<0.1, ** p<0.05, *** p<0.01.
STAR_LEVELS: Tuple[Tuple[float, str], ...] = ((0.01, "***"), (0.05, "**"), (0.1, "*"))
STAR_NOTE = "Significance: * p<0.1, ** p<0.05, *** p<0.01"

_SCI_HIGH = 1e6   # at or above: scientific notation
_SCI_LOW = 1e-4   # below (and non-zero): scientific notation


# --------------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------------
def format_number(x, digits: int = 4) -> str:
    """Formats a number to ``digits`` significant digits, for tables meant to be read.

    - integers (Python or numpy integer types) print exactly: ``445``;
    - floats print with ``digits`` significant digits in fixed notation (``1676``, ``0.08212``,
      ``-3.142``), never dropping digits left of the decimal point (``123457`` for 123456.7);
    - magnitudes ≥ 1e6 or < 1e-4 print in scientific notation (``1.235e+06``, ``4.200e-07``);
    - zero prints ``0``; NaN prints ``NaN``; infinities ``Inf`` / ``-Inf``; ``None`` prints ``""``.
    """
    if not isinstance(digits, Integral) or isinstance(digits, bool) or digits < 1:
        raise ValueError(f"format_number: digits must be a positive integer, got {digits!r}")
    digits = int(digits)
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, Integral):
        return str(int(x))
    if not isinstance(x, Real):
        try:
            x = float(x)
        except (TypeError, ValueError):
            return str(x)
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= _SCI_HIGH or ax < _SCI_LOW:
        return f"{x:.{digits - 1}e}"
    mag = math.floor(math.log10(ax))
    dec = max(0, digits - 1 - mag)
    s = f"{x:.{dec}f}"
    # rounding may carry into a new leading digit (9.99996 -> 10.000): keep `digits` significant
    if dec > 0 and abs(float(s)) >= 10.0 ** (mag + 1):
        s = f"{x:.{dec - 1}f}"
    if abs(float(s)) >= _SCI_HIGH:  # 999999.7 rounds to 1000000
        return f"{x:.{digits - 1}e}"
    return s


def format_pvalue(p, digits: int = 4) -> str:
    """p-values with ``digits`` decimals; below 10^-digits prints ``<0.0001`` (for digits=4)."""
    if p is None:
        return ""
    p = float(p)
    if math.isnan(p):
        return "NaN"
    floor = 10.0 ** (-digits)
    if p < floor:
        return f"<{floor:.{digits}f}"
    return f"{p:.{digits}f}"


def stars(p) -> str:
    """Significance stars: ``***`` p<0.01, ``**`` p<0.05, ``*`` p<0.1, else ``""`` (also for NaN)."""
    if p is None:
        return ""
    p = float(p)
    if math.isnan(p):
        return ""
    for threshold, symbol in STAR_LEVELS:
        if p < threshold:
            return symbol
    return ""


# --------------------------------------------------------------------------------------------------
# escaping
# --------------------------------------------------------------------------------------------------
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_LATEX_UNICODE = {
    "²": r"$^2$", "³": r"$^3$", "×": r"$\times$", "≤": r"$\leq$", "≥": r"$\geq$", "−": "-",
    "–": "--", "—": "---", "±": r"$\pm$", "θ": r"$\theta$", "σ": r"$\sigma$", "χ": r"$\chi$",
    "…": r"\ldots{}", "<": r"$<$", ">": r"$>$", "|": r"$|$",
}


def latex_escape(text) -> str:
    """Escapes LaTeX specials (``\\ & % $ # _ { } ~ ^``) and maps common Unicode (², ×, ≤, …)."""
    out = []
    for ch in str(text):
        if ch in _LATEX_SPECIAL:
            out.append(_LATEX_SPECIAL[ch])
        elif ch in _LATEX_UNICODE:
            out.append(_LATEX_UNICODE[ch])
        else:
            out.append(ch)
    return "".join(out)


def latex_number(s: str) -> str:
    """A formatted number for a LaTeX cell: a leading minus becomes ``$-$`` (a proper minus sign)."""
    s = latex_escape(s)
    return "$-$" + s[1:] if s.startswith("-") else s


def latex_stars(symbol: str) -> str:
    return f"$^{{{symbol}}}$" if symbol else ""


def html_escape(text) -> str:
    return _html.escape(str(text), quote=True)


def markdown_escape(text) -> str:
    """Escapes characters that Markdown (GFM) would treat as markup inside a table cell:
    ``\\ ` * _ [ ] |`` get a backslash; ``<`` that could open an HTML tag becomes ``&lt;``."""
    s = str(text)
    out = []
    for i, ch in enumerate(s):
        if ch in "\\`*_[]|":
            out.append("\\" + ch)
        elif ch == "<" and i + 1 < len(s) and (s[i + 1].isalpha() or s[i + 1] in "/!?"):
            out.append("&lt;")
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# shared HTML style (inline, theme-neutral: colours inherit, rules use currentColor)
# --------------------------------------------------------------------------------------------------
HTML_TABLE_STYLE = ("border-collapse:collapse;border:none;margin:0.5em 0;font-variant-numeric:tabular-nums;"
                    "color:inherit;background:transparent;font-size:0.92em;")
HTML_CELL = "padding:0.2em 0.7em;border:none;"
HTML_NUM = HTML_CELL + "text-align:right;white-space:nowrap;"
HTML_TXT = HTML_CELL + "text-align:left;white-space:nowrap;"
HTML_RULE_TOP = "border-top:1.5px solid currentColor;"
HTML_RULE_MID = "border-top:1px solid currentColor;"
HTML_RULE_BOTTOM = "border-bottom:1.5px solid currentColor;"
HTML_NOTE = "padding:0.3em 0.7em;text-align:left;font-size:0.88em;opacity:0.8;border:none;white-space:normal;"


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str], gap: int = 2) -> List[str]:
    """Fixed-width lines for header + rows; ``align`` is 'l' or 'r' per column."""
    ncol = len(header)
    widths = [max([len(header[j])] + [len(r[j]) for r in rows]) for j in range(ncol)]
    sep = " " * gap

    def line(cells):
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)]
        return sep.join(parts).rstrip()

    return [line(header)] + [line(r) for r in rows]


def _wrap(text: str, width: int, indent: str = "") -> List[str]:
    return textwrap.wrap(text, width=width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [""]


# --------------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------------
def _call_tidy(result, level: float):
    tidy = result.tidy
    try:
        params = inspect.signature(tidy).parameters
    except (TypeError, ValueError):
        params = {}
    if "level" in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return tidy(level=level)
    return tidy()


def _is_normal_reference(result) -> bool:
    df = getattr(result, "df_inference", None)
    if df is None:
        return False
    try:
        arr = np.asarray(df, dtype=float)
    except (TypeError, ValueError):
        return False
    return arr.size > 0 and bool(np.all(np.isinf(arr)))


class Summary:
    """A results summary: coefficient table, fit statistics and the conventions used.

    Renderings: :meth:`as_text` (also ``str()``/``repr()``), :meth:`as_html` (also ``_repr_html_``
    for Jupyter), :meth:`as_latex` (booktabs). Built from any result with ``title``, ``depvar``,
    ``tidy()``, ``fit_stats()`` and ``notes()``; the numbers are taken once, at construction.

    Parameters
    ----------
    result : a fitted result.
    level : confidence level of the interval columns.
    digits : significant digits for estimates, standard errors, statistics and bounds.
    stars : add a significance-star column (* p<0.1, ** p<0.05, *** p<0.01).
    """

    def __init__(self, result, *, level: float = 0.95, digits: int = 4, stars: bool = True):
        if not 0 < level < 1:
            raise ValueError(f"Summary: level must be in (0, 1), got {level!r}")
        format_number(1.0, digits)  # validates digits
        self.level = float(level)
        self.digits = int(digits)
        self.show_stars = bool(stars)
        self.title = str(getattr(result, "title", "") or "Estimates")
        self.depvar = str(getattr(result, "depvar", "") or "")
        tidy = _call_tidy(result, self.level)
        missing = {"term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"} - set(tidy.columns)
        if missing:
            raise ValueError(f"Summary: tidy() lacks column(s) {sorted(missing)}")
        self.table = tidy.reset_index(drop=True).copy()
        self.fit_stats: List[Tuple[str, str]] = [(str(k), str(v)) for k, v in (result.fit_stats() or [])]
        self.notes: List[str] = [str(n) for n in (result.notes() or [])]
        self.stat_label = "z" if _is_normal_reference(result) else "t"

    # -- shared cell preparation --------------------------------------------------------------
    def _ci_labels(self) -> Tuple[str, str]:
        lo = 100 * (1 - self.level) / 2
        return f"{format_number(lo, 3).rstrip('0').rstrip('.')}%", f"{format_number(100 - lo, 3).rstrip('0').rstrip('.')}%"

    def _header(self) -> List[str]:
        lo, hi = self._ci_labels()
        return ["", "Estimate", "Std. Error", f"{self.stat_label} value", f"Pr(>|{self.stat_label}|)", "",
                f"[{lo}", f"{hi}]"]

    def _cells(self) -> List[List[str]]:
        d = self.digits
        rows = []
        for r in self.table.itertuples(index=False):
            rows.append([str(r.term), format_number(r.estimate, d), format_number(r.std_error, d),
                         format_number(r.statistic, d), format_pvalue(r.p_value),
                         stars(r.p_value) if self.show_stars else "",
                         format_number(r.conf_low, d), format_number(r.conf_high, d)])
        return rows

    def _all_notes(self) -> List[str]:
        out = list(self.notes)
        if self.show_stars:
            out.append(STAR_NOTE + ".")
        return out

    def _heading(self) -> str:
        return f"{self.title} estimates" + (f" — dependent variable: {self.depvar}" if self.depvar else "")

    # -- text --------------------------------------------------------------------------------
    def as_text(self) -> str:
        header = self._header()
        rows = self._cells()
        align = ["l", "r", "r", "r", "r", "l", "r", "r"]
        if not self.show_stars:
            header = header[:5] + header[6:]
            rows = [r[:5] + r[6:] for r in rows]
            align = align[:5] + align[6:]
        table = _text_table(header, rows, align)
        # fit statistics in two label/value column pairs
        stats = self.fit_stats
        stat_lines = []
        if stats:
            half = (len(stats) + 1) // 2
            left, right = stats[:half], stats[half:]
            lw = max(len(k) for k, _ in left)
            lv = max(len(v) for _, v in left)
            rw = max([len(k) for k, _ in right] or [0])
            rv = max([len(v) for _, v in right] or [0])
            for i in range(half):
                s = f"{left[i][0]:<{lw}}  {left[i][1]:>{lv}}"
                if i < len(right):
                    s += f"    {right[i][0]:<{rw}}  {right[i][1]:>{rv}}"
                stat_lines.append(s.rstrip())
        width = max([78, len(self._heading())] + [len(t) for t in table] + [len(s) for s in stat_lines])
        out = [self._heading(), "=" * width]
        if stat_lines:
            out += stat_lines + ["-" * width]
        out.append(table[0])
        out.append("-" * width)
        out += table[1:]
        out.append("=" * width)
        for note in self._all_notes():
            out += _wrap(note, width, indent="  ")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    # -- HTML --------------------------------------------------------------------------------
    def as_html(self) -> str:
        header = self._header()
        rows = self._cells()
        keep = [j for j in range(8) if self.show_stars or j != 5]
        ncol = len(keep)
        e = html_escape
        parts = [f'<div class="impactkit-summary" style="color:inherit;">',
                 f'<table style="{HTML_TABLE_STYLE}">']
        cap = e(self.title) + " estimates"
        if self.depvar:
            cap += f" &mdash; dependent variable: {e(self.depvar)}"
        parts.append(f'<caption style="text-align:left;font-weight:600;padding:0.2em 0.7em;color:inherit;">{cap}</caption>')
        parts.append("<thead>")
        ths = []
        for j in keep:
            style = (HTML_TXT if j in (0, 5) else HTML_NUM) + HTML_RULE_TOP + "border-bottom:1px solid currentColor;font-weight:600;"
            ths.append(f'<th style="{style}">{e(header[j])}</th>')
        parts.append("<tr>" + "".join(ths) + "</tr></thead><tbody>")
        for r in rows:
            tds = []
            for j in keep:
                style = HTML_TXT if j in (0, 5) else HTML_NUM
                val = e(r[j])
                tds.append(f'<td style="{style}">{val}</td>')
            parts.append("<tr>" + "".join(tds) + "</tr>")
        # fit statistics as label/value rows spanning the table
        for i, (k, v) in enumerate(self.fit_stats):
            rule = HTML_RULE_MID if i == 0 else ""
            parts.append(f'<tr><td style="{HTML_TXT}{rule}">{e(k)}</td>'
                         f'<td style="{HTML_NUM}{rule}">{e(v)}</td>'
                         f'<td colspan="{ncol - 2}" style="{HTML_CELL}{rule}"></td></tr>')
        parts.append("</tbody><tfoot>")
        notes = self._all_notes()
        if notes:
            body = "<br>".join(e(n) for n in notes)
            parts.append(f'<tr><td colspan="{ncol}" style="{HTML_NOTE}{HTML_RULE_TOP}">{body}</td></tr>')
        else:
            parts.append(f'<tr><td colspan="{ncol}" style="{HTML_NOTE}{HTML_RULE_TOP}"></td></tr>')
        parts.append("</tfoot></table></div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.as_html()

    # -- LaTeX -------------------------------------------------------------------------------
    def as_latex(self) -> str:
        """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); notes under the rule."""
        lo, hi = self._ci_labels()
        rows = self._cells()
        st = self.stat_label
        cols = "l" + "r" * 4 + ("l" if self.show_stars else "") + "rr"
        ncol = len(cols)
        pct = latex_escape(f"{100 * self.level:g}%")
        head = ["", "Estimate", "Std. Error", f"${st}$ value", f"$\\Pr(>|{st}|)$"]
        if self.show_stars:
            head.append("")
        head.append(f"\\multicolumn{{2}}{{c}}{{{pct} CI}}")
        lines = [f"\\begin{{tabular}}{{{cols}}}", "\\toprule"]
        title = latex_escape(self.title)
        if self.depvar:
            title += f" --- dependent variable: {latex_escape(self.depvar)}"
        lines.append(f"\\multicolumn{{{ncol}}}{{l}}{{{title}}} \\\\")
        lines.append("\\midrule")
        lines.append(" & ".join(head) + " \\\\")
        lines.append("\\midrule")
        for r in rows:
            cells = [latex_escape(r[0])] + [latex_number(c) for c in r[1:4]]
            cells.append(latex_escape(r[4]))
            if self.show_stars:
                cells.append(latex_stars(r[5]))
            cells += [latex_number(r[6]), latex_number(r[7])]
            lines.append(" & ".join(cells) + " \\\\")
        if self.fit_stats:
            lines.append("\\midrule")
            for k, v in self.fit_stats:
                lines.append(f"{latex_escape(k)} & {latex_number(v)}" + " &" * (ncol - 2) + " \\\\")
        lines.append("\\bottomrule")
        for note in self._all_notes():
            lines.append(f"\\multicolumn{{{ncol}}}{{l}}{{\\footnotesize {latex_escape(note)}}} \\\\")
        lines.append("\\end{tabular}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# a table of already-formatted cells (disaggregation tables, results-framework tables, reports)
# --------------------------------------------------------------------------------------------------
class CellTable:
    """A table of string cells with a title and notes, rendered as text, Markdown, HTML or LaTeX in the
    house style (``etable``'s rules and inline HTML styles). ``row_styles``: optional CSS per row (e.g.
    a status colour) used by the HTML rendering; ``align``: 'l' or 'r' per column."""

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[str]], *, title: str = "", notes: Sequence[str] = (),
                 align: Sequence[str] = (), row_styles: Sequence[str] = ()):
        self.header = [str(h) for h in header]
        self.rows = [[str(c) for c in r] for r in rows]
        self.title = title
        self.notes = list(notes)
        self.align = list(align) or ["l"] + ["r"] * (len(self.header) - 1)
        self.row_styles = list(row_styles) or [""] * len(self.rows)

    def as_text(self) -> str:
        lines = [self.title, "=" * len(self.title)] if self.title else []
        lines += _text_table(self.header, self.rows, self.align)
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        esc = [[markdown_escape(c) for c in r] for r in self.rows]
        head = [markdown_escape(h) for h in self.header]
        lines = ([f"**{markdown_escape(self.title)}**", ""] if self.title else [])
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(":---" if a == "l" else "---:" for a in self.align) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in esc]
        if self.notes:
            lines += [""] + [markdown_escape(n) for n in self.notes]
        return "\n".join(lines)

    def to_html(self) -> str:
        e = html_escape
        parts = ['<div class="impactkit-table" style="color:inherit;">']
        if self.title:
            parts.append(f"<div style=\"font-weight:600;\">{e(self.title)}</div>")
        parts.append(f'<table style="{HTML_TABLE_STYLE}"><thead><tr>')
        for h, a in zip(self.header, self.align):
            parts.append(f'<th style="{HTML_TXT if a == "l" else HTML_NUM}{HTML_RULE_TOP}border-bottom:1px solid currentColor;">{e(h)}</th>')
        parts.append("</tr></thead><tbody>")
        for r, style in zip(self.rows, self.row_styles):
            tr = "".join(f'<td style="{HTML_TXT if a == "l" else HTML_NUM}">{e(c)}</td>' for c, a in zip(r, self.align))
            parts.append(f'<tr style="{e(style)}">{tr}</tr>' if style else f"<tr>{tr}</tr>")
        parts.append("</tbody><tfoot>")
        for n in self.notes:
            parts.append(f'<tr><td colspan="{len(self.header)}" style="{HTML_NOTE}">{e(n)}</td></tr>')
        parts.append(f'<tr><td colspan="{len(self.header)}" style="{HTML_RULE_BOTTOM}padding:0;"></td></tr>')
        parts.append("</tfoot></table></div>")
        return "\n".join(parts)

    def to_latex(self) -> str:
        cols = "".join("l" if a == "l" else "r" for a in self.align)
        lines = [f"\\begin{{tabular}}{{{cols}}}", "\\toprule", " & ".join(latex_escape(h) for h in self.header) + " \\\\",
                 "\\midrule"]
        lines += [" & ".join(latex_escape(c) for c in r) + " \\\\" for r in self.rows]
        lines.append("\\bottomrule")
        for n in self.notes:
            lines.append(f"\\multicolumn{{{len(self.header)}}}{{l}}{{\\footnotesize {latex_escape(n)}}} \\\\")
        lines.append("\\end{tabular}")
        return "\n".join(lines)

    as_html = to_html
    as_latex = to_latex

    def __str__(self) -> str:
        return self.as_text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return self.to_html()
