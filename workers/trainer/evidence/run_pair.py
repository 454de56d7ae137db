"""The TRL-vs-GRPO experiment: one base, one seed, one budget; train both, evaluate both, compare.

    python evidence/run_pair.py --out evidence/runs/cpu --steps 150
prints the compare table and writes it, the reports and both runs' metrics under --out.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from tandem.base_model import build_base
from tandem.config import TandemConfig
from tandem.data import arithmetic_splits
from tandem.evaluate import EvalSettings, compare_table, displacement, evaluate_checkpoint, write_report
from tandem.trainer import read_metrics, train

SUITES = ["solo", "tandem", "handoff", "drift", "legibility"]


def reward_trend(rows: list[dict], window: int) -> tuple[float, float]:
    """Mean training reward over the first and the last `window` steps."""
    first, last = rows[:window], rows[-window:]
    return sum(r["reward"] for r in first) / len(first), sum(r["reward"] for r in last) / len(last)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="evidence/runs/cpu")
    parser.add_argument("--config", default=str(Path(__file__).parent.parent / "configs" / "tandem-arithmetic.yaml"))
    parser.add_argument("--steps", type=int, help="override max_steps for both runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-problems", type=int, default=150)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = build_base()
    common = TandemConfig.from_file(args.config)
    common = replace(common, model_name_or_path=str(base), seed=args.seed, max_steps=args.steps or common.max_steps)
    runs = {"grpo": replace(common, p_junior=0.0, output_dir=str(out / "grpo")),
            "trl": replace(common, output_dir=str(out / "trl"))}
    timings = {}
    for name, config in runs.items():
        start = time.time()
        print(f"== training {name} (p_junior={config.p_junior}) for {config.max_steps} steps", flush=True)
        train(config.validate())
        timings[name] = round(time.time() - start, 1)

    problems = arithmetic_splits(n_train=1, n_eval=args.eval_problems, seed=args.seed).eval
    settings = EvalSettings(k=args.k, p_junior=common.p_junior, temperature=common.temperature,
                            max_new_tokens=common.max_completion_length, seed=args.seed)
    reports, names = [], []
    for name, checkpoint in (("base", base), ("grpo", out / "grpo" / "final"), ("trl", out / "trl" / "final")):
        print(f"== evaluating {name}", flush=True)
        report = evaluate_checkpoint(checkpoint, base, problems, SUITES, settings, device=args.device)
        write_report(report, out / f"report-{name}.json")
        reports.append(report)
        names.append(name)
    print("== displacement (GRPO vs TRL against the base)", flush=True)
    pair = displacement(base, out / "grpo" / "final", out / "trl" / "final", problems, settings, device=args.device)
    write_report(pair, out / "report-displacement.json")

    lines = [compare_table(reports, names), "", compare_table([pair], ["trl vs grpo"]), ""]
    for name in runs:
        rows = read_metrics(out / name)
        window = max(1, len(rows) // 5)
        early, late = reward_trend(rows, window)
        lines.append(f"{name}: training reward {early:.3f} (first {window} steps) -> {late:.3f} (last {window}), "
                     f"{timings[name]:.0f} s for {len(rows)} steps")
    text = "\n".join(lines)
    print(text)
    (out / "compare.txt").write_text(text + "\n")
    (out / "summary.json").write_text(json.dumps({"timings_s": timings, "config": common.to_dict()}, indent=2))


if __name__ == "__main__":
    main()
