"""A piece of rendered HTML that a notebook shows as HTML (``_repr_html_``) and ``str()`` gives
as markup: how the report tables and figures reach both Jupyter and the exported page."""

from __future__ import annotations

__all__ = ["Markup"]


class Markup:
    """Rendered HTML (shown by Jupyter through ``_repr_html_``; ``str()`` gives the markup)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup
