"""A layout probe for the HTML reports in headless Chromium: measurements made in the page.

:func:`probe_copy` writes a copy of a report with the probe script (and without the
Content-Security-Policy, which forbids scripts); :func:`harness` writes one page that shows each
copy in an iframe of a given width, so that one Chromium run measures every page at every width.
The probe in each frame posts its findings to the harness, which writes them, as JSON, into an
attribute of its ``<html>`` element for ``--dump-dom`` to print; :func:`read_results` reads them.

What the probe reports as problems, one line each:

- ``past viewport``: an element's box reaches past the viewport's left or right edge (not
  counting the contents of a scroll container, whose width is checked apart);
- ``content overflows``: an element with ``overflow: visible`` holds content wider than itself;
- ``scrolls``: a scroll container (a wide table's wrapper) holds content wider than itself, so
  part of it is hidden until scrolled;
- ``word broken``: a short word (24 characters at most, e.g. ``NaN`` or ``include_background``)
  is split over several lines, as it is in a column squeezed to a few pixels;
- ``text outside chart``: an SVG text reaches past its chart's box (the SVG clips it);
- ``texts overlap``: the boxes of two texts of one chart intersect (by more than 1 px both ways);
- ``label on point``: a point's name (``text.highlight-name``, or the text after a highlighted
  point) covers a point of its chart;
- ``text too small``: a chart text is drawn smaller than 9 CSS pixels (the chart scaled down).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

PROBE = r"""<script>
(function () {
  function describe(e) {
    var cls = e.getAttribute('class');
    var text = (e.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 40);
    return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (cls ? '.' + cls.trim().split(/\s+/).join('.') : '') + '[' + text + ']';
  }
  function overlap(a, b, tol) {
    return Math.min(a.right, b.right) - Math.max(a.left, b.left) > tol &&
      Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > tol;
  }
  function run() {
    var d = document.documentElement, W = d.clientWidth, problems = [];
    function flag(kind, e, extra) { problems.push(kind + ': ' + describe(e) + (extra ? ' ' + extra : '')); }
    document.querySelectorAll('body *').forEach(function (e) {
      if (e.ownerSVGElement || e.tagName === 'SCRIPT') return;
      var r = e.getBoundingClientRect();
      if (!r.width) return;
      var scroller = e.parentElement && e.parentElement.closest('.table-wrap');
      if (!scroller && (r.right > W + 0.5 || r.left < -0.5)) flag('past viewport', e, r.left + '..' + r.right);
      if (e.tagName !== 'svg' && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) {
        var ov = getComputedStyle(e).overflowX;
        if (ov === 'visible') flag('content overflows', e, e.scrollWidth + '>' + e.clientWidth);
        else if (e.matches('.table-wrap')) flag('scrolls', e, e.scrollWidth + '>' + e.clientWidth);
      }
    });
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), node;
    var range = document.createRange();
    while ((node = walker.nextNode())) {
      var word = node.textContent.trim();
      var parent = node.parentElement;
      if (!word || /\s/.test(word) || word.length > 24 || !parent || parent.ownerSVGElement ||
          parent.closest('svg, script, style, title')) continue;
      range.selectNodeContents(node);
      var tops = {};
      [].slice.call(range.getClientRects()).forEach(function (r) { if (r.width > 0) tops[Math.round(r.top)] = 1; });
      if (Object.keys(tops).length > 1) flag('word broken', parent, word);
    }
    var n_texts = 0, n_charts = 0;
    document.querySelectorAll('svg.chart').forEach(function (s) {
      n_charts += 1;
      var box = s.getBoundingClientRect();
      var scale = box.width / s.viewBox.baseVal.width;
      var texts = [].slice.call(s.querySelectorAll('text')).map(function (t) {
        return [t, t.getBoundingClientRect()];
      }).filter(function (p) { return p[1].width > 0; });
      n_texts += texts.length;
      texts.forEach(function (p, i) {
        var r = p[1];
        if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)
          flag('text outside chart', p[0], describe(s));
        var size = parseFloat(getComputedStyle(p[0]).fontSize) * scale;
        if (size < 9) flag('text too small', p[0], size.toFixed(1) + 'px');
        for (var j = i + 1; j < texts.length; j++)
          if (overlap(r, texts[j][1], 1)) flag('texts overlap', p[0], 'and ' + describe(texts[j][0]));
      });
      var points = [].slice.call(s.querySelectorAll('circle.point')).map(function (c) { return c.getBoundingClientRect(); });
      s.querySelectorAll('text.highlight-name, circle.highlight + text').forEach(function (t) {
        var r = t.getBoundingClientRect();
        var hits = points.filter(function (c) { return overlap(r, c, 0.5); }).length;
        if (hits) flag('label on point', t, hits + ' point(s)');
      });
    });
    parent_post({key: location.hash.slice(1), width: W, inner: window.innerWidth,
      scroll: d.scrollWidth, charts: n_charts, texts: n_texts, problems: problems});
  }
  function parent_post(result) { window.parent.postMessage(JSON.stringify(result), '*'); }
  window.addEventListener('load', function () { setTimeout(run, 0); });
})();
</script>"""

HARNESS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
body{margin:0} iframe{position:absolute;top:0;left:0;height:900px;border:0}
</style></head><body>
<script>
var expected = %d, got = {};
window.addEventListener('message', function (event) {
  var result = JSON.parse(event.data);
  got[result.key] = result;
  if (Object.keys(got).length === expected)
    document.documentElement.setAttribute('data-results', JSON.stringify(got));
});
</script>
%s
</body></html>
"""


def probe_copy(report: Path, out: Path) -> Path:
    """Write a copy of ``report`` with the probe and without the Content-Security-Policy."""
    doc = report.read_text(encoding="utf-8")
    doc = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", doc)
    out.write_text(doc.replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
    return out


def harness(pages: dict[str, Path], widths: tuple[int, ...], out: Path) -> Path:
    """Write a page showing each probed page at each width, in iframes (keys ``name@width``)."""
    frames = "\n".join(
        f'<iframe src="{html.escape(page.resolve().as_uri())}#{name}@{w}" width="{w}"></iframe>'
        for name, page in pages.items()
        for w in widths
    )
    out.write_text(HARNESS % (len(pages) * len(widths), frames), encoding="utf-8")
    return out


def read_results(dom: str) -> dict[str, Any]:
    """The probe results in a DOM dumped by Chromium, by ``name@width``."""
    match = re.search(r'data-results="([^"]*)"', dom)
    assert match is not None, "the probes did not all report (a page failed to load?)"
    results: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return results
