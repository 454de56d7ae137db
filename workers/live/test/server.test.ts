import type { AddressInfo } from "node:net";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { Engine, type GenerateRequest, type LiveSession } from "../src/batcher.js";
import { ConfigError, configFromEnv } from "../src/config.js";
import { type LiveModel, ModelStore } from "../src/model.js";
import { type LiveServer, createLiveServer } from "../src/server.js";

const fixture = inject("fixture");
/** The secret the test servers require (64 hex characters, as `openssl rand -hex 32` makes). */
const SECRET = "5f".repeat(32);

/** The real engine, remembering its sessions so a test can look inside them. */
class WatchedEngine extends Engine {
  readonly started: LiveSession[] = [];
  /** Keep sessions running to their token budget, so one is surely still running when its client leaves. */
  ignoreEos = false;
  override start(model: LiveModel, request: GenerateRequest, signal?: AbortSignal): LiveSession {
    const session = super.start(model, { ...request, ignoreEos: this.ignoreEos }, signal);
    this.started.push(session);
    return session;
  }
}

let live: LiveServer;
let engine: WatchedEngine;
let base: string;
const scratch = mkdtempSync(join(tmpdir(), "live-server-test-"));
/** The servers' ONNX root: a copy of the fixture export lives in it (the fixture itself is outside). */
const root = join(scratch, "onnx");
const exportDir = join(root, "ck-fixture");
mkdirSync(root);
cpSync(fixture.exportDir, exportDir, { recursive: true });

async function listen(server: LiveServer): Promise<string> {
  await new Promise<void>((resolve) => server.server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  engine = new WatchedEngine({ maxBatch: 8 });
  live = createLiveServer({ engine, secret: SECRET, onnxRoot: root });
  base = await listen(live);
});
afterAll(async () => {
  await live.close(0);
  rmSync(scratch, { recursive: true, force: true });
});

const body = (extra: Record<string, unknown> = {}) => ({
  model: exportDir,
  problem: fixture.references[0]!.problem,
  text: "",
  maxNewTokens: 16,
  temperature: 0,
  ...extra,
});

const authorized = { "content-type": "application/json", authorization: `Bearer ${SECRET}` };

function post(json: unknown, at = base): Promise<Response> {
  return fetch(`${at}/v1/generate`, { method: "POST", headers: authorized, body: JSON.stringify(json) });
}

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))!.slice(7);
      const data = JSON.parse(lines.find((l) => l.startsWith("data: "))!.slice(6)) as Record<string, unknown>;
      return { event, data };
    });
}

interface Health {
  ok: boolean;
  models?: { path: string; loadedAt: string }[];
  activeSessions: number;
  waitingSessions: number;
  maxBatch: number;
  maxQueued: number;
  maxModels: number;
  loadedModels: number;
}

async function health(at = base, headers: Record<string, string> = authorized): Promise<Health> {
  return (await fetch(`${at}/health`, { headers })).json() as never;
}

