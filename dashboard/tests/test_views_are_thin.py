"""Views stay thin (STYLE.md: parse the input, call one domain function, render or redirect): no function in
dashboard/views that takes a request runs past 30 lines, from its def line to its last line."""

import ast
import inspect
from pathlib import Path

from dashboard.urls import urlpatterns

VIEWS = Path(__file__).resolve().parents[1] / "views"
MAX_LINES = 30


def _views(source):
    """(name, def line, lines from the def line to the last) of each function whose first argument is `request`."""
    for node in ast.walk(ast.parse(source)):
        function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        if function and [argument.arg for argument in node.args.args[:1]] == ["request"]:
            yield node.name, node.lineno, node.end_lineno - node.lineno + 1


def _all_views():
    for path in sorted(VIEWS.glob("*.py")):
        for name, line, length in _views(path.read_text()):
            yield path, name, line, length


def test_no_view_runs_past_30_lines():
    long = [
        f"dashboard/views/{path.name}:{line} {name} has {length} lines"
        for path, name, line, length in _all_views()
        if length > MAX_LINES
    ]
    assert long == []


def test_every_dashboard_url_leads_to_a_view_the_check_reads():
    read = {(f"dashboard.views.{path.stem}", name) for path, name, *_ in _all_views()}
    views = {(view.__module__, view.__name__) for view in (inspect.unwrap(p.callback) for p in urlpatterns)}
    assert views - read == set()


def test_the_count_runs_from_the_def_line_to_the_last_line():
    body = "".join(f"    x = {n}\n" for n in range(29))
    source = f"@decorated\ndef view(request):\n{body}\n\ndef helper(order):\n{body}    return x\n"
    assert list(_views(source)) == [("view", 2, 30)]
    assert [length for *_, length in _views(source.replace("x = 0\n", "x = 0\n    y = 0\n", 1))] == [31]
