"""`tandem` command line: build-base, train, eval, compare, worker."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _cmd_build_base(args) -> int:
    from .base_model import FIXTURE_RECIPE, BaseModelRecipe, build_base

    recipe = FIXTURE_RECIPE if args.fixture else BaseModelRecipe()
    if args.seed is not None:
        from dataclasses import replace

        recipe = replace(recipe, seed=args.seed)
    out = build_base(args.out, recipe, force=args.force, evaluate_problems=0 if args.fixture else args.eval_problems)
    print(out)
    return 0


def _parse_override(text: str):
    key, sep, raw = text.partition("=")
    if not sep:
        raise SystemExit(f"--set {text!r}: expected key=value")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw  # bare strings: --set dataset=data.jsonl
    return key, value


def _cmd_train(args) -> int:
    from .config import TandemConfig, preset
    from .trainer import train

    data = {}
    if args.config:  # validated on its own first, so errors name the file
        data = TandemConfig.from_file(args.config).to_dict()
    if args.preset:  # the preset's fields over the file's; --set still wins
        data.update(preset(args.preset))
    for key, value in map(_parse_override, args.set or []):
        data[key] = value
    config = TandemConfig.from_dict(data, source=args.config or "command line")
    result = train(config)
    print(json.dumps({"output_dir": str(result.output_dir), "final_step": result.final_step,
                      "resumed_from": result.resumed_from, "completed": result.completed}))
    return 0


def _problems(dataset: str, n: int | None, split: str = "eval"):
    """A generated task's fixed held-out split (the same problems whatever the seed), or a dataset file."""
    from .data import TASKS, load_dataset, task_split

    problems = task_split(dataset, split, n or 200) if dataset in TASKS else load_dataset(dataset)
    return problems[:n] if n else problems


def _cmd_eval(args) -> int:
    from .evaluate import EvalSettings, displacement, evaluate_checkpoint, write_report
    from .trainer import resolve_model_path

    given = {"k": args.k, "p_junior": args.p_junior, "seed": args.seed, "max_new_tokens": args.max_new_tokens}
    for name in ("temperature", "top_p", "top_k"):  # only those given on the command line replace the preset's
        if getattr(args, name) is not None:
            given[name] = getattr(args, name)
    if args.step_separator is not None:
        given["step_separator"] = _unescape(args.step_separator, "--step-separator")
    try:
        settings = EvalSettings.preset(args.preset, **given) if args.preset else EvalSettings(**given).validate()
    except ValueError as e:
        raise SystemExit(f"tandem eval: {e}") from None
    problems = _problems(args.dataset, args.n_problems, args.split)
    junior = resolve_model_path(args.junior)
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    if suites == ["displacement"]:
        if not args.grpo_checkpoint:
            raise SystemExit("--suite displacement needs --grpo-checkpoint DIR (and --checkpoint is the TRL checkpoint)")
        report = displacement(junior, Path(args.grpo_checkpoint), Path(args.checkpoint), problems, settings, device=args.device)
    else:
        report = evaluate_checkpoint(Path(args.checkpoint), junior, problems, suites, settings, device=args.device)
    out = Path(args.out) if args.out else Path(args.checkpoint) / f"eval-{'-'.join(suites)}.json"
    write_report(report, out)
    print(out)
    return 0


def _unescape(text: str, flag: str) -> str:
    """Backslash escapes as written on a command line: "\\n\\n" is a paragraph break."""
    import codecs

    try:
        return codecs.decode(text, "unicode_escape")
    except UnicodeDecodeError as e:
        raise SystemExit(f"{flag} {text!r}: bad escape ({e})") from None


def _cmd_export_onnx(args) -> int:
    from .onnx_export import export_onnx, parity
    from .runner.catalog import PARITY_PROMPTS, PARITY_TOLERANCE

    export_onnx(Path(args.checkpoint), Path(args.out))
    check = parity(Path(args.checkpoint), Path(args.out), list(PARITY_PROMPTS), max_new_tokens=16)
    print(json.dumps(check))
    return 0 if check["max_abs_logit_diff"] <= PARITY_TOLERANCE and check["greedy_equal"] else 1


