"""The Jinja2 environment templates run in: sandboxed, autoescaping, strict, and bounded.

Templates are edited by the office, so their code is untrusted: the sandbox refuses attribute
tricks such as ``''.__class__`` and changing lists or dicts. Values are data, never code:
autoescape turns & < > " ' into XML entities (docxtpl silently drops text otherwise), and a value
such as ``{{ 7*7 }}`` is printed as it is. Dates print in the GB/T 9704 form, so
``{{ issue_date }}`` needs no filter.

A template must not hold a worker: every loop, call, attribute and printed value spends from a
budget started by ``Budget`` (operations, characters, seconds), and what could build a huge value
in one step (``'x' * n``, ``'%9999999d' % 1``, ``' '.ljust(n)``, ``|center``) is refused or
capped. ``{% autoescape false %}`` is refused at compile time: with it a value could write XML
(a field that makes LibreOffice fetch a URL) into the document.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.defaults import DEFAULT_FILTERS, DEFAULT_NAMESPACE
from jinja2.sandbox import ImmutableSandboxedEnvironment

from letters._errors import TemplateError
from letters._format import cn_date, sentence

FILTERS: dict[str, Callable[..., Any]] = {"cn_date": cn_date, "sentence": sentence}
# Jinja2's filters that cannot build a value much bigger than their input (center, indent,
# wordwrap, format, batch and slice can: they are left out; join and replace are capped below).
SAFE_FILTERS = ("abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape",
                "first", "float", "groupby", "int", "items", "join", "last", "length", "list",
                "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse",
                "round", "select", "selectattr", "sort", "string", "striptags", "sum", "title",
                "trim", "truncate", "unique", "upper", "wordcount")
# Methods a template may call on a value; any other callable attribute is refused.
SAFE_METHODS = frozenset({"strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize",
                          "startswith", "endswith", "split", "isdigit", "isalpha", "count",
                          "find", "index", "get", "items", "keys", "values", "strftime",
                          "isoformat", "weekday", "isoweekday", "cycle", "changed"})

MAX_OPERATIONS = 200_000  # loop turns, calls and attribute reads in one render
MAX_CHARACTERS = 5_000_000  # printed values and repeated template text, in one render
MAX_VALUE = 1_000_000  # characters of one value built inside a template
MAX_RANGE = 10_000
RENDER_SECONDS = 10.0


class Budget:
    """What one rendering may still spend; used as a context manager around the render."""

    def __init__(self, seconds: float = RENDER_SECONDS) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.operations = MAX_OPERATIONS
        self.characters = MAX_CHARACTERS
        self._token: contextvars.Token[Budget | None] | None = None

    def __enter__(self) -> Budget:
        self.deadline = time.monotonic() + self.seconds
        self._token = _BUDGET.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _BUDGET.reset(self._token)

    def spend(self, operations: int = 1, characters: int = 0) -> None:
        """Take from the budget; refuse (TemplateError) once any part of it is used up."""
        self.operations -= operations
        self.characters -= characters
        if self.operations < 0:
            raise TemplateError(f"模板运算次数超过上限（{MAX_OPERATIONS} 次）：循环或宏调用过多，"
                                "请检查模板中的 for 循环与宏")
        if self.characters < 0:
            raise TemplateError(f"模板生成的文字超过上限（{MAX_CHARACTERS} 字）：请检查模板中的"
                                "循环是否重复输出了大段内容")
        if time.monotonic() > self.deadline:
            raise TemplateError(f"模板渲染超过 {self.seconds:g} 秒仍未完成，已停止：请检查模板中"
                                "的循环与宏")


_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("letters_budget",
                                                                        default=None)


def _spend(operations: int = 1, characters: int = 0) -> None:
    """Spend from the current render's budget (compiling a template outside a render is free)."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(operations, characters)


def _too_big(size: int, what: str) -> None:
    if size > MAX_VALUE:
        raise TemplateError(f"模板中的{what}会生成 {size} 个字符（上限 {MAX_VALUE}），已拒绝")


def _finalize(value: Any) -> Any:
    """Print dates as 2026年11月24日 and None as nothing, never as the word "None"."""
    if value is None:
        return ""
    if isinstance(value, date):
        value = cn_date(value)
    _spend(1, len(value) if isinstance(value, str) else 8)
    return value


def _bounded(iterable: Iterable[Any], weight: int) -> Iterator[Any]:
    """Iterate a template loop, paying for every turn and the template text it repeats."""
    for item in iterable:
        _spend(1, weight)
        yield item


def _range(*args: int) -> range:
    found = range(*args)
    if len(found) > MAX_RANGE:
        raise TemplateError(f"模板中的 range 有 {len(found)} 项，超过上限 {MAX_RANGE}")
    return found


def _join(value: Iterable[Any], d: str = "", attribute: str | int | None = None) -> str:
    items = [str(x if attribute is None else x[attribute]) for x in value]
    _too_big(sum(map(len, items)) + len(str(d)) * len(items), "join")
    return str(d).join(items)


def _replace(s: str, old: str, new: str, count: int | None = None) -> str:
    s, old, new = str(s), str(old), str(new)
    times = (s.count(old) if old else len(s) + 1) if count is None else min(count, len(s) + 1)
    _too_big(len(s) + times * len(new), "replace")
    return s.replace(old, new, -1 if count is None else count)


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with loops, calls and the size of built values paid for or capped."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Refuse repetitions and powers that would build huge values, and string % formats."""
        _spend()
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int):
                    _too_big(len(seq) * n, "乘法重复")
        elif operator == "**" and isinstance(right, int) and abs(right) > 1000:
            raise TemplateError("模板中的乘方指数过大，已拒绝")
        elif operator == "%" and isinstance(left, str):
            raise TemplateError("模板中不能用 % 格式化文字")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Pay for every call (macros included) before making it."""
        _spend()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _spend()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _spend()
        return super().getitem(obj, argument)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Only the harmless methods: ``' '.ljust(10**9)`` would fill the memory in one call."""
        if callable(value) and attr not in SAFE_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Parse, refuse autoescape blocks, and route every for loop through the budget."""
        tree = super()._parse(source, name, filename)
        for scope in tree.find_all((nodes.ScopedEvalContextModifier, nodes.EvalContextModifier)):
            raise TemplateSyntaxError("模板中不允许 {% autoescape %}：字段的值必须按文字输出",
                                      scope.lineno, name, filename)
        for loop in tree.find_all(nodes.For):
            weight = sum(len(d.data) for d in loop.find_all(nodes.TemplateData))
            loop.iter = nodes.Filter(loop.iter, "_bounded", [nodes.Const(weight)], [], None, None,
                                     lineno=loop.lineno)
        tree.set_environment(self)
        return tree


def make_environment(*, autoescape: bool = True) -> BoundedEnvironment:
    """Build a fresh environment (docxtpl mutates the one it is given, so none is shared)."""
    env = BoundedEnvironment(autoescape=autoescape, undefined=StrictUndefined,
                             finalize=_finalize)
    env.filters = {name: DEFAULT_FILTERS[name] for name in SAFE_FILTERS}
    env.filters.update(FILTERS, join=_join, replace=_replace, _bounded=_bounded)
    # No namespace() (a loop could grow a value turn after turn) and no lipsum().
    env.globals = {"range": _range, "dict": dict, "cycler": DEFAULT_NAMESPACE["cycler"],
                   "joiner": DEFAULT_NAMESPACE["joiner"]}
    return env
