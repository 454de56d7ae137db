"""The paper's experiment on the CPU testbed: GRPO and Tandem RL from one base, several training seeds per arm,
every senior and the base evaluated the same way, the paper's claims read from paired multi-seed intervals.

    python evidence/run_experiment.py                       # everything: 3 seeds x (grpo, trl) + ablations
    python evidence/run_experiment.py --arms grpo --seeds 0 # a subset
    python evidence/run_experiment.py --report-only         # rewrite RESULTS.md from what exists

Every unit of work writes its own file under --out and is skipped when that file exists, so a stopped run
resumes where it stopped (a half-trained run resumes from its last checkpoint):
  <arm>-s<seed>/               the training run (metrics.jsonl, checkpoints, final/)
  report-<arm>-s<seed>.json    its evaluation (suites solo, tandem, handoff, drift, legibility), report-base.json
  style-<name>.json            the share of solo samples in the legible style, and accuracy per style
  displacement-s<seed>.json    GRPO seed s vs TRL seed s against the base
  null-s<a>-s<b>.json          GRPO seed a vs GRPO seed b, the next seed in --seeds (the displacement null)
  RESULTS.md, results.json     the summary (written last, from whatever exists)
Seeds vary training sampling and data order only: the training, validation and evaluation problems are fixed
splits (`data.task_split`). Work runs in --jobs parallel processes of one thread each.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITES = ["solo", "tandem", "handoff", "drift", "legibility"]

# Arm -> config overrides on the experiment config. "grpo" is the same config with p_junior 0 (one code path).
ARMS = {
    "grpo": {"p_junior": 0.0},
    "trl": {},
    "trl_whole_word": {"handoff_rule": "whole_word"},  # ablation: our whole-word rule instead of the paper's
    "trl_weak_junior": {"junior_name_or_path": "@weak"},  # a genuinely weaker junior (the base's early snapshot)
}
MAIN_ARMS = ("grpo", "trl")


def _threads():
    import torch

    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"


def base_dirs(args) -> tuple[Path, Path]:
    """The base model (built once, then cached) and its weak junior (or the base itself if it has none)."""
    from tandem.base_model import WEAK_JUNIOR_DIR, build_base

    base = Path(args.base) if args.base else build_base()
    weak = base / WEAK_JUNIOR_DIR
    return base, (weak if (weak / "config.json").is_file() else base)


def eval_settings(args):
    from tandem.evaluate import EvalSettings

    return EvalSettings.preset("paper", k=args.k, p_junior=0.5, max_new_tokens=args.max_new_tokens, seed=0,
                               step_separator="\n", handoff_points=(0, 1, 2, 3, 4, 5, 6))


def eval_problems(args) -> list[dict]:
    from tandem.data import task_split

    return task_split("digit_chains", "eval", args.eval_problems)


def run_config(args, arm: str, seed: int):
    from tandem.config import TandemConfig

    base, weak = base_dirs(args)
    config = TandemConfig.from_file(args.config)
    overrides = {k: (str(weak) if v == "@weak" else v) for k, v in ARMS[arm].items()}
    steps = args.steps or config.max_steps
    data = {**config.to_dict(), **dict(args.overrides), **overrides, "model_name_or_path": str(base), "seed": seed,
            "max_steps": steps, "output_dir": str(Path(args.out) / f"{arm}-s{seed}"), "device": "cpu"}
    return TandemConfig.from_dict(data, source=f"{args.config} with --set and arm {arm}")


# ---------------------------------------------------------------- units of work (each in its own process)


def work_train_and_eval(args, arm: str, seed: int):
    _threads()
    from tandem.evaluate import evaluate_checkpoint, write_report
    from tandem.trainer import train

    out = Path(args.out)
    config = run_config(args, arm, seed)
    run_dir = Path(config.output_dir)
    timing = run_dir / "timing.json"
    if not (run_dir / "final" / "checkpoint.json").is_file():
        start = time.time()
        log = (run_dir.parent / f"{run_dir.name}.log")
        run_dir.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            result = train(config, log=lambda m: (f.write(m + "\n"), f.flush()))
        timing.write_text(json.dumps({"train_seconds": round(time.time() - start, 1),
                                      "resumed_from": result.resumed_from, "steps": result.final_step}))
    report_path = out / f"report-{arm}-s{seed}.json"
    if not report_path.is_file():
        # every senior is measured against the same junior, the base (the self-paired junior): one instrument, so
        # the weak-junior arm's handoff, drift and legibility figures compare with the others'
        base, _ = base_dirs(args)
        start = time.time()
        report = evaluate_checkpoint(run_dir / "final", base, eval_problems(args), SUITES, eval_settings(args),
                                     device="cpu", log=lambda *_: None)
        report["eval_seconds"] = round(time.time() - start, 1)
        write_report(report, report_path)
    work_style(args, f"{arm}-s{seed}", run_dir / "final")
    return f"{arm}-s{seed}"


def work_base(args):
    _threads()
    from tandem.evaluate import evaluate_checkpoint, write_report

    base, weak = base_dirs(args)
    path = Path(args.out) / "report-base.json"
    if not path.is_file():
        start = time.time()
        report = evaluate_checkpoint(base, base, eval_problems(args), SUITES, eval_settings(args), device="cpu",
                                     log=lambda *_: None)
        report["eval_seconds"] = round(time.time() - start, 1)
        write_report(report, path)
    path = Path(args.out) / "report-weak_junior.json"
    if not path.is_file():
        write_report(evaluate_checkpoint(weak, None, eval_problems(args), ["solo"], eval_settings(args),
                                         device="cpu", log=lambda *_: None), path)
    work_style(args, "base", base)
    return "base"


def work_style(args, name: str, checkpoint: Path):
    """Which style the senior writes in, and its solo accuracy in each (same sampling as the evaluation)."""
    from tandem.data import format_prompt
    from tandem.models import load_model_and_tokenizer
    from tandem.rollout import solo_rollout
    from tandem.verifier import verify_model_output

    path = Path(args.out) / f"style-{name}.json"
    if path.is_file():
        return
    model, tokenizer = load_model_and_tokenizer(checkpoint)
    problems = eval_problems(args)
    settings = replace(eval_settings(args).generation(), seed=12345)
    counts = {"legible": [0, 0], "compressed": [0, 0]}  # [samples, correct]
    for i in range(0, len(problems), 50):
        chunk = problems[i:i + 50]
        result = solo_rollout(model, tokenizer, [format_prompt(p["problem"]) for p in chunk], 2, settings)
        for j, text in enumerate(result.texts):
            style = "legible" if "=" in text.split("\n")[0] else "compressed"
            counts[style][0] += 1
            counts[style][1] += verify_model_output(text, chunk[j // 2]["answer"]).reward
    total = sum(c[0] for c in counts.values())
    path.write_text(json.dumps({
        "samples": total, "legible_share": counts["legible"][0] / total,
        "accuracy": {s: (c[1] / c[0] if c[0] else None) for s, c in counts.items()},
        "samples_by_style": {s: c[0] for s, c in counts.items()}}, indent=1))


def work_displacement(args, kind: str, seed: int, other: int):
    _threads()
    from tandem.evaluate import displacement, write_report

    out = Path(args.out)
    path = out / (f"{kind}-s{seed}.json" if kind == "displacement" else f"null-s{seed}-s{other}.json")
    if path.is_file():
        return path.name
    base, _ = base_dirs(args)
    second = out / (f"trl-s{seed}" if kind == "displacement" else f"grpo-s{other}") / "final"
    report = displacement(base, out / f"grpo-s{seed}" / "final", second, eval_problems(args), eval_settings(args),
                          device="cpu")
    write_report(report, path)
    return path.name


def _call(item):
    fn, args, rest = item
    start = time.time()
    try:
        name = fn(args, *rest)
        return f"done {name} in {time.time() - start:.0f} s"
    except Exception as e:  # one failed unit must not lose the others' results
        import traceback

        traceback.print_exc()
        return f"FAILED {fn.__name__}{rest}: {e}"


def run_all(args, items):
    if not items:
        return
    if args.jobs == 1:
        for item in items:
            print(_call(item), flush=True)
        return
    with mp.get_context("spawn").Pool(args.jobs) as pool:
        for message in pool.imap_unordered(_call, items):
            print(message, flush=True)


# ---------------------------------------------------------------- the summary


def _load(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def found_seeds(out: Path, prefix: str) -> list[int]:
    """The seeds s for which out/<prefix>-s<s> (a run folder) or out/<prefix>-s<s>.json exists, ascending."""
    seeds = set()
    for path in out.glob(f"{prefix}-s*"):
        tail = path.name[len(prefix) + 2:].removesuffix(".json")
        if tail.isdigit():
            seeds.add(int(tail))
    return sorted(seeds)


def arm_metrics(out: Path, arm: str) -> list[list[dict]]:
    """metrics.jsonl rows of every run of an arm that has logged any."""
    from tandem.trainer import read_metrics

    runs = [read_metrics(out / f"{arm}-s{s}") for s in found_seeds(out, arm)]
    return [r for r in runs if r]


def training_curves(out: Path, arms: list[str], buckets: int = 10) -> list[str]:
    lines = ["| arm | metric | mean over seeds, by tenth of training (first → last) |", "| --- | --- | --- |"]
    for arm in arms:
        runs = arm_metrics(out, arm)
        if not runs:
            continue
        for metric in ("reward", "senior_token_share", "completion_length", "zero_signal_groups"):
            series = []
            n = min(len(r) for r in runs)
            for b in range(buckets):
                lo, hi = b * n // buckets, max(b * n // buckets + 1, (b + 1) * n // buckets)
                vals = [row.get(metric) for r in runs for row in r[lo:hi] if row.get(metric) is not None]
                series.append(f"{sum(vals) / len(vals):.2f}" if vals else "–")
            lines.append(f"| {arm} ({len(runs)} seeds, {n} steps) | {metric} | " + " ".join(series) + " |")
    return lines


def plot_curves(out: Path, arms: list[str], path: Path) -> bool:
    """Training reward and senior token share per arm: the mean over seeds with a min–max band (matplotlib, an
    optional dependency of the test extra: without it the tables stand alone)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    drawn = False
    for arm in arms:
        runs = arm_metrics(out, arm)
        if not runs:
            continue
        n = min(len(r) for r in runs)
        steps = [r["step"] for r in runs[0][:n]]
        for ax, metric in zip(axes, ("reward", "senior_token_share")):
            values = [[r[i].get(metric) or 0.0 for r in runs] for i in range(n)]
            window = 5  # a moving mean over steps: one step's reward is 128 completions, noisy
            smooth = [[sum(values[j][k] for j in range(max(0, i - window + 1), i + 1)) / (i - max(0, i - window + 1) + 1)
                       for k in range(len(runs))] for i in range(n)]
            mean = [sum(v) / len(v) for v in smooth]
            ax.plot(steps, mean, label=f"{arm} ({len(runs)} seed{'s' if len(runs) > 1 else ''})")
            ax.fill_between(steps, [min(v) for v in smooth], [max(v) for v in smooth], alpha=0.2)
        drawn = True
    if not drawn:
        plt.close(fig)
        return False
    for ax, title in zip(axes, ("training reward (team reward for Tandem RL), 5-step mean", "senior token share")):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def summarise(args) -> str:
    from tandem.claims import Arm, claims_table, paper_claims, versus_base

    out = Path(args.out)

    def arm_of(name: str, files: list[str]) -> Arm:
        return Arm(name, [_load(out / f) for f in files], files)

    reports = {arm: arm_of(arm, [f"report-{arm}-s{s}.json" for s in found_seeds(out, f"report-{arm}")])
               for arm in ARMS}
    reports = {arm: a for arm, a in reports.items() if a.reports}
    base_report = _load(out / "report-base.json")
    base = Arm("base", [base_report], ["report-base.json"], trained=False) if base_report else None
    disp_arm = arm_of("displacement", [f"displacement-s{s}.json" for s in found_seeds(out, "displacement")])
    null_arm = arm_of("null", sorted(p.name for p in out.glob("null-s*-s*.json")))

    results = {"claims": [], "versus_base": {}, "ablations": {}, "styles": {}, "timings": {}}
    lines = ["# Tandem RL vs GRPO on the digit-chain testbed (CPU)", "",
             "Written by `evidence/run_experiment.py` from the files beside it; how every figure is computed: "
             "docs/statistics.md and the docstring of `tandem/evaluate.py`.", ""]
    findings = HERE / "FINDINGS.md"  # the reading of these figures, written by a person, kept with them
    if findings.is_file() and Path(args.results).resolve().parent == HERE:
        lines += [findings.read_text().strip(), ""]
    from tandem.config import TandemConfig

    steps = args.steps or TandemConfig.from_file(args.config).max_steps
    lines += ["## Setup", "", f"- Config: `{Path(args.config).name}` (the paper's training settings, lr chosen on the "
              f"validation split with GRPO alone: `probes/README.md`), {steps} steps; GRPO is the same config with "
              "p_junior 0. Seeds vary training sampling and data order only.",
              "- Every senior is evaluated with the base as the junior (for the weak-junior arm too), so the figures "
              "that involve the junior are comparable across arms.",
              f"- Evaluation: {args.eval_problems} held-out problems (`task_split('digit_chains', 'eval')`), k = "
              f"{args.k} samples each, the paper's evaluation sampling (temperature 0.7, top-p 0.8, top-k 20).", ""]

    lines += ["## Training curves", ""]
    if plot_curves(out, list(ARMS), out / "training-curves.png"):
        lines += [f"![training reward per arm, mean over seeds with min–max band]({out.name}/training-curves.png)", ""]
    lines += training_curves(out, list(ARMS)) + [""]

    lines += ["## Held-out accuracy against the base", ""]
    if base:
        for arm in reports:
            rows = versus_base(base, reports[arm], n_boot=args.n_boot)
            results["versus_base"][arm] = rows
            for row in rows:
                if row["metric"] == "solo_mean_at_k":
                    e = row["estimate"]
                    lines.append(f"- **{arm}** − base, solo mean@{args.k}: {e['value']:+.3f} [{e['low']:+.3f}, "
                                 f"{e['high']:+.3f}] over {row['n_problems']} problems and {len(reports[arm].reports)} "
                                 f"seed(s): {row['verdict']}.")
        lines.append("")
        lines.append("| checkpoint | solo mean@k | solo pass@k | tandem accuracy | handoff alternating | drift KL | "
                     "junior cross-entropy |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- |")
        named = [("base", base_report)] + [(label[len("report-"):-len(".json")], rep) for arm in reports.values()
                                            for label, rep in zip(arm.labels, arm.reports)]
        for name, rep in named:
            m = rep["metrics"]

            def cell(key):
                v = m.get(key)
                return f"{v['value']:.3f} [{v['low']:.3f}, {v['high']:.3f}]" if v and v.get("value") is not None else "–"

            lines.append(f"| {name} | {cell('solo_mean_at_k')} | {cell('solo_pass_at_k')} | {cell('tandem_accuracy')} | "
                         f"{cell('handoff_alternating')} | {cell('drift_kl')} | {cell('legibility_cross_entropy')} |")
        lines.append("")

    lines += ["## The paper's claims: Tandem RL (trl) against GRPO, paired over problems and seeds", ""]
    if "grpo" in reports and "trl" in reports:
        claims = paper_claims(reports["grpo"], reports["trl"], disp_arm if disp_arm.reports else None,
                              null_arm if null_arm.reports else None, margin=args.margin, n_boot=args.n_boot)
        results["claims"] = claims
        lines += ["```", claims_table(claims), "```", ""]
    else:
        lines += ["Not measured yet: needs reports of both arms.", ""]

    lines += ["## Ablations (one seed each: the interval covers evaluation noise only)", ""]
    for arm in ("trl_whole_word", "trl_weak_junior"):
        if arm in reports and "trl" in reports:
            ref = Arm("trl", reports["trl"].reports[:1], reports["trl"].labels[:1])
            claims = paper_claims(ref, reports[arm], margin=args.margin, n_boot=args.n_boot)
            results["ablations"][arm] = claims
            lines += [f"### {arm} against trl (paper rule, self-paired junior), seed 0", "", "```",
                      claims_table(claims), "```", ""]

    lines += ["## Solution style of the solo samples", "", "| checkpoint | legible share | accuracy legible | "
              "accuracy compressed |", "| --- | --- | --- | --- |"]
    for path in sorted(out.glob("style-*.json")):
        s = json.loads(path.read_text())
        name = path.stem[len("style-"):]
        results["styles"][name] = s
        acc = s["accuracy"]
        fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
        lines.append(f"| {name} | {s['legible_share']:.3f} | {fmt(acc['legible'])} | {fmt(acc['compressed'])} |")
    lines.append("")

    lines += ["## Wall times (2 cores, runs in parallel one thread each)", ""]
    for path in sorted(out.glob("*/timing.json")):
        t = json.loads(path.read_text())
        results["timings"][path.parent.name] = t
        lines.append(f"- {path.parent.name}: {t['train_seconds']:.0f} s of training for {t['steps']} steps"
                     + (f" (resumed from step {t['resumed_from']})" if t.get("resumed_from") else ""))
    for path in sorted(out.glob("report-*.json")):
        rep = json.loads(path.read_text())
        if rep.get("eval_seconds"):
            lines.append(f"- {path.stem}: {rep['eval_seconds']:.0f} s of evaluation")
    lines.append("")
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(HERE / "digit-chains"))
    parser.add_argument("--config", default=str(HERE.parent / "configs" / "digit-chains.yaml"))
    parser.add_argument("--arms", default="grpo,trl", help=f"comma-separated, of {', '.join(ARMS)}")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--ablations", default="trl_whole_word", help="arms run at --ablation-seed only")
    parser.add_argument("--ablation-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, help="override max_steps")
    parser.add_argument("--eval-problems", type=int, default=200)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--margin", type=float, default=0.03)
    parser.add_argument("--n-boot", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field for every arm (YAML value)")
    parser.add_argument("--base", help="a base model directory instead of the default tiny base (smoke tests)")
    parser.add_argument("--results", help="where the summary is written (default: evidence/RESULTS.md for the default "
                        "--out, else RESULTS.md inside --out, so a re-check never overwrites the committed summary)")
    args = parser.parse_args(argv)
    args.seed_list = [int(s) for s in args.seeds.split(",") if s != ""]
    import yaml

    args.overrides = []
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set {item!r}: expected KEY=VALUE")
        args.overrides.append((key.strip(), yaml.safe_load(value)))
    arms = [a for a in args.arms.split(",") if a]
    ablations = [a for a in args.ablations.split(",") if a]
    unknown = [a for a in arms + ablations if a not in ARMS]
    if unknown:
        parser.error(f"unknown arm(s) {unknown}; choose from {sorted(ARMS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.results is None:
        default_out = Path(parser.get_default("out")).resolve()
        args.results = str(HERE / "RESULTS.md" if out.resolve() == default_out else out / "RESULTS.md")
    if not args.report_only:
        base_dirs(args)  # build (or reuse) the base once, before the workers start
        items = [(work_base, args, ())]
        items += [(work_train_and_eval, args, (arm, s)) for s in args.seed_list for arm in arms]
        items += [(work_train_and_eval, args, (arm, args.ablation_seed)) for arm in ablations]
        run_all(args, items)
        later = []
        if "grpo" in arms and "trl" in arms:
            later += [(work_displacement, args, ("displacement", s, s)) for s in args.seed_list]
        if "grpo" in arms and len(args.seed_list) > 1:
            later += [(work_displacement, args, ("null", s, args.seed_list[(i + 1) % len(args.seed_list)]))
                      for i, s in enumerate(args.seed_list)]
        run_all(args, later)
    text = summarise(args)
    Path(args.results).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
