"""Timing order: each back-end in its own block, blocks rotated, warm-up and wake-up calls untimed."""

from __future__ import annotations

import itertools

import pytest

from bertdemo import config
from bertdemo.onnx import timing


class Recorder:
    """A stand-in back-end that only records when it was called (the schedule is what is tested here)."""

    def __init__(self, name: str, log: list[str]):
        self.name, self.log, self.device = name, log, "cpu"

    def predict(self, texts, batch_size=32):
        self.log.append(self.name)


class FakeClock:
    """time.perf_counter and time.sleep for the timing loop: calls cost COLD right after a rest, WARM otherwise.

    A back-end's threads fall asleep in any rest, so its next call is slow, as real runtimes are; the test
    then tells from each sample's length whether it was the first call after a rest.
    """

    COLD, WARM = 1.0, 0.001

    def __init__(self, names: list[str]):
        self.now = 0.0
        self.names = set(names)
        self.asleep = set(names)
        self.events: list[tuple[str, float]] = []  # ("rest", seconds) or (back-end, cost of its call)

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.asleep = set(self.names)
        self.events.append(("rest", seconds))

    def call(self, name: str) -> None:
        cost = self.COLD if name in self.asleep else self.WARM
        self.asleep.discard(name)
        self.now += cost
        self.events.append((name, cost))


class Timed:
    """A back-end callable that costs fake time (see FakeClock)."""

    def __init__(self, name: str, clock: FakeClock):
        self.name, self.clock, self.device = name, clock, "cpu"

    def predict(self, texts, batch_size=32):
        self.clock.call(self.name)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock(["pytorch", "onnx", "onnx-int8"])
    monkeypatch.setattr(timing.time, "perf_counter", fake.perf_counter)
    monkeypatch.setattr(timing.time, "sleep", fake.sleep)
    return fake


def _blocks_after_rests(events: list[tuple[str, float]]) -> list[list[tuple[str, float]]]:
    """The calls between one rest and the next."""
    blocks, current = [], None
    for name, cost in events:
        if name == "rest":
            current = []
            blocks.append(current)
        elif current is not None:
            current.append((name, cost))
    return blocks


def test_one_text_gets_enough_warm_samples_and_never_the_first_call_after_a_rest(clock):
    names = ["pytorch", "onnx", "onnx-int8"]
    loaded = {b: Timed(b, clock) for b in names}
    repeats, calls = 4, config.COMPARE_BLOCK_CALLS
    samples = timing.time_latency(loaded, ["one typed review"], repeats=repeats, warmup=2, rest_s=0.05)
    for b in names:
        assert len(samples[b]) >= repeats * calls, b
        assert all(s == pytest.approx(FakeClock.WARM) for s in samples[b]), f"{b}: a first call after a rest was timed"
    blocks = _blocks_after_rests(clock.events)
    assert len(blocks) == repeats * len(names)
    for block in blocks:
        assert len({name for name, _ in block}) == 1, "one back-end per block"
        assert block[0][1] == FakeClock.COLD  # the call after the rest was made, and was slow...
        assert sum(cost == FakeClock.WARM for _, cost in block) >= calls  # ...and the warm ones were timed


def test_many_texts_are_timed_in_whole_passes_each_round(clock):
    names = ["pytorch", "onnx"]
    loaded = {b: Timed(b, clock) for b in names}
    texts = [f"text {i}" for i in range(5)]
    samples = timing.time_latency(loaded, texts, repeats=3, warmup=0, rest_s=0.05, min_calls=8)
    assert timing.block_calls(5, 8) == 10 and timing.block_calls(16, 8) == 16 and timing.block_calls(1, 8) == 8
    assert {b: len(s) for b, s in samples.items()} == {"pytorch": 30, "onnx": 30}
    assert all(s == pytest.approx(FakeClock.WARM) for v in samples.values() for s in v)


def test_first_call_after_idle_is_its_own_figure(clock):
    names = ["pytorch", "onnx", "onnx-int8"]
    loaded = {b: Timed(b, clock) for b in names}
    for b in names:
        loaded[b].predict(["warm"])
    first = timing.time_first_calls(loaded, ["one typed review"], rounds=2, idle_s=1.0, rest_s=0.05)
    assert {b: len(s) for b, s in first.items()} == {b: 2 for b in names}
    assert all(s == pytest.approx(FakeClock.COLD) for v in first.values() for s in v)
    idles = [s for name, s in clock.events if name == "rest"]
    assert idles.count(1.0) == 2  # one idle second per round serves every back-end


def test_latency_runs_each_backend_in_its_own_block_with_rotating_order():
    log: list[str] = []
    loaded = {b: Recorder(b, log) for b in ("pytorch", "onnx", "onnx-int8")}
    samples = timing.time_latency(loaded, ["a", "b", "c", "d"], repeats=3, warmup=2, rest_s=0, min_calls=4)
    assert log[:6] == ["pytorch"] * 2 + ["onnx"] * 2 + ["onnx-int8"] * 2  # warm-up
    blocks = [(b, len(list(g))) for b, g in itertools.groupby(log[6:])]
    block = 4 + config.COMPARE_WAKE_CALLS  # the wake-up call(s) then one pass over the texts
    assert blocks == [
        ("pytorch", block), ("onnx", block), ("onnx-int8", block),
        ("onnx", block), ("onnx-int8", block), ("pytorch", block),
        ("onnx-int8", block), ("pytorch", block), ("onnx", block),
    ]  # fmt: skip
    assert {b: len(s) for b, s in samples.items()} == {"pytorch": 12, "onnx": 12, "onnx-int8": 12}
    assert all(t >= 0 for s in samples.values() for t in s)


def test_method_note_says_what_was_done():
    one = timing.method_text(timing.Plan(rounds=5, block_calls=8, texts=1))
    assert "8 timed calls" in one and "the one text 8 times" in one and "not a sample" in one and "5 rounds" in one
    many = timing.method_text(timing.Plan(rounds=3, block_calls=16, texts=16))
    assert "1 pass over the 16 texts" in many


def test_throughput_rotates_and_counts_texts_per_second():
    log: list[str] = []
    loaded = {b: Recorder(b, log) for b in ("pytorch", "onnx")}
    out = timing.time_throughput(loaded, ["x"] * 10, batch_size=4, warmup=0, repeats=2, rest_s=0)
    assert log == ["pytorch", "onnx", "onnx", "pytorch"]
    assert set(out) == {"pytorch", "onnx"} and all(v > 0 for v in out.values())


def test_torch_threads_are_put_back():
    import torch

    before = torch.get_num_threads()
    with timing.torch_threads(1) as n:
        assert n == torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
