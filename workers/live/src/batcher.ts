// The engine: many concurrent live sessions share one loaded model, and every scheduler tick runs one
// batched forward per model for all of its running sessions (continuous batching).
//
// Each session owns a KV cache. A decode step left-pads every cache to the longest one (attention_mask 0 on
// the padding, each row's position id = its true position) and runs the export's single-step graph once;
// the padding is dropped again whenever the batch changes (see forward.ts). New sessions are prefilled
// together (their prompts left-padded, empty cache) and join the decode batch on the next tick.

import { DEFAULT_MAX_BATCH, DEFAULT_MAX_QUEUED, positiveInteger } from "./config.js";
import { type KvCache, type StepResult, batchedStep } from "./forward.js";
import { IncrementalText } from "./incremental-text.js";
import { type LiveModel, decode, encodePrompt } from "./model.js";
import { type Random, type SamplingSettings, mulberry32, sampleToken } from "./sampling.js";

export interface GenerateRequest extends SamplingSettings {
  problem: string;
  /** The shared continuation so far (may be empty, may be partly human-written); generation continues it. */
  text: string;
  maxNewTokens: number;
  seed: number;
  /** Stop right after the n-th generated token whose text contains a line break (one reasoning step = one line). */
  stopAfterLines?: number;
  /** Benchmarks and tests only (not accepted over HTTP): end-of-text does not end the session. */
  ignoreEos?: boolean;
}

export type FinishReason = "eos" | "length" | "lines";

export type SessionEvent =
  | { type: "start"; promptTokens: number }
  | { type: "token"; text: string; id: number; n: number }
  | { type: "done"; reason: FinishReason; tokens: number; ttftMs: number; totalMs: number }
  | { type: "error"; message: string };

/** The prompt already fills the model's context (an HTTP 400 on `text`/`problem`). */
export class PromptTooLongError extends Error {
  constructor(
    readonly promptTokens: number,
    readonly contextLength: number,
  ) {
    super(`the prompt is ${promptTokens} tokens; the model's context is ${contextLength} tokens`);
    this.name = "PromptTooLongError";
  }
}

/** The engine's queue is full (HTTP 503 with Retry-After): this session would wait behind too many others. */
export class QueueFullError extends Error {
  constructor(readonly waiting: number) {
    super(`the live service is busy (${waiting} session(s) already waiting for a place in a full batch); try again shortly`);
    this.name = "QueueFullError";
  }
}

/** One live generation: its cache, its sampler, its incremental text and its event queue. */
export class LiveSession {
  state: "queued" | "running" | "finished" = "queued";
  aborted = false;
  readonly promptIds: number[];
  private readonly text: IncrementalText;
  cache: KvCache | null = null;
  readonly random: Random;
  private linesSeen = 0;
  private firstTokenAt = 0;
  private readonly queue: SessionEvent[] = [];
  private wake: (() => void) | null = null;

  constructor(
    readonly model: LiveModel,
    readonly request: GenerateRequest,
    /** The effective token budget: maxNewTokens, clipped so prompt + completion fit the model's context. */
    readonly limit: number,
    promptIds: number[],
    private readonly onAbort: () => void,
    /** When the request arrived (performance.now()): TTFT includes tokenizing the prompt and any queueing. */
    private readonly startedAt = performance.now(),
  ) {
    this.promptIds = promptIds;
    this.random = mulberry32(request.seed);
    this.text = new IncrementalText((ids) => decode(model, ids));
    this.push({ type: "start", promptTokens: promptIds.length });
  }

  /** The token ids generated so far. */
  get generated(): readonly number[] {
    return this.text.ids;
  }

  get promptTokens(): number {
    return this.promptIds.length;
  }

  /** The last sampled token: the next decode step's input. */
  get lastToken(): number {
    return this.generated[this.generated.length - 1]!;
  }

