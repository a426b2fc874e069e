"""Timing order: each back-end in its own block, blocks rotated, warm-up untimed."""

from __future__ import annotations

import itertools

from bertdemo.onnx import timing


class Recorder:
    """A stand-in back-end that only records when it was called (the schedule is what is tested here)."""

    def __init__(self, name: str, log: list[str]):
        self.name, self.log, self.device = name, log, "cpu"

    def predict(self, texts, batch_size=32):
        self.log.append(self.name)


def test_latency_runs_each_backend_in_its_own_block_with_rotating_order():
    log: list[str] = []
    loaded = {b: Recorder(b, log) for b in ("pytorch", "onnx", "onnx-int8")}
    samples = timing.time_latency(loaded, ["a", "b", "c", "d"], repeats=3, warmup=2, rest_s=0)
    assert log[:6] == ["pytorch"] * 2 + ["onnx"] * 2 + ["onnx-int8"] * 2  # warm-up
    blocks = [(b, len(list(g))) for b, g in itertools.groupby(log[6:])]
    assert blocks == [
        ("pytorch", 4), ("onnx", 4), ("onnx-int8", 4),
        ("onnx", 4), ("onnx-int8", 4), ("pytorch", 4),
        ("onnx-int8", 4), ("pytorch", 4), ("onnx", 4),
    ]  # fmt: skip
    assert {b: len(s) for b, s in samples.items()} == {"pytorch": 12, "onnx": 12, "onnx-int8": 12}
    assert all(t >= 0 for s in samples.values() for t in s)


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
