// The live service's HTTP API (node:http, no framework): a health check and one streaming endpoint.
// Stateless on purpose: the web app stores every span and, after a restart or a dropped connection,
// simply asks again with the shared text so far.
//
//   GET  /health        {ok, activeSessions, waitingSessions, maxBatch, maxQueued, maxModels, loadedModels}
//                       (+ models: [{path, loadedAt}] for a caller with the secret)
//   POST /v1/generate   JSON request -> text/event-stream: start, token..., done (or error)
//
// Bounded (numbers in config.ts): every request but /health carries the shared secret (401 without it, compared in
// constant time); a request that would wait behind LIVE_MAX_QUEUED others is refused (503, Retry-After); models are
// loaded only from export folders inside LIVE_ONNX_ROOT (403 otherwise), at most LIVE_MAX_MODELS at once (LRU).

import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import { Engine, type GenerateRequest, PromptTooLongError, QueueFullError, type SessionEvent } from "./batcher.js";
import { ConfigError, MAX_BODY_BYTES, MAX_NEW_TOKENS, QUEUE_FULL_RETRY_AFTER_SECONDS, configFromEnv } from "./config.js";
import {
  ExportNotFoundError,
  ExportOutsideRootError,
  InvalidExportError,
  type LiveModel,
  ModelSlotsBusyError,
  ModelStore,
  resolveExport,
  sharedStore,
} from "./model.js";

export { MAX_NEW_TOKENS };

/** A request the client must fix; the message starts with the field's name (HTTP 400). */
export class BadRequestError extends Error {
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = "BadRequestError";
  }
}

export interface ParsedRequest extends GenerateRequest {
  model: string;
  /** a reading pace: token events leave at most this fast (0 = as generated); generation itself is not slowed */
  tokensPerSecond: number;
}

const FIELDS = ["model", "problem", "text", "maxNewTokens", "temperature", "topP", "topK", "seed", "stopAfterLines", "tokensPerSecond"];

/** Validates a /v1/generate body; every error names its field. */
export function parseGenerateRequest(body: unknown): ParsedRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequestError("body", "must be a JSON object");
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).find((key) => !FIELDS.includes(key));
  if (unknown !== undefined) throw new BadRequestError(unknown, `unknown field (expected one of ${FIELDS.join(", ")})`);

  const string = (field: string): string => {
    if (typeof b[field] !== "string") throw new BadRequestError(field, "must be a string");
    return b[field] as string;
  };
  const number = (field: string, fallback?: number): number => {
    const value = b[field] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value)) throw new BadRequestError(field, "must be a number");
    return value;
  };
  const integer = (field: string, fallback?: number): number => {
    const value = number(field, fallback);
    if (!Number.isSafeInteger(value)) throw new BadRequestError(field, "must be an integer");
    return value;
  };

  const model = string("model");
  if (!isAbsolute(model)) throw new BadRequestError("model", "must be the absolute path of an export folder");
  const problem = string("problem");
  const text = string("text");
  const maxNewTokens = integer("maxNewTokens");
  if (maxNewTokens < 1 || maxNewTokens > MAX_NEW_TOKENS) {
    throw new BadRequestError("maxNewTokens", `must be between 1 and ${MAX_NEW_TOKENS}`);
  }
  const temperature = number("temperature");
  if (temperature < 0) throw new BadRequestError("temperature", "must be >= 0");
  const topP = number("topP", 1);
  if (!(topP > 0 && topP <= 1)) throw new BadRequestError("topP", "must be in (0, 1]");
  const topK = integer("topK", 0);
  if (topK < 0) throw new BadRequestError("topK", "must be >= 0 (0 = off)");
  const seed = integer("seed", 0);
  const tokensPerSecond = number("tokensPerSecond", 0);
  if (tokensPerSecond < 0 || tokensPerSecond > 1000) throw new BadRequestError("tokensPerSecond", "must be between 0 and 1000 (0 = no pace)");
  const request: ParsedRequest = { model, problem, text, maxNewTokens, temperature, topP, topK, seed, tokensPerSecond };
  if (b.stopAfterLines !== undefined) {
    const stopAfterLines = integer("stopAfterLines");
    if (stopAfterLines < 1) throw new BadRequestError("stopAfterLines", "must be >= 1");
    request.stopAfterLines = stopAfterLines;
  }
  return request;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * Whether the request carries one of the accepted secrets (authorization: Bearer <secret>). Both sides are hashed
 * first and every accepted one is compared, so the time taken says nothing about the length, the first differing
 * byte, or which one matched.
 */