  /** Stop this session; it leaves the batch at the next tick, which frees its cache. */
  abort(): void {
    if (this.state === "finished" || this.aborted) return;
    this.aborted = true;
    this.cache = null;
    this.wake?.();
    this.onAbort();
  }

  /** Takes the sampled token: streams its text and decides whether the session ends here. */
  accept(id: number): void {
    const n = this.generated.length + 1;
    if (n === 1) this.firstTokenAt = performance.now();
    let reason: FinishReason | null = null;
    if (this.model.eosIds.has(id) && !this.request.ignoreEos) reason = "eos";
    else if (this.model.endsLine[id] && this.request.stopAfterLines && ++this.linesSeen >= this.request.stopAfterLines) {
      reason = "lines";
    } else if (n >= this.limit) reason = "length";
    // the last token flushes any held-back bytes, so the deltas always add up to the decoded completion
    this.push({ type: "token", text: this.text.push(id, reason !== null), id, n });
    if (reason) this.finish(reason);
  }

  private finish(reason: FinishReason): void {
    const now = performance.now();
    this.push({
      type: "done",
      reason,
      tokens: this.generated.length,
      ttftMs: round(this.firstTokenAt - this.startedAt),
      totalMs: round(now - this.startedAt),
    });
    this.state = "finished";
    this.cache = null;
  }

  fail(message: string): void {
    if (this.state === "finished") return;
    this.push({ type: "error", message });
    this.state = "finished";
    this.cache = null;
  }

  private push(event: SessionEvent): void {
    if (this.aborted) return;
    this.queue.push(event);
    this.wake?.();
  }

