"""mkdocs hooks and a griffe extension for the reference.

The hooks fill generated tables from the code, so the docs never repeat the lifecycle's
definition by hand. `AttrsSignatures` gives every attrs class in the reference the
constructor attrs writes for it, with its aliases, types and defaults.
"""

from __future__ import annotations

import importlib
import re
import shutil
import tempfile
from pathlib import Path
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


# The lifecycle in four small pictures instead of one with 23 arrows: each path reads on its own.
_PATHS = (
    ("The growth path", lambda t: t.cycle.value == "growth"),
    ("Into trouble", lambda t: t.cycle.value == "crisis" and t.dest != "churn"),
    ("The way back", lambda t: t.cycle.value == "recovery" and t.dest != "prospect"),
    ("Losing the account, and winning it back", lambda t: "churn" in (t.dest, *t.sources)),
)
_KIND_STYLE = {
    "before": "fill:#eeeeee,stroke:#757575,color:#212121",
    "growth": "fill:#e8f5e9,stroke:#2e7d32,color:#1b5e20",
    "crisis": "fill:#fff3e0,stroke:#e65100,color:#bf360c",
    "lost": "fill:#cfd8dc,stroke:#37474f,color:#263238",
}


def _path_diagram(keep: Any) -> str:
    kinds = {s.value: s.kind.value for s in Stage}
    lines = ["flowchart LR"]
    used: list[str] = []
    for t in STARS.transitions:
        if not keep(t):
            continue
        guards = " & ".join(g.label for g in t.guards)
        label = f"<b>{t.trigger}</b>" + (f"<br/>{guards}" if guards else "")
        for source in t.sources:
            lines.append(f'    {source} -->|"{label}"| {t.dest}')
            used += [s for s in (source, t.dest) if s not in used]
    order = [s.value for s in Stage]  # declared in lifecycle order: the layout reads left to right
    used.sort(key=lambda stage: order.index(stage) if stage in order else len(order))
    lines[1:1] = [f"    {stage}([{stage.upper()}])" for stage in used]
    lines += [f"    classDef {kind} {style}" for kind, style in _KIND_STYLE.items()]
    lines += [f"    class {stage} {kinds.get(stage, 'growth')}" for stage in used]
    return "\n".join(lines)


def _lifecycle_diagrams() -> str:
    out = []
    for title, keep in _PATHS:
        out.append(f"**{title}**\n\n```mermaid\n{_path_diagram(keep)}\n```\n")
    return "\n".join(out)


def _actions() -> str:
    out = []
    for s in Stage:
        p = s.profile
        out.append(f"### {s.value.upper()}: {' and '.join(p.posture)}\n")
        out += [f"- {a}" for a in p.key_actions]
        out.append("")
    return "\n".join(out)


# --- executed documentation -------------------------------------------------------------------

# Every ```python block runs at build time (markdown-exec) and the page shows what it printed.
# Blocks of one page share a session, in page order, and run in a scratch folder of their own,
# so examples that write files never write into the project. A block that says `html="1"`
# prints HTML (a figure, a report) that goes onto the page as it is. A block that sets `exec`
# itself is left as its author wrote it.
_PYTHON_FENCE = re.compile(r"^```python([^\n]*)$", re.M)
_scratch: Path | None = None


def on_pre_build(**kwargs: Any) -> None:
    """Make the scratch folder the examples run in."""
    global _scratch
    _scratch = Path(tempfile.mkdtemp(prefix="stars-docs-"))


def on_post_build(**kwargs: Any) -> None:
    """Remove the scratch folder."""
    if _scratch is not None:
        shutil.rmtree(_scratch, ignore_errors=True)


def on_build_error(**kwargs: Any) -> None:
    """Remove the scratch folder after a failed build too."""
    on_post_build()


def _executed(markdown: str, page: str) -> str:
    if _scratch is None:  # pragma: no cover - on_pre_build always runs first
        raise RuntimeError("the scratch folder is missing")
    workdir = _scratch / re.sub(r"[^\w]+", "-", page)
    workdir.mkdir(parents=True, exist_ok=True)

    def fence(match: re.Match[str]) -> str:
        options = match.group(1)
        if "exec=" in options:
            return match.group(0)
        added = f' exec="1" session="{page}" source="block" workdir="{workdir}"'
        if 'html="1"' not in options:
            added += ' result="text"'
        return f"```python{options}{added}"

    return _PYTHON_FENCE.sub(fence, markdown)


_EMPTY_RESULT = re.compile(
    r'<div class="result">\s*<div class="highlight"><pre><span></span><code>\s*</code></pre></div>'
    r"\s*</div>"
)


def on_page_content(html: str, **kwargs: Any) -> str:
    """Drop the empty output box under a block that printed nothing (it only defines things)."""
    return _EMPTY_RESULT.sub("", html)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Fill the generated tables and mark every Python block for execution."""
    markdown = _executed(markdown, page.file.src_uri)
    return (
        markdown.replace("<!-- stars:stage-table -->", _stage_table())
        .replace("<!-- stars:transition-table -->", _transition_table())
        .replace("<!-- stars:key-actions -->", _actions())
        .replace("<!-- stars:mermaid -->", _lifecycle_diagrams())
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
    if isinstance(field.default, attrs.Factory) and field.default.takes_self:  # type: ignore[arg-type]
        return "..."  # computed from the other fields; the docstring says how
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
