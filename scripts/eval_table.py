"""Markdown table of result rows written by scripts/eval_variants.py --out FILE.

    .venv/bin/python scripts/eval_table.py /tmp/rows.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = ("hit@1", "hit@5", "mrr@10", "evidence@1", "sentence_hit@1", "mean_passage_chars")


def main(paths: list[str]) -> int:
    rows = [json.loads(line) for p in paths for line in Path(p).read_text().splitlines() if line.strip()]
    latest: dict[tuple[str, str], dict] = {}
    for row in rows:  # the last row of a (variant, set) wins
        latest[(row["variant"], row["set"])] = row
    sets = sorted({s for _, s in latest})
    print("| variant | set | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for variant in dict.fromkeys(v for v, _ in latest):
        for s in sets:
            row = latest.get((variant, s))
            if row is None:
                continue
            cells = []
            for c in COLUMNS:
                value = row.get(c)
                fmt = ".0f" if c == "mean_passage_chars" else ".3f"
                cells.append("–" if value is None else format(value, fmt))
            print(f"| {variant} | {s} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