  /** The session's events in order; ends after `done` or `error`. Leaving the loop early aborts the session. */
  async *events(): AsyncGenerator<SessionEvent> {
    try {
      for (;;) {
        const event = this.queue.shift();
        if (event) {
          yield event;
          if (event.type === "done" || event.type === "error") return;
        } else if (this.aborted) {
          return;
        } else {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
        }
      }
    } finally {
      this.abort();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<SessionEvent> {
    return this.events();
  }
}

function isOpen(session: LiveSession): boolean {
  return !session.aborted && session.state !== "finished";
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export interface EngineOptions {
  /** Most sessions per model in one decode batch; more wait queued (env LIVE_MAX_BATCH, config.ts DEFAULT_MAX_BATCH). */
  maxBatch?: number;
  /** Most sessions waiting for a place in a full batch; more are refused (env LIVE_MAX_QUEUED, config.ts DEFAULT_MAX_QUEUED). */
  maxQueued?: number;
}

export function maxBatchFromEnv(): number {
  return positiveInteger(process.env, "LIVE_MAX_BATCH", DEFAULT_MAX_BATCH);
}

export function maxQueuedFromEnv(): number {
  return positiveInteger(process.env, "LIVE_MAX_QUEUED", DEFAULT_MAX_QUEUED);
}

export class Engine {
  readonly maxBatch: number;
  readonly maxQueued: number;
  private readonly sessions = new Set<LiveSession>();
  private looping = false;

  constructor(options: EngineOptions = {}) {
    this.maxBatch = options.maxBatch ?? maxBatchFromEnv();
    this.maxQueued = options.maxQueued ?? maxQueuedFromEnv();
  }

  /** Sessions not yet finished (queued or running). */
  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Open sessions of `model`. */
  sessionsOf(model: LiveModel): number {
    let n = 0;
    for (const session of this.sessions) if (session.model === model && isOpen(session)) n++;
    return n;
  }

  /** Sessions beyond their model's batch: they wait for a running one to end. */
  get waitingSessions(): number {
    const perModel = new Map<LiveModel, number>();
    for (const session of this.sessions) if (isOpen(session)) perModel.set(session.model, (perModel.get(session.model) ?? 0) + 1);
    let waiting = 0;
    for (const n of perModel.values()) waiting += Math.max(0, n - this.maxBatch);
    return waiting;
  }

  /**
   * Opens a session: tokenizes the prompt (the model's template filled with the problem, then the shared
   * text) and queues it. Its events start with `start`; aborting (or the signal) ends it at the next tick.
   * Throws QueueFullError when the session would have to wait and maxQueued sessions already do.
   */
  start(model: LiveModel, request: GenerateRequest, signal?: AbortSignal): LiveSession {
    const startedAt = performance.now();
    if (this.sessionsOf(model) >= this.maxBatch) {
      const waiting = this.waitingSessions;
      if (waiting >= this.maxQueued) throw new QueueFullError(waiting);
    }
    const promptIds = encodePrompt(model, request.problem, request.text);
    let limit = request.maxNewTokens;
    if (model.contextLength !== null) {
      if (promptIds.length >= model.contextLength) throw new PromptTooLongError(promptIds.length, model.contextLength);
      limit = Math.min(limit, model.contextLength - promptIds.length);
    }
    const session = new LiveSession(model, request, limit, promptIds, () => this.kick(), startedAt);
    this.sessions.add(session);
    if (signal) {
      if (signal.aborted) session.abort();
      else signal.addEventListener("abort", () => session.abort(), { once: true });
    }
    this.kick();
    return session;
  }

  /** Ends every open session with an error event (shutdown). */
  closeAll(message: string): void {
    for (const session of this.sessions) session.fail(message);
    this.sweep();
  }

  private kick(): void {
    if (this.looping) return;
    this.looping = true;
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (this.sweep() > 0) {
        await this.tick();
        // yield to the event loop between ticks: new requests, disconnects and socket writes get in
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.looping = false;
    }
  }

  /** Drops finished and aborted sessions (their caches go with them); returns how many remain. */
  private sweep(): number {
    for (const session of this.sessions) {
      if (!isOpen(session)) this.sessions.delete(session);
    }
    return this.sessions.size;
  }

  /** One scheduler tick: per model, prefill the newly admitted sessions, then one decode step for the running ones. */
  protected async tick(): Promise<void> {
    const byModel = new Map<LiveModel, LiveSession[]>();
    for (const session of this.sessions) {
      const group = byModel.get(session.model) ?? [];
      group.push(session);
      byModel.set(session.model, group);
    }
    for (const [model, group] of byModel) {
      const running = group.filter((s) => s.state === "running");
      const admitted = group.filter((s) => s.state === "queued").slice(0, Math.max(0, this.maxBatch - running.length));
      const batch = [...admitted, ...running];
      try {
        if (admitted.length > 0) await this.prefill(model, admitted);
        if (running.length > 0) await this.decode(model, running);
      } catch (error) {
        const message = `generation failed: ${(error as Error).message}`;
        for (const session of batch) session.fail(message);
      }
    }
    this.sweep();
  }

  private async prefill(model: LiveModel, sessions: LiveSession[]): Promise<void> {
    sessions = sessions.filter(isOpen); // a client may have left while an earlier forward ran
    if (sessions.length === 0) return;
    const results = await batchedStep(
      model,
      sessions.map((s) => ({ cache: null, tokens: s.promptIds })),
    );
    sessions.forEach((session, i) => this.advance(session, results[i]!));
  }

  private async decode(model: LiveModel, sessions: LiveSession[]): Promise<void> {
    sessions = sessions.filter(isOpen);
    if (sessions.length === 0) return;
    const results = await batchedStep(
      model,
      sessions.map((s) => ({ cache: s.cache, tokens: [s.lastToken] })),
    );
    sessions.forEach((session, i) => this.advance(session, results[i]!));
  }

  /** Stores a forward's result in the session and samples its next token. */
  private advance(session: LiveSession, result: StepResult): void {
    if (!isOpen(session)) return; // aborted during the forward: drop its result
    session.cache = result.cache;
    session.state = "running";
    session.accept(sampleToken(result.lastLogits, session.request, session.random));
  }
}
