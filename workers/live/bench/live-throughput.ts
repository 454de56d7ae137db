// Live latency and throughput: workers/live's engine in process (no HTTP), the same engine behind its HTTP API
// (what a browser-facing client sees), and the PyTorch worker's own generation path
// (workers/trainer/bench/torch_generate.py: tandem.rollout.solo_rollout), in the same run, on the same model,
// prompts, sampling settings, token budget and thread count.
//
//   npm run bench -w workers/live -- [--fixture] [--tokens 64] [--sessions 1,4,16] [--threads 1]
//       [--repeats 5] [--temperature 1] [--top-p 1] [--json OUT] [--quick]
//
// --quick is the CI smoke run: the fixture model, sessions 1,4, 16 tokens, 1 repeat (flags given explicitly
// still win). Every run exits non-zero when any session yields a wrong number of tokens (or none).
//
// Per session count N, N sessions start together:
//   TTFT        ms from the request to the first sampled token, mean over sessions. Engine: from
//               `engine.start` (prompt tokenizing included) as the engine reports it. HTTP: from just before
//               the client's `fetch` to the moment its first `token` event is read off the SSE stream.
//   tok/s/sess  decode speed per session: (tokens - 1) / (time after the first token), mean over sessions;
//               for HTTP, between the arrivals of the first and the last `token` event at the client.
// HTTP: `createLiveServer` with a fresh engine on an ephemeral 127.0.0.1 port in this process; N `fetch` POSTs
// to /v1/generate fired at once (tokensPerSecond 0: no reading pace), each SSE stream read as it arrives. The
// clients share the server's event loop, so their reading and parsing is inside the HTTP figures.
// EOS never ends a session early anywhere (the engine's `ignoreEos`, which the server's engine here sets on
// every session because HTTP does not accept it; a no-EOS tokenizer view in torch_generate.py), so every
// session generates exactly --tokens tokens. One warm-up per N and side, then the median of --repeats runs.
// Model: the tiny base model (`tandem build-base`, cached), or with --fixture the seconds-to-build fixture
// model; its ONNX export is made once (`tandem export-onnx`) into the OS temp dir.

import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Engine, type GenerateRequest, type LiveSession } from "../src/batcher.js";
import { type LiveModel, loadModel } from "../src/model.js";
import { createLiveServer } from "../src/server.js";

