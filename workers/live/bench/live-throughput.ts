// Live latency and throughput: workers/live's engine (in process, no HTTP) against the PyTorch worker's own
// generation path (workers/trainer/bench/torch_generate.py: tandem.rollout.solo_rollout), in the same run,
// on the same model, prompts, sampling settings, token budget and thread count.
//
//   npm run bench -w workers/live -- [--fixture] [--tokens 64] [--sessions 1,4,16] [--threads 1]
//       [--repeats 5] [--temperature 1] [--top-p 1] [--json OUT]
//
// Per session count N, N sessions start together:
//   TTFT        ms from the request (prompt tokenizing included) to the first sampled token, mean over sessions
//   tok/s/sess  decode speed per session: (tokens - 1) / (time after the first token), mean over sessions
// EOS never ends a session early on either side (the engine's `ignoreEos`; a no-EOS tokenizer view in
// torch_generate.py), so every session generates exactly --tokens tokens. One warm-up per N and side, then the
// median of --repeats runs. Model: the tiny base model (`tandem build-base`, cached), or with --fixture the
// seconds-to-build fixture model; its ONNX export is made once (`tandem export-onnx`) into the OS temp dir.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Engine } from "../src/batcher.js";
import { loadModel } from "../src/model.js";

const TRAINER = resolve(dirname(fileURLToPath(import.meta.url)), "../../trainer");
const VENV_BIN = join(TRAINER, ".venv", "bin");
const WORK = join(tmpdir(), "tandem-live-bench");

const { values: args } = parseArgs({
  options: {
    fixture: { type: "boolean", default: false },
    tokens: { type: "string", default: "64" },
    sessions: { type: "string", default: "1,4,16" },
    threads: { type: "string", default: "1" },
    repeats: { type: "string", default: "5" },
    temperature: { type: "string", default: "1" },
    "top-p": { type: "string", default: "1" },
    json: { type: "string" },
  },
});
const tokens = Number(args.tokens);
const counts = args.sessions.split(",").map(Number);
const threads = Number(args.threads);
const repeats = Number(args.repeats);
const temperature = Number(args.temperature);
const topP = Number(args["top-p"]);
if (!(tokens >= 2) || counts.some((n) => !(n >= 1)) || !(threads >= 1) || !(repeats >= 1)) {
  throw new Error("--tokens must be >= 2; --sessions, --threads and --repeats >= 1");
}
process.env.LIVE_THREADS = String(threads); // read when the model is loaded

