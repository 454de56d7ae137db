// Builds the test model once: a real (small) Qwen3-architecture checkpoint trained by the trainer's own
// `pretrain`, exported with `tandem export-onnx` (which checks the export against PyTorch), plus PyTorch
// greedy references for the cross-language parity test. Cached in the OS temp dir, keyed by the trainer
// source it depends on, so later runs start in a second.
//
// Why not plain `tandem build-base --fixture`: its 30 training steps leave a model whose greedy output is
// only line breaks, which would make the parity and batching tests vacuous. The same fixture recipe trained
// for 300 steps (~7 s) writes varied, problem-dependent text.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { FIXTURE_PROBLEMS, type Fixture, type Reference } from "./fixture.js";

const TRAINER = resolve(dirname(fileURLToPath(import.meta.url)), "../../trainer");
const VENV_BIN = join(TRAINER, ".venv", "bin");
const TRAIN_STEPS = 300;
const REFERENCE_TOKENS = 24;

const BUILD = `
import dataclasses, json, sys
from pathlib import Path
from tandem.base_model import FIXTURE_RECIPE, pretrain

pretrain(dataclasses.replace(FIXTURE_RECIPE, train_steps=int(sys.argv[2])), Path(sys.argv[1]), log=lambda *_: None)
`;

// PyTorch's greedy continuation of each prompt, alone (no padding), stopping at EOS like the live engine.
const REFERENCE = `
import json, sys
import torch
from tandem.data import format_prompt
from tandem.models import load_model, load_tokenizer

model, tokenizer = load_model(sys.argv[1]), load_tokenizer(sys.argv[1])
out = []
for problem in json.loads(sys.argv[2]):
    ids = tokenizer.encode(format_prompt(problem))
    with torch.no_grad():
        generated = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                   max_new_tokens=int(sys.argv[3]), do_sample=False, pad_token_id=tokenizer.pad_token_id)
    tokens = generated[0, len(ids):].tolist()
    out.append({"problem": problem, "promptIds": ids, "greedyIds": tokens,
                "greedyText": tokenizer.decode(tokens, skip_special_tokens=True, clean_up_tokenization_spaces=False)})
print(json.dumps(out))
`;

function cacheKey(): string {
  const hash = createHash("sha256");
  hash.update(`v1 ${TRAIN_STEPS} ${REFERENCE_TOKENS} ${JSON.stringify(FIXTURE_PROBLEMS)}${BUILD}${REFERENCE}`);
  for (const file of ["base_model.py", "onnx_export.py", "data.py", "models.py"]) {
    hash.update(readFileSync(join(TRAINER, "src", "tandem", file)));
  }
  return hash.digest("hex").slice(0, 12);
}

function python(args: string[]): string {
  return execFileSync(join(VENV_BIN, "python"), args, { cwd: TRAINER, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function build(dir: string): void {
  const work = `${dir}.building-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const checkpoint = join(work, "checkpoint");
  python(["-c", BUILD, checkpoint, String(TRAIN_STEPS)]);
  const parity = execFileSync(join(VENV_BIN, "tandem"), ["export-onnx", "--checkpoint", checkpoint, "--out", join(work, "onnx")], {
    cwd: TRAINER,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (!parity.includes('"greedy_equal": true')) throw new Error(`tandem export-onnx parity check failed: ${parity}`);
  const references = python(["-c", REFERENCE, checkpoint, JSON.stringify(FIXTURE_PROBLEMS), String(REFERENCE_TOKENS)]);
  writeFileSync(join(work, "references.json"), references);
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
}

export default function setup(project: TestProject): void {
  if (!existsSync(join(VENV_BIN, "python")) || !existsSync(join(VENV_BIN, "tandem"))) {
    throw new Error(
      `workers/live tests need the trainer's Python environment at ${join(TRAINER, ".venv")} ` +
        `(it builds the test model and its ONNX export): create it first, see workers/trainer/README.md`,
    );
  }
  const dir = join(tmpdir(), `tandem-live-fixture-${cacheKey()}`);
  if (!existsSync(join(dir, "references.json"))) build(dir);
  const references = JSON.parse(readFileSync(join(dir, "references.json"), "utf8")) as Reference[];
  const fixture: Fixture = { exportDir: join(dir, "onnx"), checkpointDir: join(dir, "checkpoint"), references };
  project.provide("fixture", fixture);
}