const TRAINER = resolve(dirname(fileURLToPath(import.meta.url)), "../../trainer");
const VENV_BIN = join(TRAINER, ".venv", "bin");
const WORK = join(tmpdir(), "tandem-live-bench");
/** The HTTP side runs as deployed: the shared secret on every request, exports served only from under WORK. */
const SECRET = randomBytes(32).toString("hex");
/** One HTTP session that takes longer than this is a failure (the CI smoke run must not hang). */
const SESSION_TIMEOUT_MS = 60_000;

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    fixture: { type: "boolean", default: false },
    tokens: { type: "string" },
    sessions: { type: "string" },
    threads: { type: "string", default: "1" },
    repeats: { type: "string" },
    temperature: { type: "string", default: "1" },
    "top-p": { type: "string", default: "1" },
    json: { type: "string" },
  },
});
const quick = args.quick;
const fixture = args.fixture || quick;
const tokens = Number(args.tokens ?? (quick ? "16" : "64"));
const counts = (args.sessions ?? (quick ? "1,4" : "1,4,16")).split(",").map(Number);
const threads = Number(args.threads);
const repeats = Number(args.repeats ?? (quick ? "1" : "5"));
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
  if (fixture) {
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

/** Every session that did not yield exactly --tokens tokens (or failed); any makes the run exit non-zero. */
const failures: string[] = [];

interface Figures {
  sessions: number;
  ttftMs: number;
  tokensPerSecondPerSession: number;
}

/** One timed run of N sessions: per-session figures, or a failure. */
interface SessionFigures {
  ttftMs: number;
  rate: number;
  /** HTTP only: the server's own TTFT (its `done` event), to separate transport from engine time. */
  serverTtftMs?: number;
}

/** Means over the sessions that succeeded; failures are recorded with their context. */
function summarize(side: string, n: number, run: string, results: (SessionFigures | string)[]) {
  results.forEach((r, i) => {
    if (typeof r === "string") failures.push(`${side}, ${n} session(s), ${run}, session ${i}: ${r}`);
  });
  const ok = results.filter((r): r is SessionFigures => typeof r !== "string");
  const servers = ok.flatMap((r) => (r.serverTtftMs === undefined ? [] : [r.serverTtftMs]));
  return {
    ttft: ok.length ? mean(ok.map((r) => r.ttftMs)) : NaN,
    rate: ok.length ? mean(ok.map((r) => r.rate)) : NaN,
    serverTtft: servers.length ? mean(servers) : NaN,
  };
}

/** Warm-up (seed 1000), then --repeats runs (seeds r*100 + i, the same on both live sides); medians per N. */
async function repeatPerCount(once: (n: number, seed: number, run: string) => Promise<ReturnType<typeof summarize>>) {
  const figures: (Figures & { serverTtftMs: number })[] = [];
  for (const n of counts) {
    await once(n, 1000, "warm-up");
    const runs = [];
    for (let r = 0; r < repeats; r++) runs.push(await once(n, r * 100, `repeat ${r + 1}`));
    figures.push({
      sessions: n,
      ttftMs: median(runs.map((x) => x.ttft)),
      tokensPerSecondPerSession: median(runs.map((x) => x.rate)),
      serverTtftMs: median(runs.map((x) => x.serverTtft)),
    });
  }
  return figures;
}

async function measureEngine(exportDir: string, problems: string[]): Promise<Figures[]> {
  const model = await loadModel(exportDir);
  const engine = new Engine({ maxBatch: Math.max(...counts) });
  return repeatPerCount(async (n, seed, run) => {
    const sessions = problems.slice(0, n).map((problem, i) =>
      engine.start(model, { problem, text: "", maxNewTokens: tokens, temperature, topP, topK: 0, seed: seed + i, ignoreEos: true }),
    );
    const results = await Promise.all(
      sessions.map(async (session): Promise<SessionFigures | string> => {
        for await (const event of session) {
          if (event.type === "error") return `error event: ${event.message}`;
          if (event.type !== "done") continue;
          if (event.tokens !== tokens) return `${event.tokens} tokens, expected ${tokens} (reason ${event.reason})`;
          return { ttftMs: event.ttftMs, rate: (tokens - 1) / Math.max((event.totalMs - event.ttftMs) / 1000, 1e-9) };
        }
        return "the session ended without done";
      }),
    );
    return summarize("live engine", n, run, results);
  });
}

/** The server's engine: HTTP does not accept `ignoreEos`, so every session it starts gets it here. */
class EosBlindEngine extends Engine {
  override start(model: LiveModel, request: GenerateRequest, signal?: AbortSignal): LiveSession {
    return super.start(model, { ...request, ignoreEos: true }, signal);
  }
}

/** One SSE event: its `event:` name and its `data:` parsed as JSON. */
function parseSseBlock(block: string): { event: string; data: Record<string, unknown> } {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return { event, data: data.length ? (JSON.parse(data.join("\n")) as Record<string, unknown>) : {} };
}

/** One browser-like client: POSTs, reads the stream as it arrives, times the first and last `token` events. */
async function httpSession(url: string, body: Record<string, unknown>): Promise<SessionFigures | string> {
  const sent = performance.now();
  let reader: ReadableStreamDefaultReader<string> | undefined;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(SESSION_TIMEOUT_MS),
    });
    if (response.status !== 200 || !response.body) return `HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`;
    reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let count = 0;
    let first = 0;
    let last = 0;
    let done: Record<string, unknown> | null = null;
    for (;;) {
      const { done: ended, value } = await reader.read();
      if (ended) break;
      const now = performance.now(); // every event in this chunk reached the client now
      buffer += value.replace(/\r\n?/g, "\n");
      for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
        const { event, data } = parseSseBlock(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (event === "token") {
          count++;
          if (data.n !== count) return `token event n=${String(data.n)} where ${count} was due`;
          if (count === 1) first = now;
          last = now;
        } else if (event === "done") done = data;
        else if (event === "error") return `error event: ${String(data.message)}`;
      }
    }
    if (!done) return `the stream ended without done after ${count} token event(s)`;
    if (count !== tokens || done.tokens !== tokens) {
      return `${count} token event(s) (done says ${String(done.tokens)}), expected ${tokens} (reason ${String(done.reason)})`;
    }
    return { ttftMs: first - sent, rate: (tokens - 1) / Math.max((last - first) / 1000, 1e-9), serverTtftMs: Number(done.ttftMs) };
  } catch (error) {
    return `request failed: ${(error as Error).message}`;
  } finally {
    reader?.cancel().catch(() => undefined); // a session given up early: hang up, which aborts it on the server
  }
}