def _parse_arm(text: str) -> tuple[str, list[str]]:
    name, sep, paths = text.partition("=")
    files = [p for p in paths.split(",") if p.strip()]
    if not sep or not name.strip() or not files:
        raise SystemExit(f"--arm {text!r}: expected NAME=report.json[,report.json...]")
    return name.strip(), [p.strip() for p in files]


def _cmd_compare(args) -> int:
    from .claims import Arm, claims_table, paper_claims, versus_base
    from .evaluate import compare_table, load_report

    claims_mode = bool(args.arm or args.base or args.displacement or args.null)
    if not claims_mode:
        if not args.reports:
            raise SystemExit("tandem compare: give reports to print side by side, or --arm NAME=a.json,b.json twice")
        reports = [load_report(p) for p in args.reports]
        names = args.names.split(",") if args.names else None
        print(compare_table(reports, names))
        return 0
    if args.reports:
        raise SystemExit("tandem compare: positional reports and --arm/--base/--displacement/--null do not mix")
    arms = [_parse_arm(a) for a in args.arm or []]
    if len(arms) not in (0, 2) or (len(arms) == 2 and arms[0][0] == arms[1][0]):
        raise SystemExit("tandem compare: give exactly two --arm NAME=... with different names "
                         "(the second is read against the first, e.g. --arm grpo=... --arm trl=...)")

    def arm(name: str, paths: list[str], trained: bool = True) -> Arm:
        return Arm(name, [load_report(p) for p in paths], list(paths), trained)

    a, b = (arm(*arms[0]), arm(*arms[1])) if arms else (None, None)
    disp = arm("displacement", args.displacement) if args.displacement else None
    null = arm("null", args.null) if args.null else None
    try:
        claims = paper_claims(a, b, disp, null, args.margin, args.n_boot, args.seed)
        base_rows = []
        if args.base:
            base = arm("base", [args.base], trained=False)
            for trained in (x for x in (a, b) if x is not None):
                base_rows += versus_base(base, trained, args.n_boot, args.seed)
    except ValueError as e:
        print(f"tandem compare: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"margin": args.margin, "n_boot": args.n_boot, "seed": args.seed, "claims": claims,
                          "versus_base": base_rows}, indent=2, allow_nan=False))
        return 0
    if a is not None:
        print(f"Claims for {b.name} against {a.name} (estimates are {b.name} − {a.name}); margin for ≈: ±{args.margin:g}\n")
    print(claims_table(claims), end="")
    if base_rows:
        print("\nAgainst the base model\n")
        print(claims_table(base_rows), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-base", help="build (or reuse) the tiny default base model")
    p.add_argument("--out", help="directory (default: cache folder keyed by the recipe)")
    p.add_argument("--force", action="store_true", help="rebuild even if a matching build exists")
    p.add_argument("--fixture", action="store_true", help="the seconds-to-build fixture model for tests")
    p.add_argument("--seed", type=int)
    p.add_argument("--eval-problems", type=int, default=200)
    p.set_defaults(func=_cmd_build_base)

    p = sub.add_parser("train", help="train a senior with TRL (p_junior > 0) or GRPO (p_junior = 0)")
    p.add_argument("--config", help="YAML or JSON file with TandemConfig fields")
    p.add_argument("--preset", help="start from a named preset (config.PRESETS, e.g. paper) over --config")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config field (repeatable)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("eval", help="evaluate a checkpoint; writes one JSON report")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--suite", default="solo,tandem,handoff,drift,legibility",
                   help="comma-separated: solo,tandem,handoff,drift,legibility — or displacement")
    p.add_argument("--junior", default="base", help="junior model directory (default: the tiny base model)")
    p.add_argument("--grpo-checkpoint", help="for --suite displacement: the GRPO checkpoint to compare against")
    p.add_argument("--dataset", default="digit_chains", help="a generated task (digit_chains, arithmetic) or a file")
    p.add_argument("--split", default="eval", choices=("eval", "validation"),
                   help="of a generated task: eval (reported figures) or validation (choosing hyperparameters)")
    p.add_argument("--n-problems", type=int)
    p.add_argument("--k", type=int, default=4)
    p.add_argument("--p-junior", type=float, default=0.5)
    p.add_argument("--max-new-tokens", type=int, default=96, help="one token budget per sample, shared by both authors")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", help="named sampling preset (paper: temperature 0.7, top-p 0.8, top-k 20); flags below override it")
    p.add_argument("--temperature", type=float, help="sampling temperature of every rollout (default 1)")
    p.add_argument("--top-p", type=float, help="nucleus sampling of every rollout (default 1 = off)")
    p.add_argument("--top-k", type=int, help="top-k sampling of every rollout (default 0 = off)")
    p.add_argument("--step-separator", help='ends a reasoning step in the handoff suite, escapes allowed: '
                                            '"\\n" (default, one line) or "\\n\\n" (the paper)')
    p.add_argument("--device", default="cpu")
    p.add_argument("--out")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("config-fields", help="print every TandemConfig field with its form metadata as JSON")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.add_argument("--presets-out", help="also write config.PRESETS as JSON to this file (presets.json)")
    p.add_argument("--eval-presets-out", help="also write evaluate.PRESETS as JSON to this file (eval-presets.json)")
    p.set_defaults(func=_cmd_config_fields)

    # listed for help only: main() hands `tandem worker ...` to the runner's own parser
    sub.add_parser("worker", help="serve jobs from Postgres (see tandem worker --help)", add_help=False)
    sub.add_parser("seed", help="insert the base model and demo datasets (see tandem seed --help)", add_help=False)

    p = sub.add_parser("export-onnx", help="export a checkpoint to ONNX with its KV cache and check it against PyTorch")
    p.add_argument("--checkpoint", required=True, help="HF model directory")
    p.add_argument("--out", required=True, help="directory for model.onnx, tokenizer files and onnx_manifest.json")
    p.set_defaults(func=_cmd_export_onnx)

    p = sub.add_parser("compare", help="print reports side by side, or the paper's claims for two arms of seeds",
                       description="tandem compare r1.json r2.json [--names a,b] prints reports side by side. "
                                   "tandem compare --arm grpo=g1.json,g2.json,g3.json --arm trl=t1.json,t2.json,t3.json "
                                   "[--base base.json] [--displacement d1.json ... --null n1.json ...] [--margin 0.03] "
                                   "[--json] prints the claims for the second arm against the first, each from a "
                                   "paired bootstrap over problems and seeds (docs/statistics.md).")
    p.add_argument("reports", nargs="*", help="reports to print side by side (the table form)")
    p.add_argument("--names", help="comma-separated column names (table form)")
    p.add_argument("--arm", action="append", metavar="NAME=R1.json,R2.json",
                   help="an arm's reports, one per training seed, all on the same problems (give two arms)")
    p.add_argument("--base", metavar="BASE.json", help="the base model's report: each arm is also read against it")
    p.add_argument("--displacement", nargs="+", metavar="D.json",
                   help="displacement reports (GRPO seed vs TRL seed, tandem eval --suite displacement)")
    p.add_argument("--null", nargs="+", metavar="N.json",
                   help="null displacement reports (GRPO seed a vs GRPO seed b in the trl slot)")
    p.add_argument("--margin", type=float, default=0.03, help="equivalence margin for solo accuracy ≈ (default 0.03)")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap's random stream")
    p.add_argument("--json", action="store_true", help="print the claims as JSON")
    p.set_defaults(func=_cmd_compare)
    return parser


def _cmd_config_fields(args) -> int:
    from .config import PRESETS, field_specs

    if args.presets_out:
        Path(args.presets_out).write_text(json.dumps(PRESETS, indent=2) + "\n", encoding="utf-8")
    if args.eval_presets_out:
        from .evaluate import PRESETS as EVAL_PRESETS

        Path(args.eval_presets_out).write_text(json.dumps(EVAL_PRESETS, indent=2) + "\n", encoding="utf-8")
    text = json.dumps(field_specs(), indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    from .config import ConfigError
    from .data import DatasetError
    from .models import IncompatibleJunior

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["worker"]:
        from .runner.worker import main as worker_main

        return worker_main(argv[1:])
    if argv[:1] == ["seed"]:
        from .runner.seed import main as seed_main

        return seed_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, DatasetError, IncompatibleJunior, FileNotFoundError) as e:
        print(f"tandem {args.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
