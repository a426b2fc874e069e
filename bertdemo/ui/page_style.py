"""Page-wide CSS and a small script for what Gradio 6.17 leaves to the app: keyboard order, names, looks.

Passed to launch() (ui.launch_options: css, head), so app.py and the tests serve the same page.
"""

from __future__ import annotations

PAGE_CSS = """
/* Gradio measures tab widths on a hidden copy of the tab bar; visibility (not only a clip) keeps that copy
   out of the keyboard's tab order, where it came first, off-screen (Tab pressed 12 times to reach the form). */
.tab-wrapper .tab-container.visually-hidden { visibility: hidden; }

/* A disabled button looks disabled whatever its variant (a pale red Stop read as active). */
button.lg[disabled], button.md[disabled], button.sm[disabled] {
  background: var(--neutral-100) !important; color: var(--neutral-400) !important;
  border: 1px dashed var(--neutral-300) !important; box-shadow: none !important; cursor: not-allowed !important;
}

/* A tab's "No run yet" line and its button, while runs exist (ui.common.GONE). */
.bd-gone { display: none !important; }

/* Explain: a button of its own size, not a thin full-width strip. */
button.bd-explain { max-width: 26rem; min-height: 40px; align-self: flex-start; }

/* Several explanations (Compare): one text per line. HighlightedText lays its tokens out in one run, newlines
   included; the script below marks the tokens that are line breaks. */
.textfield .token-container.bd-break { display: block; flex-basis: 100%; width: 100%; height: 0.6em; overflow: hidden; }

/* A phone: a table of many columns scrolls sideways inside its own box with whole headers, instead of squeezing
   each column (the 11 columns of Saved runs stacked "accuracy" one letter per line).
   Gradio sizes every cell inline (px from its column widths), hence !important; only tables of 6+ columns. */
@media (max-width: 640px) {
  .table-wrap:has(th:nth-child(6)) table { width: max-content !important; }
  .table-wrap:has(th:nth-child(6)) :is(th, td, .body-cell) {
    width: 7.5em !important; min-width: 7.5em !important; max-width: 7.5em !important; flex: 0 0 7.5em !important;
  }
  .table-wrap:has(th:nth-child(6)) .virtual-body { width: max-content !important; }
  .table-wrap:has(th:nth-child(6)) th * { white-space: normal !important; text-overflow: clip !important; }
  .table-wrap th, .table-wrap th * { word-break: normal; overflow-wrap: normal; }
  /* Compare's back-end table: headers of two or three words each, kept to two lines. */
  #bd-backends .table-wrap:has(th:nth-child(6)) :is(th, td, .body-cell) {
    width: 9em !important; min-width: 9em !important; max-width: 9em !important; flex: 0 0 9em !important;
  }
}
"""

# Gradio 6.17 gives a multiselect dropdown's input no accessible name, nor the tab bar's overflow button (an
# icon): name every unnamed control after the label of its block, now and whenever Gradio redraws one.
PAGE_JS = """() => {
  const name = () => {
    const unnamed = '.block input:not([aria-label]):not([type=file]), .block textarea:not([aria-label])';
    for (const e of document.querySelectorAll(unnamed)) {
      if ((e.labels && e.labels.length && e.labels[0].innerText.trim()) || e.getAttribute('aria-labelledby')) continue;
      const label = e.closest('.block')?.querySelector('[data-testid="block-info"]');
      if (label && label.innerText.trim()) e.setAttribute('aria-label', label.innerText.trim());
    }
    for (const e of document.querySelectorAll('.overflow-menu > button:not([aria-label])'))
      e.setAttribute('aria-label', 'More tabs');
    for (const e of document.querySelectorAll('.textfield .token-container:not(.bd-break)'))
      if (e.textContent.includes('\\n')) e.classList.add('bd-break');
  };
  name();
  new MutationObserver(name).observe(document.body, {childList: true, subtree: true});
}"""

# launch(js=...) did not run it in Gradio 6.17 (the config carries it, the page never calls it): a head script
# does. Gradio adds the head once the page has loaded, so the script runs at once when it is past loading.
PAGE_HEAD = (
    f"<script>(() => {{ const run = {PAGE_JS}; if (document.readyState === 'loading') "
    "document.addEventListener('DOMContentLoaded', run); else run(); })();</script>"
)