async function measureHttp(exportDir: string, problems: string[]): Promise<(Figures & { serverTtftMs: number })[]> {
  const live = createLiveServer({ engine: new EosBlindEngine({ maxBatch: Math.max(...counts) }), secret: SECRET, onnxRoot: WORK });
  await new Promise<void>((resolve) => live.server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(live.server.address() as AddressInfo).port}/v1/generate`;
  try {
    return await repeatPerCount(async (n, seed, run) => {
      const results = await Promise.all(
        problems.slice(0, n).map((problem, i) =>
          httpSession(url, { model: exportDir, problem, text: "", maxNewTokens: tokens, temperature, topP, topK: 0, seed: seed + i, tokensPerSecond: 0 }),
        ),
      );
      return summarize("live HTTP", n, run, results);
    });
  } finally {
    await live.close(0); // also releases the loaded model (both live sides shared it)
  }
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
const started = performance.now();
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
console.error(
  `settings: ${tokens} tokens/session, temperature ${temperature}, top_p ${topP}, ${threads} thread(s) per side, ` +
    `median of ${repeats}${quick ? " (--quick)" : ""}`,
);
const engineFigures = await measureEngine(exportDir, problems);
const httpFigures = await measureHttp(exportDir, problems);
if (failures.length > 0) {
  // the live figures are void; torch_generate.py fails on its own when one of its rows stops early
  console.error(`FAILED: ${failures.length} live session(s) did not yield exactly ${tokens} tokens:`);
  for (const failure of failures.slice(0, 20)) console.error(`  ${failure}`);
  if (failures.length > 20) console.error(`  ... and ${failures.length - 20} more`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ model, exportDir, quick, tokens, threads, repeats, failures }, null, 2));
  process.exit(1);
}
const torch = measureTorch(model, problemsFile);

const rows = counts.map((n, i) => {
  const l = engineFigures[i]!;
  const h = httpFigures[i]!;
  const t = torch.find((x) => x.sessions === n)!;
  return {
    sessions: n,
    liveTtftMs: l.ttftMs,
    httpTtftMs: h.ttftMs,
    httpServerTtftMs: h.serverTtftMs,
    torchTtftMs: t.ttftMs,
    ttftRatio: t.ttftMs / l.ttftMs, // torch / live engine
    httpTtftRatio: t.ttftMs / h.ttftMs, // torch / live HTTP
    liveTokPerSec: l.tokensPerSecondPerSession,
    httpTokPerSec: h.tokensPerSecondPerSession,
    torchTokPerSec: t.tokensPerSecondPerSession,
    throughputRatio: l.tokensPerSecondPerSession / t.tokensPerSecondPerSession, // live engine / torch
    httpThroughputRatio: h.tokensPerSecondPerSession / t.tokensPerSecondPerSession, // live HTTP / torch
  };
});
const header = [
  "sessions",
  "live engine TTFT ms",
  "live HTTP TTFT ms",
  "torch TTFT ms",
  "TTFT ratio torch/HTTP",
  "live engine tok/s/session",
  "live HTTP tok/s/session",
  "torch tok/s/session",
  "throughput ratio HTTP/torch",
];
const cells = rows.map((r) => [
  String(r.sessions),
  r.liveTtftMs.toFixed(1),
  r.httpTtftMs.toFixed(1),
  r.torchTtftMs.toFixed(1),
  `${r.httpTtftRatio.toFixed(2)}x`,
  r.liveTokPerSec.toFixed(0),
  r.httpTokPerSec.toFixed(0),
  r.torchTokPerSec.toFixed(0),
  `${r.httpThroughputRatio.toFixed(2)}x`,
]);
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
for (const row of cells) console.log(`| ${row.join(" | ")} |`);
console.log(
  "live engine: workers/live in process (onnxruntime-node CPU); live HTTP: the same engine behind createLiveServer, " +
    `fetch + SSE on 127.0.0.1; torch: tandem.rollout.solo_rollout; ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
if (args.json) {
  writeFileSync(args.json, JSON.stringify({ model, exportDir, quick, tokens, threads, repeats, temperature, topP, rows, failures }, null, 2));
}
process.exit(0); // explicit, so a socket or timer left open can never hold a CI run
