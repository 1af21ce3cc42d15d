"""Figures that show themselves (private).

Every picture `stars` draws is a matplotlib `Figure` built without pyplot, so no global state
changes. Jupyter only draws a plain `Figure` once the inline backend has been set up (by
``%matplotlib inline`` or by importing pyplot); before that, a figure left as a cell's value
prints as ``<Figure size 800x450 with 1 Axes>``. The figures made here carry their own
``_repr_png_`` and ``_repr_html_``, so they show as pictures in a fresh kernel, in any
front end, with no magic.
"""

from __future__ import annotations

import base64
import functools
import io
from html import escape
from typing import TYPE_CHECKING, Any

from stars.errors import MissingDependency

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Resolution of the pictures shown in notebooks and embedded in HTML reports.
DPI = 100


def require_matplotlib() -> None:
    """Raise `MissingDependency` (the ``plot`` extra) unless matplotlib can be imported."""
    _figure_class()


def _figure_class() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependency("matplotlib", "plot") from None
    return _shown(Figure)


@functools.cache
def _shown(base: type[Figure]) -> type[Figure]:
    class ShownFigure(base):  # type: ignore[valid-type,misc]
        """A matplotlib `Figure` that shows as a picture in a notebook."""

        def _repr_png_(self) -> bytes:
            return png(self)

        def _repr_html_(self) -> str:
            return img(self)

    ShownFigure.__module__ = __name__
    return ShownFigure


def __getattr__(name: str) -> Any:
    if name == "ShownFigure":  # lets pickle find the class, which needs matplotlib
        return _figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def figure(width: float, height: float, **kwargs: Any) -> Figure:
    """A new figure of ``width`` x ``height`` inches that shows itself in notebooks."""
    return _figure_class()(figsize=(width, height), **kwargs)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def title(fig: Figure) -> str:
    """What the figure shows, from its title and axis titles (for alt text and captions)."""
    titles = [fig.get_suptitle()] if fig.get_suptitle() else []
    titles += [ax.get_title() for ax in fig.axes if ax.get_title()]
    return "; ".join(titles) or "figure"


def img(fig: Figure, alt: str | None = None) -> str:
    """An ``<img>`` with the figure embedded as a base64 PNG: no file, no network."""
    data = base64.b64encode(png(fig)).decode("ascii")
    text = escape(alt or title(fig), quote=True)
    return f'<img src="data:image/png;base64,{data}" alt="{text}" style="max-width:100%">'
