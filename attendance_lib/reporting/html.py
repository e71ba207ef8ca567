"""Executed notebook -> one self-contained HTML file, code hidden (product.md, "Reports").

* Input cells and their ``In [n]`` prompts are excluded (nbconvert ``exclude_input``; papermill's
  ``report_mode`` only marks them hidden, which some viewers ignore: papermill #506).
* Cells tagged ``remove-cell`` / ``remove_cell`` are dropped; outputs tagged ``remove-output``.
* Charts are already PNG data URIs; images in markdown are embedded too (``embed_images``).
* No script is fetched from the internet: nbconvert's lab template loads require.js, MathJax and
  mermaid from a CDN, which would leak that a report was opened and fail offline, so those
  blocks are emptied. A page of pupil data never calls out.
* A print style sheet: A4 margins, no page break inside a chart or table row, links printed
  plainly, so a head teacher can print the report.
"""

from __future__ import annotations

import html as _html
from functools import lru_cache

__all__ = ["notebook_to_html", "PRINT_CSS"]

PRINT_CSS = """
body.jp-Notebook { max-width: 1100px; margin: 0 auto; padding: 0 1.2em 2em; }
.jp-Cell { padding: 0; }
.jp-MarkdownCell .jp-RenderedMarkdown { padding-left: 0; }  /* line up with the outputs */
.jp-OutputArea-output table { font-variant-numeric: tabular-nums; }
.attendance-footer { color: #555; font-size: 0.85em; border-top: 1px solid #ccc;
  margin-top: 2em; padding-top: 0.5em; }
@page { size: A4; margin: 15mm 12mm; }
@media print {
  body.jp-Notebook { max-width: none; padding: 0; }
  .jp-Cell, .jp-OutputArea-output img, .jp-OutputArea-output table, figure { break-inside: avoid; }
  tr, img { page-break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .jp-OutputArea-output img { max-width: 100% !important; height: auto; }
}
"""

_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{% block extra_css %}<style type="text/css">{{ resources.attendance_css }}</style>
{% endblock extra_css %}
{% block body_footer %}
{%- if resources.attendance_footer -%}
<footer class="attendance-footer">{{ resources.attendance_footer }}</footer>
{%- endif -%}
</main>
</body>
{% endblock body_footer %}
"""
_NAME = "attendance_report.html.j2"


@lru_cache(maxsize=1)
def _exporter():
    """One exporter per process (building it loads the Jinja templates: ~0.4 s)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "remove_cell"}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output", "remove_output"}
    c.TagRemovePreprocessor.remove_input_tags = {"remove-input", "remove_input"}
    exp = HTMLExporter(config=c, template_name="lab", exclude_input=True,
                       exclude_input_prompt=True, exclude_output_prompt=True,
                       exclude_anchor_links=True, embed_images=True,
                       extra_loaders=[DictLoader({_NAME: _TEMPLATE})])
    exp.template_file = _NAME
    return exp


def notebook_to_html(nb, title: str, footer: str = "") -> str:
    """HTML text for an executed notebook (an ``nbformat.NotebookNode``)."""
    body, _ = _exporter().from_notebook_node(
        nb, resources={"metadata": {"name": title}, "attendance_css": PRINT_CSS,
                       "attendance_footer": _html.escape(footer)})
    return body
