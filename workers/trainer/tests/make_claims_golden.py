"""Writes the golden claims file the console's TypeScript port is tested against (apps/web/test/fixtures).

    .venv/bin/python tests/make_claims_golden.py

tests/test_stats.py fails when the committed file differs from what tandem.claims computes now.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[3] / "apps" / "web" / "test" / "fixtures" / "claims-golden.json"


def render() -> str:
    from tandem.claims import golden_cases

    return json.dumps(golden_cases(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


if __name__ == "__main__":
    GOLDEN.write_text(render(), encoding="utf-8")
    print(GOLDEN, file=sys.stderr)
