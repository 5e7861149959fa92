"""``.. runcode::``: Python code that runs while the page is built, shown with its output.

The tutorials are executable pages: each ``runcode`` block runs when Sphinx reads the page,
in one namespace per page (so a block sees the names of the blocks above it), with the
page's folder as the working directory. The code is shown as a Python block and what it
printed as an output block under it. A block that raises fails the build (a warning under
``-W``) and shows the traceback, unless ``:raises: NAME`` says that it is meant to raise
``NAME``: then the error message is the output, which is how the pages show flambeau's
error messages.

Options
-------
``:raises: NAME``
    The block must raise an exception of class ``NAME``.
``:hide-output:``
    Run the block but show only its code.

At the end of the build the time each page spent running its code is logged; a page whose
code used more than ``runcode_page_budget`` seconds of CPU (default 30) is a warning, so the
tutorials stay fast. The budget counts the process's CPU time, not wall time: on a machine
busy with other work a page waits for the CPU without using more of it, and a wall-clock
budget failed the build there (a 3.6 s page measured 122 s under load).
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import traceback
import warnings
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

__all__ = ["RunCode", "setup"]

logger = logging.getLogger(__name__)

# docname -> namespace of the page being read; reset when Sphinx starts reading the page.
_NAMESPACES: dict[str, dict] = {}
# docname -> (wall seconds, CPU seconds) spent running its blocks in this build.
_TIMES: dict[str, tuple[float, float]] = {}


def _fresh_namespace(app, docname: str, source) -> None:
    _NAMESPACES[docname] = {"__name__": "__main__"}
    _TIMES.pop(docname, None)


def _drop_namespace(app, doctree) -> None:
    # the page is read: free its models and data before the next page runs
    _NAMESPACES.pop(app.env.docname, None)


class RunCode(SphinxDirective):
    """Run the block's Python code and show it followed by what it printed."""

    has_content = True
    option_spec = {"raises": directives.unchanged_required, "hide-output": directives.flag}

    def run(self) -> list[nodes.Node]:
        docname = self.env.docname
        code = "\n".join(self.content)
        namespace = _NAMESPACES.setdefault(docname, {"__name__": "__main__"})
        expected = self.options.get("raises")
        output, error = self._execute(code, namespace, Path(self.env.doc2path(docname)).parent)

        if error is not None:
            name = type(error).__name__
            if expected == name:
                output += f"{name}: {error}\n"
            else:
                shown = "".join(traceback.format_exception(error))
                output += shown
                logger.warning(f"runcode: the block raised {name}: {error}\n{shown}",
                               location=self.get_location())
        elif expected:
            logger.warning(f"runcode: the block was expected to raise {expected}",
                           location=self.get_location())

        source = nodes.literal_block(code, code, language="python")
        self.set_source_info(source)
        result: list[nodes.Node] = [source]
        if output.strip() and "hide-output" not in self.options:
            shown = output.rstrip("\n")
            block = nodes.literal_block(shown, shown, language="none",
                                        classes=["runcode-output"])
            self.set_source_info(block)
            result.append(block)
        return result

    def _execute(self, code: str, namespace: dict, folder: Path):
        """Run ``code``; return (printed text, exception or None)."""
        buffer = io.StringIO()
        previous = os.getcwd()
        start, start_cpu = time.perf_counter(), time.process_time()
        error = None
        try:
            compiled = compile(code, f"<{self.env.docname}:{self.lineno}>", "exec")
            os.chdir(folder)
            # stderr (progress bars) is not shown; Python warnings are, as a reader would
            # see them in a terminal.
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()), \
                    warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("default")
                try:
                    exec(compiled, namespace)
                finally:
                    for w in caught:
                        buffer.write(f"{w.category.__name__}: {w.message}\n")
        except Exception as exc:  # reported by the caller, with the page and line
            error = exc
        finally:
            os.chdir(previous)
            wall, cpu = _TIMES.get(self.env.docname, (0.0, 0.0))
            _TIMES[self.env.docname] = (wall + time.perf_counter() - start,
                                        cpu + time.process_time() - start_cpu)
        return buffer.getvalue(), error


def _report_times(app, exception) -> None:
    if exception is not None or not _TIMES:
        return
    budget = app.config.runcode_page_budget
    for docname, (wall, cpu) in sorted(_TIMES.items()):
        logger.info(f"[runcode] {docname}: {wall:.1f} s ({cpu:.1f} s of CPU)")
        if cpu > budget:
            logger.warning(f"runcode: {docname} used {cpu:.1f} s of CPU running its code, over "
                           f"the budget of {budget} s (runcode_page_budget): make it smaller")


def setup(app):
    app.add_config_value("runcode_page_budget", 30.0, "env")
    app.add_directive("runcode", RunCode)
    app.connect("source-read", _fresh_namespace)
    app.connect("doctree-read", _drop_namespace)
    app.connect("build-finished", _report_times)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