/** Runs a trainer command; its stderr (exporter warnings, progress bars) is shown only when it fails. */
function run(file: string, argv: string[]): string {
  if (!existsSync(file)) throw new Error(`${file} missing: the bench needs the trainer's venv (workers/trainer/.venv)`);
  try {
    return execFileSync(file, argv, { cwd: TRAINER, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${file} ${argv.join(" ")} failed:\n${stderr?.slice(-4000) ?? (error as Error).message}`);
  }
}

/** The Hugging Face checkpoint to benchmark (built or reused by the trainer's CLI). */
function checkpoint(): string {
  if (args.fixture) {
    const out = join(WORK, "fixture");
    if (!existsSync(join(out, "config.json"))) run(join(VENV_BIN, "tandem"), ["build-base", "--fixture", "--out", out]);
    return out;
  }
  console.error("resolving the tiny base model (tandem build-base; builds it in minutes if it is not cached)...");
  const lines = run(join(VENV_BIN, "tandem"), ["build-base"]).trim().split("\n");
  return lines[lines.length - 1]!.trim();
}

/** Its ONNX export, made once per checkpoint (remade when the checkpoint is newer). */
function exportOf(model: string): string {
  const out = join(WORK, `${createHash("sha256").update(model).digest("hex").slice(0, 12)}-onnx`);
  const manifest = join(out, "onnx_manifest.json");
  const stale = !existsSync(manifest) || statSync(manifest).mtimeMs < statSync(join(model, "config.json")).mtimeMs;
  if (stale) run(join(VENV_BIN, "tandem"), ["export-onnx", "--checkpoint", model, "--out", out]);
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface Figures {
  sessions: number;
  ttftMs: number;
  tokensPerSecondPerSession: number;
}

async function measureLive(exportDir: string, problems: string[]): Promise<Figures[]> {
  const model = await loadModel(exportDir);
  const engine = new Engine({ maxBatch: Math.max(...counts) });
  const once = async (n: number, seed: number) => {
    const sessions = problems.slice(0, n).map((problem, i) =>
      engine.start(model, { problem, text: "", maxNewTokens: tokens, temperature, topP, topK: 0, seed: seed + i, ignoreEos: true }),
    );
    const dones = await Promise.all(
      sessions.map(async (session) => {
        for await (const event of session) {
          if (event.type === "done") return event;
          if (event.type === "error") throw new Error(event.message);
        }
        throw new Error("session ended without done");
      }),
    );
    if (dones.some((d) => d.tokens !== tokens)) throw new Error("a session stopped early");
    return {
      ttft: mean(dones.map((d) => d.ttftMs)),
      rate: mean(dones.map((d) => (tokens - 1) / ((d.totalMs - d.ttftMs) / 1000))),
    };
  };
  const figures: Figures[] = [];
  for (const n of counts) {
    await once(n, 1000); // warm-up
    const runs = [];
    for (let r = 0; r < repeats; r++) runs.push(await once(n, r * 100));
    figures.push({ sessions: n, ttftMs: median(runs.map((x) => x.ttft)), tokensPerSecondPerSession: median(runs.map((x) => x.rate)) });
  }
  return figures;
}

function measureTorch(model: string, problemsFile: string): Figures[] {
  const out = run(join(VENV_BIN, "python"), [
    join(TRAINER, "bench", "torch_generate.py"),
    ...["--model", model, "--sessions", counts.join(","), "--tokens", String(tokens), "--threads", String(threads)],
    ...["--repeats", String(repeats), "--temperature", String(temperature), "--top-p", String(topP)],
    ...["--problems", problemsFile, "--json"],
  ]);
  const report = JSON.parse(out.trim().split("\n").at(-1)!) as {
    results: { sessions: number; ttft_ms: number; tokens_per_s_per_session: number }[];
  };
  return report.results.map((r) => ({ sessions: r.sessions, ttftMs: r.ttft_ms, tokensPerSecondPerSession: r.tokens_per_s_per_session }));
}

mkdirSync(WORK, { recursive: true });
const model = checkpoint();
const exportDir = exportOf(model);
const problems = JSON.parse(
  run(join(VENV_BIN, "python"), [
    "-c",
    `import json; from tandem.data import generate_problems; print(json.dumps([p["problem"] for p in generate_problems(${Math.max(...counts)}, seed=0)]))`,
  ]),
) as string[];
const problemsFile = join(WORK, "problems.json");
writeFileSync(problemsFile, JSON.stringify(problems));

console.error(`model ${model}\nexport ${exportDir}`);
console.error(`settings: ${tokens} tokens/session, temperature ${temperature}, top_p ${topP}, ${threads} thread(s) per side, median of ${repeats}`);
const started = performance.now();
const live = await measureLive(exportDir, problems);
const torch = measureTorch(model, problemsFile);

const rows = counts.map((n, i) => {
  const l = live[i]!;
  const t = torch.find((x) => x.sessions === n)!;
  return {
    sessions: n,
    liveTtftMs: l.ttftMs,
    torchTtftMs: t.ttftMs,
    ttftRatio: t.ttftMs / l.ttftMs,
    liveTokPerSec: l.tokensPerSecondPerSession,
    torchTokPerSec: t.tokensPerSecondPerSession,
    throughputRatio: l.tokensPerSecondPerSession / t.tokensPerSecondPerSession,
  };
});
const header = ["sessions", "live TTFT ms", "torch TTFT ms", "TTFT ratio (torch/live)", "live tok/s/session", "torch tok/s/session", "throughput ratio (live/torch)"];
const cells = rows.map((r) => [
  String(r.sessions),
  r.liveTtftMs.toFixed(1),
  r.torchTtftMs.toFixed(1),
  `${r.ttftRatio.toFixed(2)}x`,
  r.liveTokPerSec.toFixed(0),
  r.torchTokPerSec.toFixed(0),
  `${r.throughputRatio.toFixed(2)}x`,
]);
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
for (const row of cells) console.log(`| ${row.join(" | ")} |`);
console.log(`live: workers/live engine in process (onnxruntime-node CPU); torch: tandem.rollout.solo_rollout; ${((performance.now() - started) / 1000).toFixed(0)} s`);
if (args.json) {
  writeFileSync(args.json, JSON.stringify({ model, exportDir, tokens, threads, repeats, temperature, topP, rows }, null, 2));
}
