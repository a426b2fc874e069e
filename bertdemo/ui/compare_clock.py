"""How long Compare will take, estimated from the number of texts and back-ends and from what the last
comparison took on this machine. No gradio."""

from __future__ import annotations

import threading

from bertdemo import config


class CompareClock:
    """Seconds per back-end (load, warm-up, validation accuracy) and per back-end and text (timed repeats),
    plus the idle waits before the first-call figure, which take as long whatever the machine and back-ends.

    Starts from config's figures for a MiniLM on a 2-core CPU and rescales the first two to every comparison
    measured here, so the next estimate speaks for this machine and this load.
    """

    def __init__(
        self,
        load_s: float = config.COMPARE_LOAD_S,
        text_s: float = config.COMPARE_TEXT_S,
        idle_s: float = config.COMPARE_IDLE_ROUNDS * config.COMPARE_IDLE_S,
    ) -> None:
        self.load_s, self.text_s, self.idle_s = load_s, text_s, idle_s
        self.measured = False
        self._lock = threading.Lock()

    def estimate(self, texts: int, backends: int) -> float:
        """Seconds a comparison of `texts` texts on `backends` back-ends should take."""
        with self._lock:
            return self.idle_s + max(1, backends) * (self.load_s + max(1, texts) * self.text_s)

    def learn(self, seconds: float, texts: int, backends: int) -> None:
        """Rescale to what a comparison just took (halfway: one slow run does not swing the next estimate).

        Only the part that depends on the machine is rescaled; the idle waits are fixed.
        """
        predicted = self.estimate(texts, backends) - self.idle_s
        seconds -= self.idle_s
        if seconds <= 0 or predicted <= 0:
            return
        factor = (seconds / predicted) ** (1.0 if not self.measured else 0.5)
        with self._lock:
            self.load_s *= factor
            self.text_s *= factor
            self.measured = True

    def note(self, texts: int, backends: int) -> str:
        """The one status line shown while a comparison runs."""
        seconds = self.estimate(texts, backends)
        basis = "from the last comparison on this machine" if self.measured else "a first guess for a CPU"
        return (
            f"**Comparing…** loading {backends} back-end{'s' if backends != 1 else ''}, then timing each: "
            f"about {seconds:.0f} s for {texts} text{'s' if texts != 1 else ''} ({basis})."
        )
