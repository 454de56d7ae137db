import sys, time, json, os
from dataclasses import replace
from pathlib import Path
import torch
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
from tandem.base_model import BaseModelRecipe, pretrain
from tandem.models import load_model_and_tokenizer
from tandem.rollout import solo_rollout, GenerationSettings
from tandem.data import chain_splits, format_prompt
from tandem.verifier import verify_model_output

def evaluate(path, n=200, k=4):
    model, tok = load_model_and_tokenizer(path)
    from tandem.data import task_split; probs = task_split("digit_chains", "validation", n)
    prompts = [format_prompt(p["problem"]) for p in probs]
    out = {}
    for name, st in {"greedy": GenerationSettings(64, 0.0), "paper_eval": GenerationSettings(64, 0.7, 0.8, 20, seed=1),
                     "T0.6": GenerationSettings(64, 0.6, seed=2), "T1": GenerationSettings(64, 1.0, seed=3)}.items():
        kk = 1 if name == "greedy" else k
        res = []
        for i in range(0, len(prompts), 50):
            r = solo_rollout(model, tok, prompts[i:i+50], kk, st)
            res += [(t, probs[i + j // kk]["answer"], probs[i + j // kk]["difficulty"]) for j, t in enumerate(r.texts)]
        ok = [verify_model_output(t, a).reward for t, a, _ in res]
        leg = [("=" in t.split("\n")[0]) for t, _, _ in res]
        accs = {s: (sum(o for o, l in zip(ok, leg) if l == (s == "legible")) / max(1, sum(1 for l in leg if l == (s == "legible")))) for s in ("legible", "compressed")}
        bydiff = {d: round(sum(o for o, (_, _, dd) in zip(ok, res) if dd == d) / max(1, sum(1 for *_, dd in res if dd == d)), 3) for d in range(2, 6)}
        out[name] = {"acc": round(sum(ok) / len(ok), 3), "legible_share": round(sum(leg) / len(leg), 3),
                     "acc_by_style": {k: round(v, 3) for k, v in accs.items()}, "by_difficulty": bydiff}
    return out

if __name__ == "__main__":
    kw = json.loads(sys.argv[1]); out = Path(sys.argv[2])
    recipe = replace(BaseModelRecipe(), **kw)
    t = time.time()
    info = pretrain(recipe, out, log=print)
    info["seconds"] = round(time.time() - t)
    print(json.dumps(info))
    print(json.dumps(evaluate(out), indent=1))
    if recipe.weak_junior_step:
        print("weak junior:", json.dumps(evaluate(out / "weak-junior")))
