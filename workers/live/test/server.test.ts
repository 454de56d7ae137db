import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { Engine, type GenerateRequest, type LiveSession } from "../src/batcher.js";
import type { LiveModel } from "../src/model.js";
import { type LiveServer, createLiveServer } from "../src/server.js";

const fixture = inject("fixture");

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

beforeAll(async () => {
  engine = new WatchedEngine({ maxBatch: 8 });
  live = createLiveServer(engine);
  await new Promise<void>((resolve) => live.server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(live.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await live.close(0);
  rmSync(scratch, { recursive: true, force: true });
});

const body = (extra: Record<string, unknown> = {}) => ({
  model: fixture.exportDir,
  problem: fixture.references[0]!.problem,
  text: "",
  maxNewTokens: 16,
  temperature: 0,
  ...extra,
});

function post(json: unknown): Promise<Response> {
  return fetch(`${base}/v1/generate`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(json) });
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

async function health(): Promise<{ ok: boolean; models: { path: string; loadedAt: string }[]; activeSessions: number; maxBatch: number }> {
  return (await fetch(`${base}/health`)).json() as never;
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
    expect(status.models.map((m) => m.path)).toContain(fixture.exportDir);
    expect(Number.isNaN(Date.parse(status.models[0]!.loadedAt))).toBe(false);
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
    const notJson = await fetch(`${base}/v1/generate`, { method: "POST", body: "{" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toBe("body: not valid JSON");
  });

  it("answers 404 for a folder without an export and 422 for an invalid one", async () => {
    const empty = mkdtempSync(join(scratch, "no-export-"));
    const missing = await post(body({ model: empty }));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: `No ONNX export at ${empty} (onnx_manifest.json missing): export the checkpoint first (job EXPORT_ONNX, or tandem export-onnx)`,
    });
    const invalid = mkdtempSync(join(scratch, "bad-export-"));
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
      const req = httpRequest(`${base}/v1/generate`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
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
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/v1/generate`)).status).toBe(405);
  });
});
