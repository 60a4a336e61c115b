"""Answer latency of the matcher: p50/p99 over the real knowledge base and a synthetic
one 100x larger (every entry cloned 100 times with varied wording).

    python bench/matcher_latency.py [--scale 100] [--rounds 3]

Targets on the 2-core machine: p99 <= 5 ms (real), <= 50 ms (100x).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import parse_settings  # noqa: E402
from bot.services.answers import AnswerService  # noqa: E402
from knowledge.loader import Knowledge, load_knowledge  # noqa: E402

FILLER = ("mohon", "segera", "kantor", "pabrik", "gudang", "kapal", "buyer", "direktur",
          "staf", "cabang", "pelabuhan", "kontainer", "kayu", "meranti", "keruing", "batch")


def scaled(kb: Knowledge, factor: int, seed: int = 7) -> Knowledge:
    """A knowledge base `factor` times larger, with distinct ids and varied samples."""
    rng = random.Random(seed)
    entries = {}
    for entry in kb.entries.values():
        for n in range(factor):
            eid = entry.id if n == 0 else f"{entry.id}-{n}"
            questions = tuple(
                q if n == 0 else f"{q} {rng.choice(FILLER)} {rng.choice(FILLER)}{n}"
                for q in entry.questions)
            entries[eid] = dataclasses.replace(entry, id=eid, questions=questions)
    return dataclasses.replace(kb, entries=entries)


def measure(answers: AnswerService, questions: list[str], rounds: int) -> tuple[float, float, float]:
    times = []
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter()
            answers.ask(q, "id", log=False)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return statistics.median(times), p99, times[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    data = yaml.safe_load((ROOT / "tests" / "data" / "questions.yaml").read_text())
    questions = [q["q"] for q in data["questions"]] + list(data["out_of_scope"])
    settings = parse_settings({"database": {"url": "sqlite://"}}, env={})
    kb = load_knowledge(ROOT / "knowledge")
    for label, base in (("real", kb), (f"{args.scale}x", scaled(kb, args.scale))):
        tracemalloc.start()
        start = time.perf_counter()
        answers = AnswerService(base, None, settings)
        build_s = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        answers.ask("warm up", "id", log=False)
        p50, p99, worst = measure(answers, questions, args.rounds if label == "real" else 1)
        samples = sum(len(e.questions) for e in base.entries.values())
        print(f"{label:>5}: {len(base.entries)} entries, {samples} samples, build {build_s:.2f} s, "
              f"build peak {peak / 2**20:.1f} MiB, answer p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
              f"max {worst:.2f} ms over {len(questions)} questions")


if __name__ == "__main__":
    main()
