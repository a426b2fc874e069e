"""Checks a page must pass on every tab: accessible names, roles, tab order, and a layout walk (no overlap, no
clipped text, nothing off-screen), written as DOM queries (no axe-core: nothing is downloaded)."""

from __future__ import annotations

import re
from pathlib import Path

TAB_NAMES = ("Train", "Charts", "Models", "Export", "Compare", "Predict")

# Every visible form control and button needs an accessible name; every element with a role a known one.
A11Y_JS = r"""() => {
  const visible = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
      && !e.closest('[aria-hidden="true"], .hide, .hidden'); };
  const nameOf = e => {
    const byIds = (e.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)
      .map(id => document.getElementById(id)?.innerText || '').join(' ');
    const labels = [...(e.labels || [])].map(l => l.innerText).join(' ');
    const text = ['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName) ? '' : e.innerText;
    return (e.getAttribute('aria-label') || byIds || labels || e.getAttribute('title') || text || '').trim();
  };
  const problems = [];
  const controls = document.querySelectorAll(
    'input:not([type=hidden]), textarea, select, button, [role=button], [role=tab], [role=listbox], [role=combobox]');
  for (const e of controls) {
    if (!visible(e)) continue;
    if (e.type === 'file') continue;  // gradio's hidden file input: its drop zone button is named
    if (!nameOf(e)) problems.push(`no accessible name: <${e.tagName.toLowerCase()} class="${e.className}">`
      + ` in "${(e.closest('.block')?.innerText || '').slice(0, 40).replace(/\s+/g, ' ')}"`);
  }
  const roles = new Set(['button', 'tab', 'tablist', 'tabpanel', 'listbox', 'option', 'combobox', 'dialog',
    'alert', 'status', 'progressbar', 'img', 'grid', 'row', 'gridcell', 'columnheader', 'rowheader', 'table',
    'cell', 'presentation', 'none', 'group', 'region', 'textbox', 'checkbox', 'radio', 'menu', 'menuitem',
    'navigation', 'log', 'tooltip', 'separator', 'list', 'listitem', 'main', 'slider', 'spinbutton', 'search',
    'rowgroup', 'heading', 'switch', 'toolbar', 'link', 'figure', 'form', 'contentinfo', 'banner', 'note']);
  for (const e of document.querySelectorAll('[role]'))
    if (visible(e) && !roles.has(e.getAttribute('role'))) problems.push(`unknown role ${e.getAttribute('role')}`);
  return problems;
}"""

# Where keyboard focus lands, press after press: tag, role, name, whether it can be seen.
FOCUS_JS = r"""() => { const e = document.activeElement; const r = e.getBoundingClientRect();
  const s = getComputedStyle(e);
  const hidden = !!e.closest('[aria-hidden="true"], .visually-hidden') || r.width === 0 || s.visibility === 'hidden';
  return {tag: e.tagName, role: e.getAttribute('role'), text: (e.innerText || e.getAttribute('aria-label') || '')
    .trim().slice(0, 40), hidden, x: r.x, input: ['INPUT', 'TEXTAREA'].includes(e.tagName) && e.type !== 'file'}; }"""