describe("HTTP server", () => {
  it("streams start, one token event per token, and done as server-sent events", async () => {
    const response = await post(body());
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = parseSse(await response.text());
    const reference = fixture.references[0]!;
    expect(events[0]).toEqual({ event: "start", data: { promptTokens: reference.promptIds.length } });
    const tokens = events.filter((e) => e.event === "token");
    expect(tokens.map((e) => e.data.id)).toEqual(reference.greedyIds.slice(0, 16));
    expect(tokens.map((e) => e.data.n)).toEqual(tokens.map((_, i) => i + 1));
    expect(tokens.every((e) => typeof e.data.text === "string")).toBe(true);
    expect(reference.greedyText.startsWith(tokens.map((e) => e.data.text).join(""))).toBe(true);
    const done = events.at(-1)!;
    expect(done.event).toBe("done");
    expect(done.data).toMatchObject({ reason: "length", tokens: 16 });
    expect(done.data.ttftMs).toEqual(expect.any(Number));
    expect(done.data.totalMs).toEqual(expect.any(Number));
    expect(events).toHaveLength(tokens.length + 2);

    const status = await health();
    expect(status).toMatchObject({ ok: true, activeSessions: 0, maxBatch: 8 });
    expect(status.models!.map((m) => m.path)).toContain(exportDir);
    expect(Number.isNaN(Date.parse(status.models![0]!.loadedAt))).toBe(false);
  });

  it("stops after the requested number of lines", async () => {
    const events = parseSse(await (await post(body({ maxNewTokens: 200, stopAfterLines: 1 }))).text());
    const text = events.filter((e) => e.event === "token").map((e) => e.data.text).join("");
    expect(events.at(-1)!.data.reason).toBe("lines");
    expect(text.endsWith("\n")).toBe(true);
    expect(text.indexOf("\n")).toBe(text.length - 1);
  });

  it("holds token events to the reading pace without changing the tokens", async () => {
    const started = Date.now();
    const response = await post(body({ maxNewTokens: 8, tokensPerSecond: 50 }));
    const arrivals: number[] = [];
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
      for (let i = 0; i < (value.match(/event: token/g)?.length ?? 0); i++) arrivals.push(Date.now() - started);
    }
    const tokens = parseSse(text).filter((e) => e.event === "token");
    expect(tokens.map((e) => e.data.id)).toEqual(fixture.references[0]!.greedyIds.slice(0, 8));
    // 8 tokens at 50/s: the last leaves at least 7 gaps of 20 ms after the first
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(7 * 20 - 10);
    expect((await post(body({ tokensPerSecond: -1 }))).status).toBe(400);
  });

  it("answers 400 naming the field for a bad body", async () => {
    const cases: [unknown, string][] = [
      [body({ maxNewTokens: 0 }), "maxNewTokens"],
      [body({ maxNewTokens: 4097 }), "maxNewTokens"],
      [body({ maxNewTokens: 2.5 }), "maxNewTokens"],
      [body({ temperature: -1 }), "temperature"],
      [body({ topP: 0 }), "topP"],
      [body({ topP: 1.5 }), "topP"],
      [body({ topK: -1 }), "topK"],
      [body({ seed: "x" }), "seed"],
      [body({ stopAfterLines: 0 }), "stopAfterLines"],
      [body({ problem: 3 }), "problem"],
      [body({ text: null }), "text"],
      [body({ model: "relative/path" }), "model"],
      [body({ top_p: 0.9 }), "top_p"],
      [[1, 2], "body"],
    ];
    for (const [json, field] of cases) {
      const response = await post(json);
      expect(response.status, JSON.stringify(json)).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(new RegExp(`^${field}: `));
    }
    const notJson = await fetch(`${base}/v1/generate`, { method: "POST", headers: authorized, body: "{" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toBe("body: not valid JSON");
  });

  it("answers 404 for a folder without an export and 422 for an invalid one", async () => {
    const empty = mkdtempSync(join(root, "no-export-"));
    const missing = await post(body({ model: empty }));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: `No ONNX export at ${empty} (onnx_manifest.json missing): export the checkpoint first (job EXPORT_ONNX, or tandem export-onnx)`,
    });
    const invalid = mkdtempSync(join(root, "bad-export-"));
    writeFileSync(join(invalid, "onnx_manifest.json"), JSON.stringify({ format: "something-else" }));
    const response = await post(body({ model: invalid }));
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: string }).error).toMatch(/format/);
  });

  it("a client that disconnects mid-stream aborts its session and frees it", async () => {
    const before = engine.started.length;
    engine.ignoreEos = true;
    const payload = JSON.stringify(body({ maxNewTokens: 4096, temperature: 1, seed: 5 }));
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${base}/v1/generate`, { method: "POST", headers: authorized }, (res) => {
        let seen = "";
        res.on("data", (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes("event: token")) {
            req.destroy(); // hang up after the first token
            resolve();
          }
        });
        res.on("error", () => undefined);
      });
      req.on("error", () => undefined);
      req.on("close", () => resolve());
      setTimeout(() => reject(new Error("no token event")), 10_000);
      req.end(payload);
    });
    engine.ignoreEos = false;
    const session = engine.started[before]!;
    for (let i = 0; i < 100 && (await health()).activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await health()).activeSessions).toBe(0);
    expect(session.aborted).toBe(true);
    expect(session.generated.length).toBeLessThan(session.limit);
  });

  it("answers unknown routes with 404 and wrong methods with 405", async () => {
    expect((await fetch(`${base}/nope`, { headers: authorized })).status).toBe(404);
    expect((await fetch(`${base}/v1/generate`, { headers: authorized })).status).toBe(405);
  });
});

// ---------------------------------------------------------------- issue 13 item 4: live sessions are bounded

describe("item 4: only the web app, holding the shared secret, may use the service", () => {
  it("refuses a request without the secret, or with a wrong one, with 401 and starts nothing", async () => {
    const before = engine.started.length;
    const payload = JSON.stringify(body());
    const cases: Record<string, string>[] = [
      {}, // none
      { authorization: `Bearer ${"6a".repeat(32)}` }, // wrong, same length
      { authorization: "Bearer short" }, // wrong, another length
      { authorization: SECRET }, // the secret without the scheme
      { authorization: `Basic ${SECRET}` },
    ];
    for (const headers of cases) {
      const response = await fetch(`${base}/v1/generate`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: payload });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect(((await response.json()) as { error: string }).error).toMatch(/^authorization: missing or wrong live service secret/);
    }
    expect(engine.started.length).toBe(before);
    expect((await post(body({ maxNewTokens: 2 }))).status).toBe(200);
  });

  it("answers /health to probes without the secret, but names the loaded exports only to holders of it", async () => {
    const open = await health(base, {});
    expect(open).toMatchObject({ ok: true, maxBatch: 8 });
    expect(open.models).toBeUndefined();
    expect((await health()).models).toBeDefined();
  });

  it("refuses to start in production without a secret of 32 bytes, or without one off loopback; never echoes it", () => {
    const env = { LIVE_ONNX_ROOT: root };
    const refusal = (extra: Record<string, string>) => {
      try {
        configFromEnv({ ...env, ...extra });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      return null;
    };
    expect(refusal({ NODE_ENV: "production" })).toMatch(/^LIVE_SECRET is not set: in production/);
    expect(refusal({ NODE_ENV: "production", LIVE_SECRET: "too-short-secret-value" })).toMatch(/^LIVE_SECRET must be at least 32 bytes \(it has 22\)/);
    expect(refusal({ LIVE_SECRET: "too-short-secret-value" })).not.toContain("too-short-secret-value");
    expect(refusal({ LIVE_HOST: "0.0.0.0" })).toMatch(/^LIVE_SECRET is not set: without it the live service listens only on 127\.0\.0\.1, not 0\.0\.0\.0/);
    expect(refusal({ NODE_ENV: "production", LIVE_HOST: "0.0.0.0", LIVE_SECRET: SECRET })).toBeNull();
    // development and tests on this machine only may go without
    expect(configFromEnv({ ...env, LIVE_HOST: "127.0.0.1" })).toMatchObject({ secret: null, host: "127.0.0.1", onnxRoot: root });
    expect(refusal({ LIVE_ONNX_ROOT: "" })).toMatch(/^LIVE_ONNX_ROOT is not set/);
    expect(configFromEnv({ TANDEM_RUNS_DIR: scratch }).onnxRoot).toBe(root);
    expect(refusal({ LIVE_MAX_QUEUED: "0" })).toMatch(/^LIVE_MAX_QUEUED must be a positive integer/);
    expect(refusal({ LIVE_SECRET_PREVIOUS: SECRET })).toMatch(/^LIVE_SECRET_PREVIOUS is set without LIVE_SECRET/);
    expect(refusal({ LIVE_SECRET: SECRET, LIVE_SECRET_PREVIOUS: "old" })).toMatch(/^LIVE_SECRET_PREVIOUS must be at least 32 bytes/);
  });

  it("during a rotation accepts the new and the previous secret, and nothing else", async () => {
    const next = "7b".repeat(32);
    const server = createLiveServer({ secret: next, previousSecret: SECRET, onnxRoot: root, models: new ModelStore(1) });
    const at = await listen(server);
    try {
      const send = (secret: string) =>
        fetch(`${at}/v1/generate`, { method: "POST", headers: { authorization: `Bearer ${secret}` }, body: JSON.stringify(body({ maxNewTokens: 2 })) });
      for (const secret of [next, SECRET]) {
        const response = await send(secret);
        expect(response.status).toBe(200);
        await response.text();
      }
      expect((await send("8c".repeat(32))).status).toBe(401);
    } finally {
      await server.close(0);
    }
  });
});

/** An engine whose scheduler waits at a gate: its sessions stay open (queued) until the test opens it. */
class GatedEngine extends Engine {
  private openGate: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.openGate = resolve));
  open(): void {
    this.openGate();
  }
  protected override async tick(): Promise<void> {
    await this.gate;
    return super.tick();
  }
}

describe("item 4: an admission limit on the engine's queue", () => {
  it("accepts a full batch and LIVE_MAX_QUEUED waiting sessions, then answers 503 with Retry-After", async () => {
    const gated = new GatedEngine({ maxBatch: 1, maxQueued: 1 });
    const server = createLiveServer({ engine: gated, secret: SECRET, onnxRoot: root });
    const at = await listen(server);
    try {
      const running = await post(body({ maxNewTokens: 4 }), at); // the batch's one place
      const waiting = await post(body({ maxNewTokens: 4 }), at); // the queue's one place
      expect([running.status, waiting.status]).toEqual([200, 200]);
      expect(await health(at)).toMatchObject({ activeSessions: 2, waitingSessions: 1, maxQueued: 1 });
      const refused = await post(body({ maxNewTokens: 4 }), at);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(((await refused.json()) as { error: string }).error).toMatch(/busy \(1 session\(s\) already waiting/);
      expect(gated.activeSessions).toBe(2); // the refused one never started
      gated.open();
      for (const response of [running, waiting]) expect(parseSse(await response.text()).at(-1)!.event).toBe("done");
      expect((await post(body({ maxNewTokens: 2 }), at)).status).toBe(200); // room again
    } finally {
      gated.open();
      await server.close(0);
    }
  });
});

describe("item 4: models are loaded only from exports under the ONNX root", () => {
  const refusedWithoutEcho = async (model: string) => {
    const response = await post(body({ model }));
    expect(response.status, model).toBe(403);
    const { error } = (await response.json()) as { error: string };
    expect(error).toBe("model: must be an export folder inside the live service's ONNX root (LIVE_ONNX_ROOT); no other path is served");
  };

  it("refuses a path outside the root, a `..` that climbs out, and a symlink that leads out, naming no path", async () => {
    await refusedWithoutEcho(fixture.exportDir); // a real export, but outside the root
    await refusedWithoutEcho(`${root}/../../${fixture.exportDir}`);
    await refusedWithoutEcho(`${root}/ck-fixture/../ck-fixture`); // `..` is refused even where it stays inside
    await refusedWithoutEcho(root); // the root itself is no export
    await refusedWithoutEcho("/etc");
    symlinkSync(fixture.exportDir, join(root, "ck-link-out"));
    await refusedWithoutEcho(join(root, "ck-link-out"));
    // a link that stays inside the root is an ordinary export
    symlinkSync(exportDir, join(root, "ck-link-in"));
    expect((await post(body({ model: join(root, "ck-link-in"), maxNewTokens: 2 }))).status).toBe(200);
    expect((await health()).models!.map((m) => m.path)).not.toContain(fixture.exportDir);
  });
});

describe("item 4: an LRU bound on loaded models", () => {
  const second = join(root, "ck-second");
  const third = join(root, "ck-third");
  cpSync(fixture.exportDir, second, { recursive: true });
  cpSync(fixture.exportDir, third, { recursive: true });

  it("unloads the least recently used model to load one past LIVE_MAX_MODELS", async () => {
    const store = new ModelStore(2);
    try {
      const first = await store.load(exportDir);
      await store.load(second);
      expect(await store.load(exportDir)).toBe(first); // used again: now the most recent
      await store.load(third);
      expect(store.loaded().map((m) => m.path)).toEqual([exportDir, third]);
    } finally {
      await store.unloadAll();
    }
  });

  it("never unloads a model a session holds: with every slot in use, 503 until one is free", async () => {
    const store = new ModelStore(1);
    const gated = new GatedEngine({ maxBatch: 4, maxQueued: 4 });
    const server = createLiveServer({ engine: gated, models: store, secret: SECRET, onnxRoot: root });
    const at = await listen(server);
    try {
      const holding = await post(body({ maxNewTokens: 2 }), at);
      expect(holding.status).toBe(200);
      const refused = await post(body({ model: second, maxNewTokens: 2 }), at);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(((await refused.json()) as { error: string }).error).toMatch(/already holds 1 model\(s\), all in use \(LIVE_MAX_MODELS\)/);
      gated.open();
      await holding.text();
      expect((await post(body({ model: second, maxNewTokens: 2 }), at)).status).toBe(200);
      expect(await health(at)).toMatchObject({ maxModels: 1, loadedModels: 1, models: [{ path: second }] });
    } finally {
      gated.open();
      await server.close(0);
    }
  });
});
