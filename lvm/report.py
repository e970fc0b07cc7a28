"""Writing results to a folder: tables, figures and a Markdown/HTML report.

Used by the ``lvm`` command and ``lvm demo``. Everything goes first into a
staging folder next to the destination and is moved into place only once
the command has succeeded, so a failure or Ctrl-C never leaves a half-written
folder behind.
"""

import contextlib
import html
import os
import shutil
import uuid
from pathlib import Path

from ._summary import dataframe_to_markdown


class Report:
    """A report written as Markdown and HTML from the same blocks.

    Parameters
    ----------
    title : str
        First heading of the report.
    """

    def __init__(self, title):
        self.title = title
        self.blocks = []

    def heading(self, text):
        """Add a section heading.

        Parameters
        ----------
        text : str
            The heading.
        """
        self.blocks.append(("h2", text))

    def text(self, text):
        """Add a paragraph.

        Parameters
        ----------
        text : str
            The paragraph, plain text.
        """
        self.blocks.append(("p", text))

    def table(self, frame):
        """Add a table.

        Parameters
        ----------
        frame : pandas.DataFrame
            The table, shown with its index.
        """
        self.blocks.append(("table", frame))

    def figure(self, filename, caption):
        """Add a figure saved next to the report.

        Parameters
        ----------
        filename : str
            File name of the image, relative to the report's folder.
        caption : str
            Caption (and alternative text).
        """
        self.blocks.append(("img", (filename, caption)))

    def markdown(self):
        """The report as Markdown.

        Returns
        -------
        str
            Markdown text, tables as pipe tables.
        """
        lines = [f"# {self.title}", ""]
        for kind, value in self.blocks:
            if kind == "h2":
                lines += [f"## {value}", ""]
            elif kind == "p":
                lines += [value, ""]
            elif kind == "table":
                lines += [dataframe_to_markdown(value), ""]
            else:
                lines += [f"![{value[1]}]({value[0]})", ""]
        return "\n".join(lines)

    def html(self):
        """The report as a standalone HTML page.

        Returns
        -------
        str
            HTML text; figures are linked, not embedded.
        """
        parts = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
                 f"<title>{html.escape(self.title)}</title>",
                 "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
                 "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
                 "img{max-width:100%}</style></head><body>", f"<h1>{html.escape(self.title)}</h1>"]
        for kind, value in self.blocks:
            if kind == "h2":
                parts.append(f"<h2>{html.escape(value)}</h2>")
            elif kind == "p":
                parts.append(f"<p>{html.escape(value)}</p>")
            elif kind == "table":
                parts.append(value.to_html(float_format=lambda v: f"{v:.4g}"))
            else:
                parts.append(f"<figure><img src='{html.escape(value[0])}' alt='{html.escape(value[1])}'>"
                             f"<figcaption>{html.escape(value[1])}</figcaption></figure>")
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, out):
        """Write ``report.md`` and ``report.html``.

        Parameters
        ----------
        out : pathlib.Path
            Folder to write into.
        """
        (out / "report.md").write_text(self.markdown(), encoding="utf-8")
        (out / "report.html").write_text(self.html(), encoding="utf-8")


def write_table(out, name, frame):
    """Write a table as ``name.csv`` and ``name.md``.

    Parameters
    ----------
    out : pathlib.Path
        Folder to write into.
    name : str
        File name without extension.
    frame : pandas.DataFrame
        The table; its index is written too.
    """
    frame.to_csv(out / f"{name}.csv")
    (out / f"{name}.md").write_text(dataframe_to_markdown(frame) + "\n", encoding="utf-8")


def save_figure(out, name, ax_or_figure):
    """Save a figure as a PNG file and close it.

    Parameters
    ----------
    out : pathlib.Path
        Folder to write into.
    name : str
        File name, with its extension.
    ax_or_figure : matplotlib Axes or Figure
        What to save (an Axes saves its whole figure).
    """
    import matplotlib.pyplot as plt

    figure = getattr(ax_or_figure, "figure", ax_or_figure)
    figure.tight_layout()
    figure.savefig(out / name, dpi=110)
    plt.close(figure)


def check_output_folder(path):
    """Refuse an output folder that cannot be one, before any work is done.

    Parameters
    ----------
    path : str or pathlib.Path
        The folder asked for.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    ValueError
        If ``path`` is empty (it would mean the current folder) or names an
        existing file.
    """
    if str(path).strip() == "":
        raise ValueError("--out is empty; name a folder for the results (use --out . for the current folder)")
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is an existing file, not a folder")
    return out


@contextlib.contextmanager
def staged_output(path):
    """A temporary folder whose files go to ``path`` when the block succeeds.

    The staging folder is a hidden folder inside ``path`` if that exists, or
    else in its nearest existing parent, so that the final moves are renames
    on the same file system. If ``path`` does not exist it is created by
    renaming the staging folder, all at once; if it is an existing folder,
    the new files are moved into it, replacing files of the same name and
    leaving the others. On any exception, KeyboardInterrupt included, the
    staging folder is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or pathlib.Path
        Destination folder.

    Yields
    ------
    pathlib.Path
        The staging folder to write into.
    """
    out = check_output_folder(path)
    # Inside an existing folder (``--out .`` included, whose parent may not be
    # writable), else in the nearest existing parent of the new one.
    parent = out if out.is_dir() else out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    # os.mkdir (unlike tempfile.mkdtemp, which makes it private) gives the
    # folder the permissions the user's umask asks for, as a plain mkdir would.
    staging = parent / f".{out.name or 'lvm'}-{os.getpid()}-{uuid.uuid4().hex[:8]}.partial"
    staging.mkdir()
    try:
        yield staging
        out.absolute().parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            for item in sorted(staging.iterdir()):
                os.replace(item, out / item.name)
            staging.rmdir()
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
