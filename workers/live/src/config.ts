// Every limit and setting of the live service in one place, each with its reason, and the environment they are read
// from (LIVE_*; workers/live/README.md lists them, docs/security.md "Live sessions" explains the threat model).

import { isAbsolute, join, resolve } from "node:path";

/** Longest completion one request may ask for: the largest study budget (max_new_tokens) with room to spare. */
export const MAX_NEW_TOKENS = 4096;

/**
 * Request bodies: the problem plus the shared text, which the web app caps at 20,000 characters (LIVE_LIMITS.maxChars
 * in apps/web/src/server/limits.ts): about 120 kB even if every character were JSON-escaped; 1 MiB leaves room.
 */
export const MAX_BODY_BYTES = 1 << 20;

/** Sessions per model in one decode batch (LIVE_MAX_BATCH): past this a bigger batch no longer raises throughput on CPU. */
export const DEFAULT_MAX_BATCH = 32;

/**
 * Sessions that may wait for a place in a full batch (LIVE_MAX_QUEUED); more are refused with 503 and Retry-After.
 * A waiting session starts when a running one of its model ends, so with as many waiting as the batch holds the last
 * one waits about one session's length (a task's senior at the reading pace: up to a minute or two); longer, and the
 * participant is better told to try again than left watching nothing, and a flood cannot grow memory without bound.
 */
export const DEFAULT_MAX_QUEUED = DEFAULT_MAX_BATCH;

/** What a 503 for a full queue tells the client to wait (the participant page backs off 1-8 s on its own as well). */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 5;

/**
 * Models loaded at once (LIVE_MAX_MODELS); the least recently used idle one is unloaded to make room. A study compares
 * a few conditions (typically a TRL and a GRPO senior), and each loaded export holds its weights in memory (the k8s pod's
 * limit is 4 GiB): four covers a study or two of the small models served here; raise it with the memory limit.
 */
export const DEFAULT_MAX_MODELS = 4;

/** The shared secret's least length: 256 bits, as `openssl rand -hex 32` makes (and the web app requires). */
export const MIN_SECRET_BYTES = 32;

/** Listen addresses a service without a secret may bind: this machine only. */
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** The service's settings, read from the environment by configFromEnv. */
export interface LiveConfig {
  host: string;
  port: number;
  drainMs: number;
  /** The secret every request must carry (authorization: Bearer …); null only on a loopback address outside production. */
  secret: string | null;
  /** While LIVE_SECRET is rotated: the old value, still accepted until every web instance sends the new one. */
  previousSecret: string | null;
  /** Exports are loaded only from folders inside this one (LIVE_ONNX_ROOT, else TANDEM_RUNS_DIR/onnx). */
  onnxRoot: string;
  maxBatch: number;
  maxQueued: number;
  maxModels: number;
}

/** A setting that is missing or malformed; the message names the variable and says what it should be. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** A positive integer from `name`, or `fallback` when unset. */
export function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** A secret from `name` (null when unset); too short is an error, which never echoes the value. */
export function secretFromEnv(env: NodeJS.ProcessEnv, name = "LIVE_SECRET"): string | null {
  const secret = env[name];
  if (secret === undefined || secret === "") return null;
  const bytes = Buffer.byteLength(secret, "utf8");
  if (bytes < MIN_SECRET_BYTES) {
    throw new ConfigError(`${name} must be at least ${MIN_SECRET_BYTES} bytes (it has ${bytes}); generate one with: openssl rand -hex 32`);
  }
  return secret;
}

/**
 * Reads and checks the environment. Refuses (ConfigError) to run without a secret in production (NODE_ENV=production)
 * or on any address but loopback: without one anything that reaches the port could run the models.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): LiveConfig {
  const host = env.LIVE_HOST || "127.0.0.1";
  const rawPort = env.LIVE_PORT ?? "8790";
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`LIVE_PORT must be a port number, got ${rawPort}`);
  const drainMs = Number(env.LIVE_DRAIN_MS ?? 10_000);
  if (!Number.isFinite(drainMs) || drainMs < 0) throw new ConfigError(`LIVE_DRAIN_MS must be a number of milliseconds, got ${env.LIVE_DRAIN_MS}`);

  const secret = secretFromEnv(env);
  const previousSecret = secretFromEnv(env, "LIVE_SECRET_PREVIOUS");
  if (previousSecret !== null && secret === null) throw new ConfigError("LIVE_SECRET_PREVIOUS is set without LIVE_SECRET: set the new secret too");
  if (secret === null && env.NODE_ENV === "production") {
    throw new ConfigError(`LIVE_SECRET is not set: in production (NODE_ENV=production) the live service requires it (${MIN_SECRET_BYTES}+ bytes, the same value as the web app's; openssl rand -hex 32)`);
  }
  if (secret === null && !LOOPBACK.has(host)) {
    throw new ConfigError(`LIVE_SECRET is not set: without it the live service listens only on 127.0.0.1, not ${host} (set LIVE_SECRET to the web app's value)`);
  }

  const root = env.LIVE_ONNX_ROOT || (env.TANDEM_RUNS_DIR ? join(env.TANDEM_RUNS_DIR, "onnx") : "");
  if (root === "") {
    throw new ConfigError("LIVE_ONNX_ROOT is not set: the folder holding the ONNX exports (the workers write them to TANDEM_RUNS_DIR/onnx)");
  }
  if (!isAbsolute(root)) throw new ConfigError(`LIVE_ONNX_ROOT must be an absolute path, got ${JSON.stringify(root)}`);

  return {
    host,
    port,
    drainMs,
    secret,
    previousSecret,
    onnxRoot: resolve(root),
    maxBatch: positiveInteger(env, "LIVE_MAX_BATCH", DEFAULT_MAX_BATCH),
    maxQueued: positiveInteger(env, "LIVE_MAX_QUEUED", DEFAULT_MAX_QUEUED),
    maxModels: positiveInteger(env, "LIVE_MAX_MODELS", DEFAULT_MAX_MODELS),
  };
}
