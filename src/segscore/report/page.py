"""The head of every self-contained HTML page segscore writes (``report.html``, ``compare.html``).

One Content-Security-Policy for both: no script, no network access, images only as ``data:``
URIs, inline styles only.
"""

from __future__ import annotations

import html

__all__ = ["CSP", "page_head"]

CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)
"""The pages' Content-Security-Policy."""


def page_head(title: str, css: str) -> str:
    """Return the document up to ``<body>``: doctype, CSP, viewport, the (escaped) title, ``css``.

    Examples
    --------
    >>> head = page_head("a <b>", "p{margin:0}")
    >>> head.endswith("<body>"), "<title>a &lt;b&gt;</title>" in head, CSP in head
    (True, True, True)
    """
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="segscore">'
        f"<title>{html.escape(title)}</title><style>{css}</style></head>\n<body>"
    )
