"""Reading the ``lvm`` command's CSV file: delimiter, columns, identifier, missing entries.

Everything here turns a file as people keep them (semicolons, an id column,
demographics next to the items, empty answers) into the numeric frame the
models are fitted to, or into a one-line error saying what to change.
"""

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._validation import _MAX_MAGNITUDE

DELIMITERS = ",;\t|"
_DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
# Names under which survey and panel files keep a row identifier.
_ID_NAMES = {"id", "respondent", "respondentid", "subject", "subjectid", "participant", "participantid",
             "case", "caseid", "caseno", "record", "recordid", "rowid", "person", "personid", "userid",
             "pid", "uid", "serial", "responseid"}


class CommandError(Exception):
    """A problem with the command's input, reported as one line."""


def delimiter(option):
    """The delimiter given to ``--sep`` (``tab`` and ``\\t`` name the tab)."""
    if option is None:
        return None
    if option.lower() in ("tab", "\\t"):
        return "\t"
    if len(option) != 1:
        raise CommandError(f"--sep {option!r} must be one character (or 'tab')")
    return option


def sniff_delimiter(path, decimal=".", lines=50, chars=65536):
    """The delimiter of a CSV file, guessed from its first lines (``','`` when unclear).

    At most ``lines`` lines and, past the first two, about ``chars``
    characters are read: the sniffer is pure Python, and a file thousands
    of columns wide shows its delimiter in two lines.
    """
    candidates = DELIMITERS.replace(decimal, "")
    sample = []
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        for line in iter(handle.readline, ""):
            sample.append(line)
            if len(sample) >= lines or (len(sample) >= 2 and sum(map(len, sample)) >= chars):
                break
    sample = "".join(sample)
    try:
        return csv.Sniffer().sniff(sample, delimiters=candidates).delimiter
    except csv.Error:
        return candidates[0]


def _read(path, sep, decimal):
    if decimal is None or len(decimal) != 1:
        raise CommandError(f"--decimal {decimal!r} must be one character, '.' or ','")
    if decimal == sep:
        raise CommandError(f"--decimal and --sep are both {decimal!r}; they must differ")
    try:
        return pd.read_csv(path, sep=sep, decimal=decimal)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CommandError(f"{path} is not a readable CSV file ({first})") from None


def _check_one_wide_column(path, frame, sep):
    if frame.shape[1] != 1:
        return
    header = str(frame.columns[0])
    others = [d for d in DELIMITERS if d != sep and d in header]
    if others:
        best = max(others, key=header.count)
        raise CommandError(f"{path} reads as one column {_short(header)!r} with --sep {_DELIMITER_NAMES[sep]}; "
                           f"its fields look separated by {_DELIMITER_NAMES[best]}: "
                           f"pass --sep {_DELIMITER_NAMES[best]}")


def _short(text, width=40):
    return text if len(text) <= width else text[: width - 3] + "..."


def _name_list(names, limit=12):
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def resolve_columns(spec, header, option):
    """The column names a ``--columns``/``--drop`` value selects, in the order given.

    ``spec`` is a comma-separated list of names and ranges. A range
    ``FIRST:LAST`` or ``FIRST-LAST`` is every column from FIRST to LAST by
    position in the file; a name that itself contains ``:`` or ``-`` is
    taken as a name.
    """
    header = [str(c) for c in header]
    position = {name: i for i, name in enumerate(header)}
    chosen = []
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        if token in position:
            chosen.append(token)
            continue
        ranges = [(token[:i].strip(), token[i + 1:].strip()) for i, char in enumerate(token) if char in ":-"]
        ranges = [(a, b) for a, b in ranges if a in position and b in position]
        if not ranges:
            raise CommandError(f"{option}: no column {token!r} (the columns are {_name_list(header)}); "
                               "give names or ranges FIRST:LAST, comma-separated")
        first, last = position[ranges[0][0]], position[ranges[0][1]]
        if first > last:
            raise CommandError(f"{option}: the range {token!r} runs backwards ({ranges[0][0]} comes after "
                               f"{ranges[0][1]} in the file)")
        chosen += header[first:last + 1]
    return list(dict.fromkeys(chosen))


def looks_like_identifier(name, values):
    """Whether a column is probably a row identifier: by its name, or unique increasing integers."""
    lowered = re.sub(r"[^a-z0-9]", "", str(name).lower())
    if lowered in _ID_NAMES or re.search(r"(^|[_\s.-])id$", str(name), re.I) or re.search(r"[a-z]I[Dd]$", str(name)):
        return True
    values = values.to_numpy(dtype=float, na_value=np.nan)
    if len(values) < 3 or np.isnan(values).any():
        return False
    return bool(np.all(values == np.round(values)) and np.all(np.diff(values) > 0))


def _split_off(frame, path, name, what):
    if name not in frame.columns:
        raise CommandError(f"{path} has no column {name!r} for {what}; its columns are {_name_list(frame.columns)}")
    return frame.drop(columns=name), frame[name]


