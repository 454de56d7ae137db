"""GRPO lr probe on the digit-chain task: train, then solo accuracy on the validation split."""
import sys, json, time, os
from dataclasses import replace
from pathlib import Path
import torch
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
from tandem.config import TandemConfig
from tandem.trainer import train, read_metrics
from tandem.data import task_split, format_prompt
from tandem.models import load_model_and_tokenizer
from tandem.rollout import solo_rollout, GenerationSettings
from tandem.verifier import verify_model_output

def val_acc(path, split="validation", n=200, k=4):
    model, tok = load_model_and_tokenizer(path)
    probs = task_split("digit_chains", split, n)
    prompts = [format_prompt(p["problem"]) for p in probs]
    out = {}
    for name, st in {"paper_eval": GenerationSettings(64, 0.7, 0.8, 20, seed=11), "greedy": GenerationSettings(64, 0.0)}.items():
        kk = 1 if name == "greedy" else k
        oks, leg = [], []
        for i in range(0, n, 50):
            r = solo_rollout(model, tok, prompts[i:i+50], kk, st)
            oks += [verify_model_output(t, probs[i + j // kk]["answer"]).reward for j, t in enumerate(r.texts)]
            leg += [("=" in t.split("\n")[0]) for t in r.texts]
        out[name] = round(sum(oks) / len(oks), 3); out[name + "_legible_share"] = round(sum(leg) / len(leg), 3)
    return out

if __name__ == "__main__":
    base, lr, steps, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    if base != "skip-base":
        print("base", json.dumps(val_acc(base)), flush=True)
    cfg = TandemConfig(model_name_or_path=base if base != "skip-base" else extra.pop("model"), dataset="digit_chains", dataset_size=4000,
                       output_dir=str(out), num_generations=8, per_device_train_batch_size=128, max_steps=steps,
                       learning_rate=lr, beta=0.0, epsilon=0.2, loss_type="dapo", scale_rewards="group",
                       max_completion_length=64, temperature=0.6, save_steps=1000, p_junior=0.0, seed=0, device="cpu", **extra)
    t = time.time()
    train(cfg.validate(), log=lambda m: print(m, flush=True))
    rows = read_metrics(out)
    print("train_s", round(time.time() - t), flush=True)
    print("final", json.dumps(val_acc(out / "final")), flush=True)
