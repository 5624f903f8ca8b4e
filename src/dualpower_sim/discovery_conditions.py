"""The conditions scenario discovery looks for: a small grammar over the run table.

A condition is a small expression over the columns of the run table: comparisons ``column op
value`` (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``; a value is a number, a quoted text,
``true`` or ``false``) joined by ``and``, ``or``, ``not`` and parentheses, e.g. ``outcome ==
"council_power" and resolved_step < 90``. It is parsed by :func:`parse_condition`, never
evaluated as Python. A run with no value in a column (``resolved_step`` of an unresolved run)
meets no comparison on it.

:class:`DiscoveryError` is raised here (and by :mod:`dualpower_sim.discovery`, which exports
every name of this module) for a condition that cannot be looked for.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, NoReturn

import pandas as pd

__all__ = ["Condition", "DiscoveryError", "parse_condition"]


class DiscoveryError(ValueError):
    """A condition that cannot be looked for: unreadable, or met by no run or by every run."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
      | (?P<text>"[^"]*"|'[^']*')
      | (?P<op>==|!=|<=|>=|<|>|=)
      | (?P<paren>[()])
      | (?P<name>[A-Za-z_][\w.]*)
    )""",
    re.X,
)
_OPERATORS: dict[str, Callable[[pd.Series, Any], pd.Series]] = {
    "==": lambda s, v: s == v,
    "!=": lambda s, v: s != v,
    "<": lambda s, v: s < v,
    "<=": lambda s, v: s <= v,
    ">": lambda s, v: s > v,
    ">=": lambda s, v: s >= v,
}
_WORDS = ("and", "or", "not")
_CONSTANTS = {"true": True, "false": False}


@dataclasses.dataclass(frozen=True)
class Condition:
    """A parsed condition on the run table (see the module's docstring for the grammar).

    Attributes:
        text: The condition as written.
        columns: The columns it reads.
    """

    text: str
    columns: tuple[str, ...]
    _tree: tuple = dataclasses.field(repr=False, compare=False)

    def mask(self, runs: pd.DataFrame) -> pd.Series:
        """Which runs meet the condition.

        Args:
            runs: The run table (one row per run).

        Returns:
            A boolean Series on ``runs``'s index (a run with no value in a compared column
            does not meet that comparison).

        Raises:
            DiscoveryError: If a column is missing or compared with the wrong kind of value.
        """
        missing = [c for c in self.columns if c not in runs.columns]
        if missing:
            raise DiscoveryError(
                f"{self.text!r}: no column {missing[0]!r} in the run table; columns: "
                + ", ".join(map(str, runs.columns))
            )
        return self._evaluate(self._tree, runs)

    def _evaluate(self, node: tuple, runs: pd.DataFrame) -> pd.Series:
        kind = node[0]
        if kind == "and":
            return self._evaluate(node[1], runs) & self._evaluate(node[2], runs)
        if kind == "or":
            return self._evaluate(node[1], runs) | self._evaluate(node[2], runs)
        if kind == "not":
            return ~self._evaluate(node[1], runs)
        _, column, op, value = node
        series = runs[column]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if isinstance(value, str) and numeric:
            raise DiscoveryError(
                f"{self.text!r}: {column} holds numbers; compare it with a number, not {value!r}"
            )
        if not isinstance(value, str) and not numeric and not pd.api.types.is_bool_dtype(series):
            raise DiscoveryError(
                f"{self.text!r}: {column} holds text; compare it with a quoted text, "
                f'e.g. {column} == "{series.dropna().iloc[0] if series.notna().any() else "x"}"'
            )
        if isinstance(value, str) and op not in ("==", "!="):
            raise DiscoveryError(f"{self.text!r}: text can only be compared with == or !=")
        result = _OPERATORS[op](series, value)
        return pd.Series(result, index=runs.index).fillna(False).astype(bool)


def parse_condition(text: str) -> Condition:
    """Read a condition such as ``resolved_step < 90 and outcome == "council_power"``.

    Args:
        text: ``column op value`` comparisons joined by ``and``, ``or``, ``not`` and
            parentheses; ``op`` one of ``==`` (or ``=``), ``!=``, ``<``, ``<=``, ``>``,
            ``>=``; ``value`` a number, a quoted text, ``true`` or ``false``.

    Returns:
        The condition.

    Raises:
        DiscoveryError: If the text does not follow the grammar (the message says where).
    """
    tokens: list[tuple[str, str, int]] = []
    at = 0
    stripped = text.rstrip()
    while at < len(stripped):
        match = _TOKEN.match(stripped, at)
        if match is None or match.end() == at:
            where = len(stripped[:at]) + len(stripped[at:]) - len(stripped[at:].lstrip())
            raise DiscoveryError(
                f"{text!r}: cannot read {stripped[where : where + 12]!r} (character {where + 1}); "
                'allowed: comparisons such as resolved_step < 90 or outcome == "co_opted", '
                "joined by and, or, not and parentheses"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind), match.start(kind)))
        at = match.end()
    if not tokens:
        raise DiscoveryError("the condition is empty; e.g. resolved_step < 90")
    parser = _Parser(text, tokens)
    tree = parser.expression()
    if parser.at < len(tokens):
        parser.fail("and, or or the end")
    return Condition(text, tuple(dict.fromkeys(parser.columns)), tree)


class _Parser:
    """Recursive descent over the tokens: or binds loosest, then and, then not."""

    def __init__(self, text: str, tokens: list[tuple[str, str, int]]) -> None:
        self.text, self.tokens, self.at = text, tokens, 0
        self.columns: list[str] = []

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def word(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "name" and token[1].lower() == word:
            self.at += 1
            return True
        return False

    def fail(self, wanted: str) -> NoReturn:
        token = self.peek()
        found = f"{token[1]!r} (character {token[2] + 1})" if token else "the end"
        raise DiscoveryError(f"{self.text!r}: expected {wanted}, found {found}")

    def expression(self) -> tuple:
        node = self.conjunction()
        while self.word("or"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.negation()
        while self.word("and"):
            node = ("and", node, self.negation())
        return node

    def negation(self) -> tuple:
        if self.word("not"):
            return ("not", self.negation())
        token = self.peek()
        if token and token[:2] == ("paren", "("):
            self.at += 1
            node = self.expression()
            token = self.peek()
            if not token or token[:2] != ("paren", ")"):
                self.fail("a closing parenthesis")
            self.at += 1
            return node
        return self.comparison()

    def comparison(self) -> tuple:
        token = self.peek()
        if not token or token[0] != "name" or token[1].lower() in (*_WORDS, *_CONSTANTS):
            self.fail("a column name")
        column = token[1]
        self.at += 1
        token = self.peek()
        if not token or token[0] != "op":
            self.fail("a comparison (==, !=, <, <=, >, >=)")
        op = "==" if token[1] == "=" else token[1]
        self.at += 1
        token = self.peek()
        if token and token[0] == "number":
            value: Any = float(token[1])
        elif token and token[0] == "text":
            value = token[1][1:-1]
        elif token and token[0] == "name" and token[1].lower() in _CONSTANTS:
            value = _CONSTANTS[token[1].lower()]
        else:
            self.fail("a value (a number, a quoted text, true or false)")
        self.at += 1
        self.columns.append(column)
        return ("compare", column, op, value)
