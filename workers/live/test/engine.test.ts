import { describe, expect, it, inject } from "vitest";
import { Engine, type GenerateRequest, type LiveSession, type SessionEvent } from "../src/batcher.js";
import { decode, loadModel } from "../src/model.js";

const fixture = inject("fixture");
const model = await loadModel(fixture.exportDir);
const greedy = (problem: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  problem,
  text: "",
  maxNewTokens: 24,
  temperature: 0,
  topP: 1,
  topK: 0,
  seed: 0,
  ...extra,
});

interface Run {
  events: SessionEvent[];
  ids: number[];
  text: string;
  done: Extract<SessionEvent, { type: "done" }> | undefined;
}

async function collect(session: LiveSession): Promise<Run> {
  const events: SessionEvent[] = [];
  for await (const event of session) events.push(event);
  const tokens = events.filter((e) => e.type === "token");
  return {
    events,
    ids: tokens.map((e) => e.id),
    text: tokens.map((e) => e.text).join(""),
    done: events.find((e) => e.type === "done"),
  };
}

describe("engine", () => {
  it("greedy continuations equal PyTorch's token for token (cross-language parity)", async () => {
    const engine = new Engine({ maxBatch: 8 });
    expect(fixture.references.length).toBeGreaterThanOrEqual(3);
    for (const reference of fixture.references.slice(0, 3)) {
      const run = await collect(engine.start(model, greedy(reference.problem)));
      expect(run.ids).toEqual(reference.greedyIds);
      expect(run.text).toBe(reference.greedyText);
      expect(run.events[0]).toEqual({ type: "start", promptTokens: reference.promptIds.length });
    }
    // the references are not trivial: several distinct tokens, not one repeated line break
    expect(new Set(fixture.references[0]!.greedyIds).size).toBeGreaterThan(5);
  });

  it("batched sessions of different prompt lengths generate exactly what each generates alone", async () => {
    const engine = new Engine({ maxBatch: 8 });
    const problems = fixture.references.map((r) => r.problem);
    expect(new Set(fixture.references.map((r) => r.promptIds.length)).size).toBe(problems.length);
    const requests = problems.map((p, i) => greedy(p, { maxNewTokens: 40 + 7 * i, ignoreEos: true }));
    const alone: Run[] = [];
    for (const request of requests) alone.push(await collect(engine.start(model, request)));
    const together = await Promise.all(requests.map((request) => collect(engine.start(model, request))));
    together.forEach((run, i) => {
      expect(run.ids).toEqual(alone[i]!.ids);
      expect(run.ids).toHaveLength(requests[i]!.maxNewTokens);
    });
    // seeded sampling too: one random stream per session, whatever else is in the batch
    const sampled = problems.map((p, i) => greedy(p, { temperature: 1, topP: 0.9, seed: 100 + i, maxNewTokens: 32 }));
    const sampledAlone: Run[] = [];
    for (const request of sampled) sampledAlone.push(await collect(engine.start(model, request)));
    const sampledTogether = await Promise.all(sampled.map((request) => collect(engine.start(model, request))));
    sampledTogether.forEach((run, i) => expect(run.ids).toEqual(sampledAlone[i]!.ids));
  });

  it("a session that joins a running batch later still matches its solo run", async () => {
    const engine = new Engine({ maxBatch: 8 });
    const [a, b] = fixture.references;
    const soloB = await collect(engine.start(model, greedy(b!.problem, { maxNewTokens: 30, ignoreEos: true })));
    const first = engine.start(model, greedy(a!.problem, { maxNewTokens: 60, ignoreEos: true }));
    const iterator = first[Symbol.asyncIterator]();
    let seen = 0;
    while (seen < 10) {
      const next = await iterator.next();
      if (next.done) throw new Error("the first session ended early");
      if (next.value.type === "token") seen++;
    }
    const late = await collect(engine.start(model, greedy(b!.problem, { maxNewTokens: 30, ignoreEos: true })));
    expect(late.ids).toEqual(soloB.ids);
    await iterator.return?.(undefined);
  });

  it("more sessions than maxBatch wait their turn and are unaffected", async () => {
    const engine = new Engine({ maxBatch: 2 });
    const requests = fixture.references.map((r) => greedy(r.problem, { maxNewTokens: 12, ignoreEos: true }));
    const runs = await Promise.all(requests.map((r) => collect(engine.start(model, r))));
    const wide = new Engine({ maxBatch: 8 });
    const reference = await Promise.all(requests.map((r) => collect(wide.start(model, r))));
    runs.forEach((run, i) => expect(run.ids).toEqual(reference[i]!.ids));
    expect(engine.activeSessions).toBe(0);
  });

  it("stopAfterLines ends right after the n-th generated line break", async () => {
    const engine = new Engine({ maxBatch: 8 });
    const problem = fixture.references[1]!.problem;
    const full = await collect(engine.start(model, greedy(problem, { maxNewTokens: 120, ignoreEos: true })));
    const lineEnds = full.ids.flatMap((id, i) => (decode(model, [id]).includes("\n") ? [i] : []));
    expect(lineEnds.length).toBeGreaterThanOrEqual(2);
    for (const lines of [1, 2]) {
      const run = await collect(engine.start(model, greedy(problem, { maxNewTokens: 120, ignoreEos: true, stopAfterLines: lines })));
      expect(run.ids).toEqual(full.ids.slice(0, lineEnds[lines - 1]! + 1));
      expect(run.done?.reason).toBe("lines");
      expect(run.text.split("\n")).toHaveLength(lines + 1);
    }
  });

  it("streams text deltas that add up to the decoded completion, and reports done", async () => {
    const engine = new Engine({ maxBatch: 8 });
    const run = await collect(engine.start(model, greedy(fixture.references[0]!.problem, { temperature: 1, seed: 3, maxNewTokens: 40 })));
    const tokens = run.events.filter((e) => e.type === "token");
    expect(tokens.map((e) => e.n)).toEqual(tokens.map((_, i) => i + 1));
    expect(run.text).toBe(decode(model, run.ids));
    expect(run.events.at(-1)).toBe(run.done);
    expect(run.done!.tokens).toBe(run.ids.length);
    expect(run.done!.reason).toBe(model.eosIds.has(run.ids.at(-1)!) ? "eos" : "length");
    expect(run.done!.ttftMs).toBeGreaterThan(0);
    expect(run.done!.totalMs).toBeGreaterThanOrEqual(run.done!.ttftMs);
  });

  it("continues the shared text after the prompt", async () => {
    const engine = new Engine({ maxBatch: 8 });
    // the continuation so far ends inside a word someone else wrote: the model continues from there
    const run = await collect(engine.start(model, greedy("Mia has 12 apples.", { text: "Mia starts wi", maxNewTokens: 8 })));
    const prompt = "Problem: Mia has 12 apples.\nSolution:\nMia starts wi";
    expect(run.events[0]).toEqual({ type: "start", promptTokens: model.tokenizer.encode(prompt).ids.length });
  });

  it("an aborted session leaves the batch at the next tick; the others go on", async () => {
    const engine = new Engine({ maxBatch: 8 });
    const [a, b] = fixture.references;
    const soloB = await collect(engine.start(model, greedy(b!.problem, { maxNewTokens: 50, ignoreEos: true })));
    const controller = new AbortController();
    const doomed = engine.start(model, greedy(a!.problem, { maxNewTokens: 400, ignoreEos: true }), controller.signal);
    const other = collect(engine.start(model, greedy(b!.problem, { maxNewTokens: 50, ignoreEos: true })));
    const events: SessionEvent[] = [];
    for await (const event of doomed) {
      events.push(event);
      if (events.length === 5) controller.abort();
    }
    expect(events).toHaveLength(5); // nothing after the abort, no done
    expect(doomed.aborted).toBe(true);
    expect(doomed.generated.length).toBeLessThan(400);
    expect((await other).ids).toEqual(soloB.ids);
    await new Promise((r) => setTimeout(r, 20));
    expect(engine.activeSessions).toBe(0);
  });
});