def _decimal_commas(column):
    text = column.dropna().astype(str).str.strip()
    return bool(len(text)) and text.str.fullmatch(r"[-+]?\d*,?\d+").all() and text.str.contains(",").any()


def _check_numeric(path, frame, allow_labels):
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if not bad:
        return
    hint = "leave them out with --drop, choose the items with --columns, or name an identifier with --id"
    if allow_labels:
        hint = "name a label column with --labels, or " + hint
    commas = [c for c in bad if _decimal_commas(frame[c])]
    if commas:
        raise CommandError(f"{path}: column(s) {commas} hold numbers written with decimal commas; pass --decimal ','")
    raise CommandError(f"{path}: column(s) {bad} are not numeric; lvm models need numbers ({hint})")


def _check_finite(path, frame):
    values = np.nan_to_num(frame.to_numpy(dtype=float), nan=0.0, posinf=np.inf, neginf=-np.inf)
    infinite = np.isinf(values).any(axis=0)
    magnitude = np.abs(values).max(axis=0, initial=0.0)
    if infinite.any():
        columns = [str(c) for c in frame.columns[infinite]]
        raise CommandError(f"{path}: column(s) {columns} hold infinite values; remove or replace them")
    large = magnitude > _MAX_MAGNITUDE
    if large.any():
        amax = magnitude.max()
        columns = [str(c) for c in frame.columns[large]]
        raise CommandError(f"{path}: column(s) {columns} have values as large as {amax:.3g} in magnitude; their "
                           f"squares overflow double precision: rescale them (e.g. divide by {amax:.0e})")


def _handle_missing(path, frame, missing, allowed):
    count = int(frame.isna().to_numpy().sum())
    if count == 0:
        return frame
    empty = [str(c) for c in frame.columns[frame.isna().all(axis=0).to_numpy()]]
    if empty:
        raise CommandError(f"{path}: column(s) {empty} have no values at all; leave them out with "
                           f"--drop {','.join(empty)}")
    if missing is None:
        options = " or ".join(f"--missing {m}" for m in allowed)
        raise CommandError(f"{path} has {count} missing entries; use {options}, or fill them")
    if missing == "drop":
        complete = frame.dropna()
        print(f"dropped {len(frame) - len(complete)} of {len(frame)} rows with missing entries "
              f"({len(complete)} complete rows remain)")
        if len(complete) < 2:
            raise CommandError(f"{path}: fewer than 2 complete rows remain after dropping rows with missing entries; "
                               "use --missing em, or leave out the columns with most gaps")
        return complete
    return frame


def read_table(path, *, sep=None, decimal=".", columns=None, drop=None, id_column=None, labels=None, missing=None,
               missing_choices=("em", "drop"), allow_labels=False):
    """The numeric columns to fit, indexed by ``id_column`` (or row number), and the labels.

    Returns ``(frame, y)``; ``y`` is None without ``labels``. Raises
    CommandError for anything the models cannot take.
    """
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    sep = delimiter(sep) or sniff_delimiter(path, decimal)
    frame = _read(path, sep, decimal)
    if frame.empty:
        raise CommandError(f"{path} has no data rows")
    _check_one_wide_column(path, frame, sep)
    first = str(frame.columns[0])
    if (first == "" or first.startswith("Unnamed: 0")) and frame.iloc[:, 0].is_unique:
        # A first column without a name holds row labels, not data: the row
        # index of pandas' to_csv, or the row names of R's write.csv.
        frame = frame.set_index(frame.columns[0]).rename_axis(None)
    header = [str(c) for c in frame.columns]
    frame.columns = header
    y = None
    if labels is not None:
        frame, y = _split_off(frame, path, labels, "--labels")
        if y.isna().any():
            raise CommandError(f"label column {labels!r} has {int(y.isna().sum())} missing entries")
    if id_column is not None:
        frame, ids = _split_off(frame, path, id_column, "--id")
        frame.index = pd.Index(ids, name=id_column)
        if ids.duplicated().any():
            warnings.warn(f"identifier column {id_column!r} has {int(ids.duplicated().sum())} repeated values; "
                          "scores.csv will repeat them", UserWarning, stacklevel=2)
    keep = [c for c in (resolve_columns(columns, header, "--columns") if columns else header) if c in frame.columns]
    if drop:
        dropped = set(resolve_columns(drop, header, "--drop"))
        keep = [c for c in keep if c not in dropped]
    frame = frame[keep]
    if frame.shape[1] == 0:
        raise CommandError(f"{path}: no column is left to fit after --columns/--drop/--id/--labels")
    _check_numeric(path, frame, allow_labels)
    for name in frame.columns:
        if looks_like_identifier(name, frame[name]):
            warnings.warn(f"column {name!r} looks like a row identifier but is fitted as an item; "
                          f"pass --id {name} to key the scores by it instead", UserWarning, stacklevel=2)
    _check_finite(path, frame)
    complete = frame.notna().all(axis=1).to_numpy()
    kept = _handle_missing(path, frame, missing, missing_choices)
    if y is not None:
        y = y.to_numpy()[complete] if len(kept) < len(frame) else y.to_numpy()
    return kept, y
