"""The layering of docs/architecture.md, held by reading every import of the product's code.

Each app may import only itself and the apps below it; no two modules import each other, even through
others, whether at the top of a module or inside a function; and an import inside a function says why.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Lowest first: an app may import the apps before it in this list, never one after it.
LAYERS = [
    "crm",
    "fakegraph",
    "audit",
    "accounts",
    "agents",
    "whatsapp",
    "orders",
    "payments",
    "checkout",
    "invoices",
    "outreach",
    "alerts",
    "dashboard",
    "sandbox",
]


def _product_modules():
    modules = {}
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "tests" in parts or "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = _product_modules()


def _imports(name, path):
    """(imported module, line, lazy, source line) for each import of a product module in `path`."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in LAYERS:
                yield target, node.lineno, id(node) not in top_level, lines, node


def _graph():
    edges = defaultdict(set)
    for name, path in MODULES.items():
        for target, *_ in _imports(name, path):
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target in MODULES and target != name:
                edges[name].add(target)
    return edges


def test_every_import_points_down_the_layers():
    upward = []
    for name, path in MODULES.items():
        layer = LAYERS.index(name.split(".")[0])
        for target, line, *_ in _imports(name, path):
            if LAYERS.index(target.split(".")[0]) > layer:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert upward == []


def test_no_modules_import_each_other():
    edges = _graph()
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(module):  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in list(MODULES):
        if module not in index:
            visit(module)
    assert circles == []


def _explained(lines, first, last):
    """Whether a comment says why: on the import's own lines, or just above the run of imports it is in."""
    if any("#" in text for text in lines[first - 1 : last]):
        return True
    above = first - 2
    while above >= 0 and (not lines[above].strip() or lines[above].lstrip().startswith(("from ", "import "))):
        above -= 1
    return above >= 0 and lines[above].lstrip().startswith("#")


def test_an_import_inside_a_function_says_why():
    silent = []
    for name, path in MODULES.items():
        for target, line, lazy, lines, node in _imports(name, path):
            if not lazy:
                continue
            if not _explained(lines, line, node.end_lineno):
                silent.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert silent == []


def test_the_check_sees_an_upward_import_inside_a_function(tmp_path):
    """The walk itself: an agents module importing orders, inside a function, is caught twice over."""
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from orders import placing\n")
    found = list(_imports("agents.probe", module))
    assert [(target, lazy) for target, _, lazy, *_ in found] == [("orders.placing", True)]
    lines = module.read_text().splitlines()
    assert not _explained(lines, 2, 2)
    assert _explained(["def f():", "    # why", "    import a", "", "    import b"], 5, 5)
