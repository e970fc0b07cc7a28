"""Summary objects: a few pandas tables with a text and a notebook view."""

import html

import pandas as pd


class Summary:
    """What a fitted model found, as named tables.

    ``str(summary)`` gives a plain-text report for scripts and terminals;
    in a notebook the HTML view renders. The tables stay available as
    DataFrames in ``summary.tables`` for further work.

    Parameters
    ----------
    title : str
        First line of the report.
    info : dict
        Scalar facts (sample size, log-likelihood, ...), shown as ``key: value``.
    tables : dict of str to pandas.DataFrame
        Named tables, shown in order.
    notes : list of str, optional
        Sentences shown after the tables.
    """

    def __init__(self, title, info, tables, notes=()):
        self.title = title
        self.info = dict(info)
        self.tables = dict(tables)
        self.notes = list(notes)

    def __getitem__(self, name):
        return self.tables[name]

    @staticmethod
    def _format(value):
        if isinstance(value, float):
            return f"{value:.6g}"
        return str(value)

    def __str__(self):
        lines = [self.title, "=" * len(self.title)]
        width = max((len(k) for k in self.info), default=0)
        lines += [f"{k:<{width}}  {self._format(v)}" for k, v in self.info.items()]
        for name, table in self.tables.items():
            lines += ["", name, "-" * len(name), table.to_string(float_format=lambda v: f"{v:.4g}")]
        if self.notes:
            lines += [""] + self.notes
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self):
        parts = [f"<h4>{html.escape(self.title)}</h4>", "<table>"]
        parts += [
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(self._format(v))}</td></tr>"
            for k, v in self.info.items()
        ]
        parts.append("</table>")
        for name, table in self.tables.items():
            parts.append(f"<h5>{html.escape(name)}</h5>")
            parts.append(table.to_html(float_format=lambda v: f"{v:.4g}"))
        parts += [f"<p>{html.escape(n)}</p>" for n in self.notes]
        return "\n".join(parts)

    def to_markdown(self):
        """The report as Markdown (tables as pipe tables)."""
        lines = [f"### {self.title}", ""]
        lines += [f"- **{k}**: {self._format(v)}" for k, v in self.info.items()]
        for name, table in self.tables.items():
            lines += ["", f"**{name}**", "", dataframe_to_markdown(table)]
        if self.notes:
            lines += [""] + self.notes
        return "\n".join(lines) + "\n"


def dataframe_to_markdown(table, digits=4):
    """A DataFrame as a Markdown pipe table (no optional dependency needed)."""
    table = pd.DataFrame(table)

    def cell(v):
        return f"{v:.{digits}g}" if isinstance(v, float) else str(v)

    header = [str(table.index.name or "")] + [str(c) for c in table.columns]
    pairs = zip(table.index, table.itertuples(index=False), strict=True)
    rows = [[str(i)] + [cell(v) for v in row] for i, row in pairs]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)