# The layout walk: what a user would call broken on this screen.
LAYOUT_JS = r"""() => {
  const visible = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
      && !e.closest('[aria-hidden="true"], .hide, .hidden, .visually-hidden'); };
  const problems = [];
  const W = window.innerWidth;
  if (document.documentElement.scrollWidth > W + 1)
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px wide on a ${W} px screen`);
  // Blocks of one row or column side by side never overlap.
  const blocks = [...document.querySelectorAll('.block')].filter(visible);
  for (let i = 0; i < blocks.length; i++) for (let j = i + 1; j < blocks.length; j++) {
    const a = blocks[i], b = blocks[j];
    if (a.contains(b) || b.contains(a) || a.parentElement !== b.parentElement) continue;
    const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
    const dx = Math.min(p.right, q.right) - Math.max(p.left, q.left);
    const dy = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
    if (dx > 2 && dy > 2) problems.push(`overlap: "${a.innerText.slice(0, 30)}" / "${b.innerText.slice(0, 30)}"`);
  }
  // Text cut off: in a box too narrow (inputs, buttons, labels).
  for (const e of document.querySelectorAll('input, textarea, button, label, [data-testid=block-info]')) {
    if (!visible(e) || e.type === 'file' || e.type === 'checkbox' || e.type === 'number') continue;
    if (e.tagName === 'TEXTAREA') continue;  // wraps and scrolls by design
    if (e.closest('.table-wrap, .modebar, .overflow-menu, .tab-container')) continue;
    if (e.scrollWidth > e.clientWidth + 2 && getComputedStyle(e).overflowX !== 'visible' || (e.tagName === 'INPUT'
        && e.value && e.scrollWidth > e.clientWidth + 2))
      problems.push(`clipped: <${e.tagName.toLowerCase()}> "${(e.value || e.innerText).slice(0, 40)}"`
        + ` (${e.scrollWidth} px of text in ${e.clientWidth} px)`);
  }
  // Nothing essential off the right edge.
  for (const e of document.querySelectorAll('button, input, label, h1, h2, h3, p')) {
    if (!visible(e) || e.closest('.table-wrap, .overflow-dropdown')) continue;
    const r = e.getBoundingClientRect();
    if (r.right > W + 1)
      problems.push(`off-screen: <${e.tagName.toLowerCase()}> "${(e.innerText || '').slice(0, 30)}"`);
  }
  // What a person sees of tables and charts (issue 29): a header broken one letter per line, text cut inside a
  // cell, a table cut by its box instead of scrolling in it, a chart wider than the screen or its box.
  const name = e => (e.closest('.block')?.id || e.closest('.block')?.querySelector('[data-testid=block-info],'
    + ' label, .label')?.innerText || '').trim().slice(0, 30);
  for (const th of document.querySelectorAll('th')) {
    if (!visible(th)) continue;
    const text = th.innerText.trim(); const line = parseFloat(getComputedStyle(th).fontSize) * 1.6;
    if (text && th.getBoundingClientRect().height > 3 * line + 16)  // more than 3 lines: letters stacked
      problems.push(`header broken over lines: "${text}" is ${Math.round(th.getBoundingClientRect().height)} px`
        + ` tall in "${name(th)}"`);
  }
  for (const cell of document.querySelectorAll('td, th')) {
    if (!visible(cell)) continue;
    for (const e of [cell, ...cell.querySelectorAll('*')]) {
      if (!visible(e) || e.closest('details:not([open])')) continue;
      const s = getComputedStyle(e);
      if (e.scrollWidth > e.clientWidth + 2 && ['hidden', 'clip'].includes(s.overflowX) && e.innerText.trim()) {
        problems.push(`text cut in a cell: "${e.innerText.trim().slice(0, 30)}" (${e.scrollWidth} px in`
          + ` ${e.clientWidth} px) in "${name(cell)}"`);
        break;
      }
    }
  }
  for (const table of document.querySelectorAll('table')) {
    if (!visible(table)) continue;
    let box = table.parentElement;
    while (box && box !== document.body && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
      if (box.clientWidth && table.getBoundingClientRect().right > box.getBoundingClientRect().right + 2
          && getComputedStyle(box).overflowX !== 'visible') {
        problems.push(`table cut by its box, not scrolling: "${name(table)}"`); break; }
      box = box.parentElement;
    }
    const r = table.getBoundingClientRect();
    const narrow = box && box !== document.body && box.clientWidth > 0 && box.clientWidth < Math.min(260, W * 0.6);
    if (narrow && r.width > box.clientWidth + 2)
      problems.push(`table squeezed into a ${box.clientWidth} px box: "${name(table)}"`);
    if ((!box || box === document.body) && r.right > W + 1)
      problems.push(`table off-screen: "${name(table)}" ends at ${Math.round(r.right)} px`);
  }
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    if (!visible(plot)) continue;
    const svg = plot.querySelector('svg.main-svg'); if (!svg) continue;
    const r = svg.getBoundingClientRect(); const block = plot.closest('.block')?.getBoundingClientRect();
    if (r.right > W + 1 || r.left < -1)
      problems.push(`chart wider than the screen: "${name(plot)}" ${Math.round(r.width)} px on ${W} px`);
    else if (block && r.right > block.right + 2)
      problems.push(`chart cut by its box: "${name(plot)}" ${Math.round(r.width)} px in ${Math.round(block.width)} px`);
  }
  return problems;
}"""

# Each header cell of a table whose box lies within the table's visible area (not scrolled off, not clipped).
VISIBLE_HEADERS_JS = r"""(sel) => { const root = document.querySelector(sel); if (!root) return null;
  const wrap = root.querySelector('.table-wrap') || root; const box = wrap.getBoundingClientRect();
  return [...root.querySelectorAll('thead th')].filter(th => { const r = th.getBoundingClientRect();
    return r.width > 0 && r.left >= box.left - 1 && r.right <= Math.min(box.right, window.innerWidth) + 1; })
    .map(th => th.innerText.trim()); }"""

# Record every text an element shows, however briefly (an observer set up before the click).
WATCH_JS = """(sel) => { window.__seen = []; const el = document.querySelector(sel);
  new MutationObserver(() => window.__seen.push(el.innerText)).observe(
    el, {subtree: true, childList: true, characterData: true, attributes: true}); }"""


def open_tab(page, name: str) -> None:
    """Click a tab, from the tab bar or, on a narrow screen, from its overflow menu."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
    else:
        page.locator(".overflow-menu > button").click()
        page.locator(".overflow-dropdown button", has_text=name).click()
    page.wait_for_timeout(600)  # the tab's own refresh event


def tab_stops(page, presses: int) -> list[dict]:
    """Focus stops from the top of the page, one per Tab press."""
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    page.locator("h1").first.click()  # a neutral start: the page heading
    stops = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        stops.append(page.evaluate(FOCUS_JS))
    return stops


def tracebacks(log: Path, since: int = 0) -> list[str]:
    """Tracebacks and exception lines the server wrote to its log after byte `since`."""
    text = log.read_bytes()[since:].decode("utf-8", errors="replace")
    return [m.group(0)[:400] for m in re.finditer(r"Traceback \(most recent call last\):[\s\S]*?(?=\n\S|\Z)", text)] + [
        line for line in text.splitlines() if re.search(r"\b(RunNotFound|Exception in|ERROR)\b", line)
    ]