export function hasSecret(req: IncomingMessage, acceptedDigests: Buffer[]): boolean {
  const header = req.headers.authorization ?? "";
  const given = digest(header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "");
  let matched = false;
  for (const accepted of acceptedDigests) matched = timingSafeEqual(given, accepted) || matched;
  return matched;
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequestError("body", `larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BadRequestError("body", "not valid JSON");
  }
}

function sseEvent(event: SessionEvent): string {
  const { type, ...data } = event;
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

async function generate(engine: Engine, models: ModelStore, onnxRoot: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let request: ParsedRequest;
  try {
    request = parseGenerateRequest(await readJsonBody(req));
  } catch (error) {
    if (error instanceof BadRequestError) return sendJson(res, 400, { error: error.message });
    throw error;
  }
  const busy = { "retry-after": String(QUEUE_FULL_RETRY_AFTER_SECONDS) };
  let model: LiveModel | null = null;
  let session;
  try {
    model = await models.acquire(await resolveExport(onnxRoot, request.model));
    session = engine.start(model, request);
  } catch (error) {
    if (model) models.release(model);
    if (error instanceof ExportOutsideRootError) return sendJson(res, 403, { error: error.message });
    if (error instanceof ExportNotFoundError) return sendJson(res, 404, { error: error.message });
    if (error instanceof InvalidExportError) return sendJson(res, 422, { error: error.message });
    if (error instanceof PromptTooLongError) return sendJson(res, 400, { error: `text: ${error.message}` });
    if (error instanceof QueueFullError || error instanceof ModelSlotsBusyError) return sendJson(res, 503, { error: error.message }, busy);
    throw error;
  }
  const held = model;
  // The client went away before `done`: stop generating for it (its cache is freed at the next tick).
  res.on("close", () => {
    if (!res.writableFinished) session.abort();
  });
  try {
    await stream(session, request, res);
  } finally {
    models.release(held); // the model may be unloaded for another once no session holds it
  }
}

async function stream(session: AsyncIterable<SessionEvent>, request: ParsedRequest, res: ServerResponse): Promise<void> {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no", // let proxies pass tokens through as they come
  });
  res.flushHeaders();
  // the pace holds tokens back here, so a client that stops reading (a take-over) or a restart of this service
  // loses only tokens nobody has seen yet
  const gapMs = request.tokensPerSecond > 0 ? 1000 / request.tokensPerSecond : 0;
  let nextAt = 0;
  for await (const event of session) {
    if (event.type === "token" && gapMs > 0) {
      const wait = nextAt - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      nextAt = Date.now() + gapMs;
    }
    if (res.destroyed) break;
    res.write(sseEvent(event));
  }
  res.end();
}

export interface LiveServer {
  server: Server;
  engine: Engine;
  models: ModelStore;
  /** Stops accepting requests, lets open sessions finish for up to drainMs, ends the rest with an error event. */
  close(drainMs?: number): Promise<void>;
}

export interface LiveServerOptions {
  engine?: Engine;
  /** the loaded models (default: the store loadModel uses) */
  models?: ModelStore;
  /** the secret every request but /health must carry; null: none (main() allows that only on loopback, outside production) */
  secret: string | null;
  /** during a rotation, the old secret, accepted as well */
  previousSecret?: string | null;
  /** exports are served only from folders inside this one */
  onnxRoot: string;
}

export function createLiveServer(options: LiveServerOptions): LiveServer {
  const engine = options.engine ?? new Engine();
  const models = options.models ?? sharedStore;
  const accepted = options.secret === null ? null : [options.secret, ...(options.previousSecret ? [options.previousSecret] : [])].map(digest);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const authorized = accepted === null || hasSecret(req, accepted);
    const handle = async () => {
      if (path === "/health") {
        // open to probes (they carry no secret); the loaded paths only to callers with it
        if (req.method !== "GET") return sendJson(res, 405, { error: "method: use GET" });
        const loaded = models.loaded();
        return sendJson(res, 200, {
          ok: true,
          activeSessions: engine.activeSessions,
          waitingSessions: engine.waitingSessions,
          maxBatch: engine.maxBatch,
          maxQueued: engine.maxQueued,
          maxModels: models.maxModels,
          loadedModels: loaded.length,
          ...(authorized ? { models: loaded.map((m) => ({ path: m.path, loadedAt: m.loadedAt.toISOString() })) } : {}),
        });
      }
      if (!authorized) {
        req.resume(); // the body is not read: drain it so the connection can answer
        return sendJson(res, 401, { error: "authorization: missing or wrong live service secret (LIVE_SECRET)" }, { "www-authenticate": "Bearer" });
      }
      if (path === "/v1/generate") {
        if (req.method !== "POST") return sendJson(res, 405, { error: "method: use POST" });
        return generate(engine, models, options.onnxRoot, req, res);
      }
      return sendJson(res, 404, { error: `no route ${req.method} ${path}` });
    };
    handle().catch((error: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: error.message });
      else {
        res.write(sseEvent({ type: "error", message: error.message }));
        res.end();
      }
    });
  });

  const close = async (drainMs = 10_000) => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const deadline = Date.now() + drainMs;
    while (engine.activeSessions > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    engine.closeAll("the live service is shutting down; send the request again to continue");
    await new Promise((r) => setTimeout(r, 50)); // let the error events reach their sockets
    server.closeAllConnections();
    await closed;
    await models.unloadAll();
  };
  return { server, engine, models, close };
}

async function main(): Promise<void> {
  const config = configFromEnv();
  const { host, port, drainMs } = config;
  const live = createLiveServer({
    engine: new Engine({ maxBatch: config.maxBatch, maxQueued: config.maxQueued }),
    models: new ModelStore(config.maxModels),
    secret: config.secret,
    previousSecret: config.previousSecret,
    onnxRoot: config.onnxRoot,
  });
  await new Promise<void>((resolve) => live.server.listen(port, host, resolve));
  const address = live.server.address();
  const shown = typeof address === "object" && address ? `${address.address}:${address.port}` : `${host}:${port}`;
  console.log(
    `live: listening on http://${shown} (max batch ${config.maxBatch}, max queued ${config.maxQueued}, max models ${config.maxModels}, ` +
      `exports under ${config.onnxRoot}, ${config.secret ? "secret required" : "no secret: loopback only"})`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`live: ${signal}, draining ${live.engine.activeSessions} session(s) for up to ${drainMs} ms`);
    live.close(drainMs).then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`live: shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: Error) => {
    console.error(error instanceof ConfigError ? `live: refusing to start: ${error.message}` : `live: ${error.message}`);
    process.exit(1);
  });
}
