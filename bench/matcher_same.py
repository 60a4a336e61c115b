"""Whether a change to the matcher left every answer as it was: the Match and the Verdict
of every message of the question sets (tests/data/questions*.yaml, about 8,000), compared
field by field with a snapshot taken before the change.

    python bench/matcher_same.py --save /tmp/before.pickle    # on the code before
    python bench/matcher_same.py --compare /tmp/before.pickle # on the changed code

For speed work on the matcher, where the scores must stay the same to the last bit (the
thresholds and the quality figures were fitted on them). Prints how many messages
differ and the first few of them.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.loader import load_knowledge  # noqa: E402
from knowledge.matcher import Matcher  # noqa: E402
from knowledge.training import question_sets  # noqa: E402
from knowledge.verdict import Match, Thresholds, Verdict, classify  # noqa: E402


def answers() -> dict[str, tuple[Match, Verdict]]:
    matcher = Matcher(load_knowledge(ROOT / "knowledge"))
    texts = dict.fromkeys(
        text for text, _ in question_sets(sorted((ROOT / "tests" / "data").glob("questions*.yaml")))
    )
    limits = Thresholds()
    return {text: (m, classify(m, limits)) for text in texts for m in [matcher.match(text)]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the snapshot here")
    group.add_argument("--compare", type=Path, help="compare with this snapshot")
    args = ap.parse_args()
    now = answers()
    if args.save:
        args.save.write_bytes(pickle.dumps(now, pickle.HIGHEST_PROTOCOL))
        print(f"{len(now)} messages saved to {args.save}")
        return 0
    before: dict[str, tuple[Match, Verdict]] = pickle.loads(args.compare.read_bytes())  # noqa: S301 - our own file
    changed = [text for text in now if before.get(text) != now[text]]
    missing = len(before.keys() - now.keys())
    print(f"{len(now)} messages, {len(changed)} answered differently, {missing} no longer in the sets")
    for text in changed[:5]:
        (was, was_verdict), (match, verdict) = before[text], now[text]
        fields = [f.name for f in dataclasses.fields(match) if getattr(was, f.name) != getattr(match, f.name)]
        print(f"  {text!r}: {', '.join(fields) or 'verdict'} differ")
        if was_verdict != verdict:
            print(f"    verdict before {was_verdict}\n    verdict now    {verdict}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
