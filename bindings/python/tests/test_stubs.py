"""The stubs (_consentry.pyi) name every parameter as the module does.

stubtest (ctest python.stubtest) checks that every name exists on both sides but cannot read the
parameters of compiled functions; pybind11 writes them in each docstring's first line, so this
test compares those with the stubs: names, order, keyword-only markers and which have defaults.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
from typing import Any, Iterator

import pytest

import consentry
from consentry import _consentry

STUB = pathlib.Path(_consentry.__file__).with_name("_consentry.pyi")


def split_top_level(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def runtime_params(doc: str) -> list[tuple[str, bool, bool]]:
    """(name, keyword-only, has a default) from pybind11's signature line, without self."""
    line = doc.splitlines()[0]
    inside = line[line.index("(") + 1: line.rindex(") ->")]
    params, kw_only = [], False
    for part in split_top_level(inside):
        if part == "*":
            kw_only = True
            continue
        name = part.split(":")[0].strip()
        if name != "self":
            params.append((name, kw_only, "=" in part))
    return params


def stub_params(fn: ast.FunctionDef) -> list[tuple[str, bool, bool]]:
    a = fn.args
    positional = a.posonlyargs + a.args
    first_default = len(positional) - len(a.defaults)
    out = [(p.arg, False, i >= first_default) for i, p in enumerate(positional) if p.arg != "self"]
    out += [(p.arg, True, d is not None) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    return out


def stub_functions() -> Iterator[tuple[str, ast.FunctionDef, Any]]:
    tree = ast.parse(STUB.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node.name, node, getattr(_consentry, node.name)
        elif isinstance(node, ast.ClassDef):
            cls = getattr(_consentry, node.name)
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    is_property = any(isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list)
                    if not is_property and not item.name.startswith("__") or item.name == "__init__":
                        yield f"{node.name}.{item.name}", item, inspect.getattr_static(cls, item.name)


CASES = list(stub_functions())


@pytest.mark.parametrize("name,stub,runtime", CASES, ids=[c[0] for c in CASES])
def test_stub_parameters_match_the_module(name: str, stub: ast.FunctionDef, runtime: Any) -> None:
    if isinstance(runtime, staticmethod):
        runtime = runtime.__func__
    doc = runtime.__doc__ or ""
    if doc.startswith("__init__(*args, **kwargs)") or "Overloaded" in doc.splitlines()[0]:
        pytest.skip("no signature line")
    assert stub_params(stub) == runtime_params(doc), name


def test_every_function_has_a_docstring() -> None:
    for name, _, runtime in CASES:
        if isinstance(runtime, staticmethod):
            runtime = runtime.__func__
        lines = [line for line in (runtime.__doc__ or "").splitlines()[1:] if line.strip()]
        assert lines or name.endswith(("__enter__", "__exit__")), f"{name} has no docstring"
    for cls in (consentry.Vault, consentry.View, consentry.Accessor, consentry.Policy, consentry.FieldValue):
        assert cls.__doc__


def test_the_package_ships_its_stubs_and_py_typed() -> None:
    assert STUB.is_file()
    assert STUB.with_name("py.typed").is_file()
