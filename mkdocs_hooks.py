"""mkdocs hooks and a griffe extension for the reference.

The hooks fill generated tables from the code, so the docs never repeat the lifecycle's
definition by hand. `AttrsSignatures` gives every attrs class in the reference the
constructor attrs writes for it, with its aliases, types and defaults.
"""

from __future__ import annotations

import importlib
from typing import Any

import attrs
import griffe

from stars import STARS
from stars.stages import Stage


def _stage_table() -> str:
    rows = [
        "| stage | STARS situation | kind | posture | what it looks like |",
        "|---|---|---|---|---|",
    ]
    for s in Stage:
        p = s.profile
        name = f"**{s.value.upper()}**" + (f" ({p.acronym})" if p.acronym else "")
        cells = [name, p.situation, s.kind.value, ", ".join(p.posture), p.characteristics]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _transition_table() -> str:
    rows = ["| trigger | from | to | cycle | guards |", "|---|---|---|---|---|"]
    for t in STARS.transitions:
        guards = ", ".join(g.label for g in t.guards) or "none"
        rows.append(
            f"| `{t.trigger}` | {', '.join(t.sources)} | {t.dest} | {t.cycle.value} | {guards} |"
        )
    return "\n".join(rows)


def _actions() -> str:
    out = []
    for s in Stage:
        p = s.profile
        out.append(f"### {s.value.upper()}: {' and '.join(p.posture)}\n")
        out += [f"- {a}" for a in p.key_actions]
        out.append("")
    return "\n".join(out)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the placeholders with tables generated from `stars.STARS`."""
    return (
        markdown.replace("<!-- stars:stage-table -->", _stage_table())
        .replace("<!-- stars:transition-table -->", _transition_table())
        .replace("<!-- stars:key-actions -->", _actions())
        .replace("<!-- stars:mermaid -->", "```mermaid\n" + STARS.to_mermaid() + "\n```")
    )


# --- the reference: attrs classes get the constructor attrs writes for them -------------------

_FIELD_CALLS = ("attrs.field", "attr.ib", "attr.field")


def _field_call_args(value: object) -> dict[str, Any]:
    """The keyword arguments of an ``attrs.field(...)`` call, as griffe expressions."""
    if isinstance(value, griffe.ExprCall) and value.function.canonical_path in _FIELD_CALLS:
        return {a.name: a.value for a in value.arguments if isinstance(a, griffe.ExprKeyword)}
    return {}


def _default(field: Any, value: object) -> str | griffe.Expr | None:
    if field.default is attrs.NOTHING:
        return None  # required
    args = _field_call_args(value)
    if "factory" in args:
        return griffe.ExprCall(function=args["factory"], arguments=[])
    if "default" in args:
        return args["default"]  # type: ignore[no-any-return]
    if isinstance(value, griffe.Expr | str) and not isinstance(value, griffe.ExprCall):
        return value
    return repr(field.default)


def _attrs_init(cls: griffe.Class, runtime: type) -> griffe.Function:
    """An ``__init__`` with the parameters attrs generates: aliases, types, defaults, order."""
    members = cls.all_members
    params = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
    for field in attrs.fields(runtime):
        if not field.init:
            continue
        static = members.get(field.name)
        annotation = getattr(static, "annotation", None)
        if annotation is None and field.type is not None:
            annotation = str(field.type)
        kind = griffe.ParameterKind.keyword_only if field.kw_only else None
        params.append(
            griffe.Parameter(
                field.alias or field.name,
                annotation=annotation,
                kind=kind or griffe.ParameterKind.positional_or_keyword,
                default=_default(field, getattr(static, "value", None)),
            )
        )
    return griffe.Function(
        "__init__",
        lineno=cls.lineno,
        endlineno=cls.lineno,
        parent=cls,
        parameters=griffe.Parameters(*params),
        returns="None",
    )


def _runtime(cls: griffe.Class) -> object:
    obj: object = importlib.import_module(cls.module.path)
    for part in cls.path[len(cls.module.path) + 1 :].split("."):
        obj = getattr(obj, part, None)
    return obj


class AttrsSignatures(griffe.Extension):
    """Give attrs classes the ``__init__`` that attrs generates at run time.

    Without it, griffe sees no constructor: the reference shows no signature, lists every
    documented argument as unknown, and warns once per argument.
    """

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Walk the package once it is loaded."""
        self._walk(pkg, set())

    def _walk(self, obj: griffe.Module | griffe.Class, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        for member in list(obj.members.values()):
            if member.is_alias:
                continue
            if isinstance(member, griffe.Class):
                runtime = _runtime(member)
                if "__init__" not in member.members and attrs.has(runtime):  # type: ignore[arg-type]
                    member.set_member("__init__", _attrs_init(member, runtime))  # type: ignore[arg-type]
                self._walk(member, seen)
            elif isinstance(member, griffe.Module):
                self._walk(member, seen)
