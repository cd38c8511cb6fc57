"""Retention: how long each kind of record and of personal data is kept, declared by the domain that owns it, and
applied by ``flask retention run`` (a dry run unless ``--apply``). The periods, their reasons and what a person may
ask to see or erase: docs/operations.md ("Retention and personal data").

A domain declares a rule from its package::

    from app import retention
    retention.rule("marketplace.order_contacts", _l("Shoppers' contact details on orders"), "orders",
                   days=365, clock="created_at", anonymise={"buyer_name": "", "phone": ""},
                   where=lambda t: ..., basis=_l("Delivery and the order look-up; the amounts stay for accounting."))

``anonymise`` replaces the named columns (a value, or a function of the table giving an SQL expression, for values
that must stay unique); without it the rows are deleted. ``clock`` is the column (or a function of the table giving
an expression) from which the period runs; ``where`` limits the rule to rows that are done with (a finished dossier,
a delivered order). Records a person's right to erasure reaches are those of anonymising rules (``flask
personal-data erase``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Rule", "check", "rule", "rules"]


@dataclass(frozen=True)
class Rule:
    name: str
    label: object
    table: str
    days: int
    clock: str | Callable
    anonymise: dict = field(default_factory=dict)  # empty: delete the rows
    where: Callable | None = None
    basis: object = ""

    @property
    def deletes(self) -> bool:
        return not self.anonymise


_RULES: dict[str, Rule] = {}


def rule(name: str, label, table: str, *, days: int, clock: str | Callable, anonymise: dict | None = None,
         where: Callable | None = None, basis="") -> None:
    if days < 1:
        raise ValueError("a retention period is at least a day")
    if anonymise and all(callable(value) for value in anonymise.values()):
        raise ValueError("an anonymising rule sets at least one plain value (it tells rows already done)")
    _RULES[name] = Rule(name, label, table, days, clock, dict(anonymise or {}), where, basis)


def rules() -> list[Rule]:
    return sorted(_RULES.values(), key=lambda r: r.name)


def check(metadata) -> list[str]:
    problems = []
    for declared in _RULES.values():
        table = metadata.tables.get(declared.table)
        if table is None:
            problems.append(f"retention.rule({declared.name!r}): no table {declared.table!r}")
            continue
        names = list(declared.anonymise) + ([declared.clock] if isinstance(declared.clock, str) else [])
        problems += [f"retention.rule({declared.name!r}): no column {n!r}" for n in names if n not in table.c]
    return problems
