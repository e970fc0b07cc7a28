"""Progress bars, the same everywhere lvm shows one.

:func:`progress` makes a tqdm bar that suits where the output goes:

* a notebook with ipywidgets: the widget bar;
* a notebook without ipywidgets: the text bar, silently (``tqdm.auto`` would
  warn ``IProgress not found`` at import, the first thing a notebook user sees);
* a terminal: the text bar;
* a file or a pipe (a log): a plain line at most every :data:`LOG_INTERVAL_SECONDS`
  and the finished line, not a carriage-return update per step.

A bar appears only once its call has run for :data:`DELAY_SECONDS`, so quick
fits print nothing.
"""

import functools
import numbers
import os
import sys
import threading
import time
import weakref

# A call shorter than this gets no bar: it would only flicker.
DELAY_SECONDS = 1.0
# A log gets a line this often at most, so that an autoencoder's 200 epochs
# leave a few lines in it rather than 200 carriage-return updates.
LOG_INTERVAL_SECONDS = 10.0
# How often a bar whose call takes long steps (a model fit inside compare,
# t-SNE) refreshes its elapsed time between steps.
HEARTBEAT_SECONDS = 0.5


def check_verbose(verbose, name="verbose"):
    """Return ``verbose`` as an int, or raise if it is not a bool or a non-negative int.

    Parameters
    ----------
    verbose : bool or int
        ``False`` or ``0``: no bar; ``True`` or a positive int: a bar.
    name : str, default="verbose"
        Name of the argument, for the message.

    Returns
    -------
    int
    """
    if not isinstance(verbose, numbers.Integral) or verbose < 0:
        raise ValueError(f"{name}={verbose!r} is invalid; expected True, False or an integer >= 0 "
                         "(0 or False: no progress bar)")
    return int(verbose)


def _in_notebook():
    """Whether the code runs in a Jupyter kernel that draws rich output (tqdm.autonotebook's test)."""
    if "ipykernel.zmqshell" not in sys.modules:
        return False
    if any(key == "QT_API" or key.startswith("SPYDER") for key in os.environ):
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    name = type(shell).__name__.lower()
    return shell is not None and "qt" not in name and "spyder" not in name


def _notebook_bar():
    """tqdm's widget bar class, or None when ipywidgets is missing."""
    try:
        from tqdm.notebook import IProgress
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:  # pragma: no cover - IPython without its display module
        return None
    return None if IProgress is None else notebook_tqdm


def _is_terminal(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _LineStream:
    """A file for tqdm that writes each bar update as one plain line.

    tqdm redraws a bar in place with carriage returns and cursor moves; in a
    log file those become one long line of control characters.
    """

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        line = text.replace("\r", "").replace("\x1b[A", "").strip()
        if line:
            self.stream.write(line + "\n")

    def flush(self):
        getattr(self.stream, "flush", lambda: None)()


@functools.cache
def _scheduled(base):
    """``base`` whose postfix waits for the next scheduled redraw.

    tqdm redraws at once when the postfix changes, which would show a bar
    before its delay and write a log line per step.
    """

    class Bar(base):
        def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
            super().set_postfix(ordered_dict, refresh=False, **kwargs)

        def set_postfix_str(self, s="", refresh=True):
            super().set_postfix_str(s, refresh=False)

    Bar.__name__ = Bar.__qualname__ = base.__name__
    return Bar


@functools.cache
def _log_bar():
    """The text bar for a log: its last line is written whenever the call outlasted the delay."""
    from tqdm.std import tqdm as text_bar

    class LogBar(_scheduled(text_bar)):
        def close(self):
            now = self._time()
            if not self.disable and self.last_print_t < self.start_t + self.delay <= now:
                # tqdm closes silently a bar it never drew; a log keeps the
                # finished line of any call longer than the delay.
                self.last_print_t = now
            super().close()

    return LogBar


def _heartbeat(bar):
    """Refresh ``bar``'s elapsed time while its current step runs; stop when it closes or is gone."""
    reference = weakref.ref(bar)
    del bar

    def beat():
        while True:
            bar = reference()
            if bar is None or bar.disable:
                return
            interval = max(HEARTBEAT_SECONDS, bar.mininterval)
            now = bar._time()
            if now >= bar.start_t + bar.delay and now - bar.last_print_t >= bar.mininterval:
                # last_print_t, not n: the main thread alone counts steps.
                bar.last_print_t = now
                bar.refresh()
            del bar
            time.sleep(interval)

    threading.Thread(target=beat, name="lvm-progress", daemon=True).start()


def progress(iterable=None, *, verbose=1, total=None, desc=None, unit="it", leave=True, heartbeat=False,
             delay=None, bar_format=None):
    """A tqdm progress bar that suits the output: widget, terminal, or log lines.

    Parameters
    ----------
    iterable : iterable, optional
        Wrapped and iterated over; or use the bar's ``update`` with ``total``.
    verbose : bool or int, default=1
        No bar when false or 0.
    total : int, optional
        Number of steps, when not ``len(iterable)``.
    desc : str, optional
        Label in front of the bar.
    unit : str, default="it"
        Name of a step.
    leave : bool, default=True
        Keep the finished bar on screen (a log always keeps its last line).
    heartbeat : bool, default=False
        Refresh the elapsed time between steps, for calls whose steps each
        take many seconds.
    delay : float, optional
        Seconds before the bar first shows (:data:`DELAY_SECONDS` by
        default); a call that ends sooner prints nothing.
    bar_format : str, optional
        tqdm's format of the line, e.g. ``"{desc}: {elapsed}"`` for a call
        without steps.

    Returns
    -------
    tqdm.tqdm
        Use it as a context manager or iterate over it, so that it closes.
    """
    from tqdm.std import tqdm as text_bar

    verbose = check_verbose(verbose)
    options = {"total": total, "desc": desc, "unit": unit, "leave": leave, "bar_format": bar_format,
               "delay": DELAY_SECONDS if delay is None else delay}
    if not verbose:
        return text_bar(iterable, disable=True, **options)
    widget_bar = _notebook_bar() if _in_notebook() else None
    if widget_bar is not None:
        bar = _scheduled(widget_bar)(iterable, **options)
    elif _in_notebook() or _is_terminal(sys.stderr):
        bar = _scheduled(text_bar)(iterable, file=sys.stderr, **options)
    else:
        options.update(leave=True, ascii=True, mininterval=LOG_INTERVAL_SECONDS)
        bar = _log_bar()(iterable, file=_LineStream(sys.stderr), **options)
    if heartbeat:
        _heartbeat(bar)
    return bar
