// Loading an ONNX export folder (written by the trainer's `tandem export-onnx`, see
// workers/trainer/src/tandem/onnx_export.py): the manifest, the onnxruntime session and the tokenizer.

import { existsSync, readFileSync, statSync } from "node:fs";
import { realpath } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import * as ort from "onnxruntime-node";
import { DEFAULT_MAX_MODELS } from "./config.js";

export const MANIFEST_FILE = "onnx_manifest.json";
export const EXPORT_FORMAT = "tandem-onnx-kv/1";

/** onnx_manifest.json: the graph's inputs/outputs, cache shape, special tokens and prompt template. */
export interface Manifest {
  format: string;
  opset: number;
  model_file: string;
  inputs: string[]; // input_ids, attention_mask, position_ids, past.<layer>.key, past.<layer>.value, ...
  outputs: string[]; // logits, present.<layer>.key, present.<layer>.value, ...
  num_layers: number;
  num_kv_heads: number;
  head_dim: number;
  vocab_size: number;
  eos_token_id: number | number[];
  pad_token_id: number | null;
  prompt_template: string; // Python str.format template with {problem}
  source?: string;
  sha256?: string;
}

/** The folder has no export at all (HTTP 404). */
export class ExportNotFoundError extends Error {
  constructor(readonly path: string) {
    super(
      `No ONNX export at ${path} (${MANIFEST_FILE} missing): export the checkpoint first ` +
        `(job EXPORT_ONNX, or tandem export-onnx)`,
    );
    this.name = "ExportNotFoundError";
  }
}

/** The folder has a manifest, but it or the files it names are unusable (HTTP 422). */
export class InvalidExportError extends Error {
  constructor(
    readonly path: string,
    readonly field: string,
    problem: string,
  ) {
    super(`Invalid ONNX export at ${path}: ${field}: ${problem}`);
    this.name = "InvalidExportError";
  }
}

export interface LiveModel {
  path: string;
  manifest: Manifest;
  session: ort.InferenceSession;
  tokenizer: Tokenizer;
  eosIds: Set<number>;
  /** Longest prompt + completion the model was built for (config.json max_position_embeddings), if known. */
  contextLength: number | null;
  loadedAt: Date;
  /** pastNames[2 * layer] / [2 * layer + 1] = that layer's key / value cache input; same for presentNames. */
  pastNames: string[];
  presentNames: string[];
  /** Per token id: does its text contain a line break (a reasoning step ends there)? */
  endsLine: Uint8Array;
}

function readJson(path: string, file: string): unknown {
  const full = join(path, file);
  if (!existsSync(full)) throw new InvalidExportError(path, file, "file missing");
  try {
    return JSON.parse(readFileSync(full, "utf8"));
  } catch (error) {
    throw new InvalidExportError(path, file, `not valid JSON (${(error as Error).message})`);
  }
}

function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

/** Checks every manifest field the engine relies on; the error names the first bad field. */
export function validateManifest(path: string, raw: unknown): Manifest {
  const bad = (field: string, problem: string) => new InvalidExportError(path, `${MANIFEST_FILE} ${field}`, problem);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw bad("(root)", "must be a JSON object");
  const m = raw as Record<string, unknown>;
  if (m.format !== EXPORT_FORMAT) throw bad("format", `must be "${EXPORT_FORMAT}", got ${JSON.stringify(m.format)}`);
  for (const field of ["num_layers", "num_kv_heads", "head_dim", "vocab_size"]) {
    if (!isInt(m[field]) || (m[field] as number) < 1) throw bad(field, "must be a positive integer");
  }
  // a plain name: the graph is read from the export folder itself, never from a path the manifest points elsewhere
  if (typeof m.model_file !== "string" || m.model_file === "" || basename(m.model_file) !== m.model_file || m.model_file === "..") {
    throw bad("model_file", "must be a file name in the export folder");
  }
  const layers = m.num_layers as number;
  const cache = Array.from({ length: layers }, (_, i) => [`${i}.key`, `${i}.value`]).flat();
  const expectedInputs = ["input_ids", "attention_mask", "position_ids", ...cache.map((c) => `past.${c}`)];
  const expectedOutputs = ["logits", ...cache.map((c) => `present.${c}`)];
  if (JSON.stringify(m.inputs) !== JSON.stringify(expectedInputs)) {
    throw bad("inputs", `must be ${JSON.stringify(expectedInputs)} for num_layers ${layers}`);
  }
  if (JSON.stringify(m.outputs) !== JSON.stringify(expectedOutputs)) {
    throw bad("outputs", `must be ${JSON.stringify(expectedOutputs)} for num_layers ${layers}`);
  }
  const eos = m.eos_token_id;
  if (!(isInt(eos) || (Array.isArray(eos) && eos.length > 0 && eos.every(isInt)))) {
    throw bad("eos_token_id", "must be an integer or a non-empty list of integers");
  }
  if (!(m.pad_token_id === null || m.pad_token_id === undefined || isInt(m.pad_token_id))) {
    throw bad("pad_token_id", "must be an integer or null");
  }
  if (typeof m.prompt_template !== "string" || !m.prompt_template.includes("{problem}")) {
    throw bad("prompt_template", "must be a string containing {problem}");
  }
  return m as unknown as Manifest;
}

/** `template.format(problem=...)` as Python does it for this template: {problem} filled, {{ and }} unescaped. */
export function formatPrompt(template: string, problem: string): string {
  return template.replace(/\{\{|\}\}|\{problem\}/g, (m) => (m === "{problem}" ? problem : m[0]!));
}

function threadCount(): number {
  // One decode step of a tiny model is far too small to split across threads, and concurrent sessions are
  // already batched into one call, so one intra-op thread is the sensible default; raise it for big models.
  const raw = process.env.LIVE_THREADS;
  const n = raw ? Number(raw) : 1;
  if (!Number.isInteger(n) || n < 1) throw new Error(`LIVE_THREADS must be a positive integer, got ${raw}`);
  return n;
}

async function load(path: string): Promise<LiveModel> {
  if (!existsSync(path) || !statSync(path).isDirectory() || !existsSync(join(path, MANIFEST_FILE))) {
    throw new ExportNotFoundError(path);
  }
  const manifest = validateManifest(path, readJson(path, MANIFEST_FILE));
  const modelFile = join(path, manifest.model_file);
  if (!existsSync(modelFile)) throw new InvalidExportError(path, `${MANIFEST_FILE} model_file`, `${modelFile} missing`);

  const tokenizerJson = readJson(path, "tokenizer.json") as object;
  const tokenizerConfig = existsSync(join(path, "tokenizer_config.json"))
    ? (readJson(path, "tokenizer_config.json") as object)
    : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  } catch (error) {
    throw new InvalidExportError(path, "tokenizer.json", (error as Error).message);
  }

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelFile, {
      executionProviders: ["cpu"],
      intraOpNumThreads: threadCount(),
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
      logSeverityLevel: 3,
    });
  } catch (error) {
    throw new InvalidExportError(path, manifest.model_file, `onnxruntime could not load it (${(error as Error).message})`);
  }
  for (const name of manifest.inputs) {
    if (!session.inputNames.includes(name)) throw new InvalidExportError(path, `${MANIFEST_FILE} inputs`, `graph has no input ${name}`);
  }
  for (const name of manifest.outputs) {
    if (!session.outputNames.includes(name)) throw new InvalidExportError(path, `${MANIFEST_FILE} outputs`, `graph has no output ${name}`);
  }

  const config = existsSync(join(path, "config.json")) ? (readJson(path, "config.json") as Record<string, unknown>) : {};
  const contextLength = isInt(config.max_position_embeddings) ? config.max_position_embeddings : null;
  const eos = manifest.eos_token_id;
  const endsLine = new Uint8Array(manifest.vocab_size);
  for (let id = 0; id < endsLine.length; id++) {
    if (tokenizer.decode([id], { skip_special_tokens: true, clean_up_tokenization_spaces: false }).includes("\n")) endsLine[id] = 1;
  }
  return {
    path,
    manifest,
    session,
    tokenizer,
    eosIds: new Set(Array.isArray(eos) ? eos : [eos]),
    contextLength,
    loadedAt: new Date(),
    pastNames: manifest.inputs.slice(3),
    presentNames: manifest.outputs.slice(1),
    endsLine,
  };
}

/** The request names a folder outside the service's ONNX root (HTTP 403); the message names no path. */
export class ExportOutsideRootError extends Error {
  constructor() {
    super("model: must be an export folder inside the live service's ONNX root (LIVE_ONNX_ROOT); no other path is served");
    this.name = "ExportOutsideRootError";
  }
}

/** Whether `path` lies strictly inside `root` (both absolute and normalised). */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The real path of the export folder `requested` names, which must lie inside `root` both as written and once every
 * symlink is resolved: a `..` segment, or a link that leads out of the root, is ExportOutsideRootError (which echoes
 * no path, so a caller learns nothing about the rest of the disk). A folder inside the root that does not exist is
 * ExportNotFoundError.
 */
export async function resolveExport(root: string, requested: string): Promise<string> {
  if (!isAbsolute(requested) || requested.split(/[\\/]/).includes("..")) throw new ExportOutsideRootError();
  const lexical = resolve(requested);
  if (!isInside(resolve(root), lexical)) throw new ExportOutsideRootError();
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(lexical);
  } catch {
    throw new ExportNotFoundError(lexical); // inside the root as written: naming it tells nothing new
  }
  if (!isInside(realRoot, real)) throw new ExportOutsideRootError();
  return real;
}

/** Every loaded model is in use by open sessions and no more may be loaded (HTTP 503 with Retry-After). */
export class ModelSlotsBusyError extends Error {
  constructor(readonly maxModels: number) {
    super(`the live service already holds ${maxModels} model(s), all in use (LIVE_MAX_MODELS); try again shortly`);
    this.name = "ModelSlotsBusyError";
  }
}

interface Slot {
  pending: Promise<LiveModel>;
  model: LiveModel | null;
  /** sessions holding the model (acquire … release): a model in use is never unloaded */
  users: number;
}

/**
 * The loaded models, at most `maxModels` of them, least recently used first: loading one more unloads the least
 * recently used that no session holds (its onnxruntime session is released). Each absolute path loads once;
 * concurrent callers share the load; failures are not kept.
 */
export class ModelStore {
  /** insertion order = use order: a use moves the slot to the end */
  private readonly slots = new Map<string, Slot>();

  constructor(readonly maxModels: number) {
    if (!Number.isInteger(maxModels) || maxModels < 1) throw new Error(`maxModels must be a positive integer, got ${maxModels}`);
  }

  /** The model at `path` for a session: call release(model) when the session ends. */
  acquire(path: string): Promise<LiveModel> {
    return this.use(path, 1);
  }

  /** The model at `path`, not held (tests, benchmarks): it may be unloaded once maxModels others are used after it. */
  load(path: string): Promise<LiveModel> {
    return this.use(path, 0);
  }

  /** A session that acquired `model` has ended. */
  release(model: LiveModel): void {
    const slot = this.slots.get(model.path);
    if (slot && slot.model === model && slot.users > 0) slot.users -= 1;
  }

  private async use(path: string, hold: 0 | 1): Promise<LiveModel> {
    const key = resolve(path);
    let slot = this.slots.get(key);
    if (slot) {
      this.slots.delete(key); // most recently used from now
      this.slots.set(key, slot);
    } else {
      this.makeRoom();
      const pending = load(key);
      const fresh: Slot = { pending, model: null, users: 0 };
      slot = fresh;
      this.slots.set(key, fresh);
      pending.then(
        (model) => (fresh.model = model),
        () => {
          if (this.slots.get(key) === fresh) this.slots.delete(key);
        },
      );
    }
    slot.users += hold;
    try {
      return await slot.pending;
    } catch (error) {
      slot.users -= hold;
      throw error;
    }
  }

  /** Unloads least recently used idle models until one more fits; ModelSlotsBusyError if every slot is in use. */
  private makeRoom(): void {
    for (const [key, slot] of this.slots) {
      if (this.slots.size < this.maxModels) return;
      if (slot.users > 0 || slot.model === null) continue; // in use, or still loading
      this.slots.delete(key);
      void slot.model.session.release().catch(() => undefined);
    }
    if (this.slots.size >= this.maxModels) throw new ModelSlotsBusyError(this.maxModels);
  }

  /** The models loaded now, least recently used first. */
  loaded(): LiveModel[] {
    return [...this.slots.values()].flatMap((slot) => (slot.model ? [slot.model] : []));
  }

  /** Releases every loaded onnxruntime session (shutdown, tests). */
  async unloadAll(): Promise<void> {
    const models = await Promise.allSettled([...this.slots.values()].map((slot) => slot.pending));
    this.slots.clear();
    await Promise.all(models.flatMap((m) => (m.status === "fulfilled" ? [m.value.session.release()] : [])));
  }
}

/** The store `loadModel` uses, and a server's unless given one (the service's main makes its own with LIVE_MAX_MODELS). */
export const sharedStore = new ModelStore(DEFAULT_MAX_MODELS);

/** Loads an export folder once per absolute path; concurrent callers share the same load. Failures are not cached. */
export function loadModel(path: string): Promise<LiveModel> {
  return sharedStore.load(path);
}

/** The models loaded so far through loadModel. */
export function loadedModels(): LiveModel[] {
  return sharedStore.loaded();
}

/** Releases every model loaded through loadModel (shutdown, tests). */
export function unloadModels(): Promise<void> {
  return sharedStore.unloadAll();
}

/** Token ids of the prompt for a problem and the shared continuation so far. */
export function encodePrompt(model: LiveModel, problem: string, text: string): number[] {
  return model.tokenizer.encode(formatPrompt(model.manifest.prompt_template, problem) + text).ids;
}

/** Text of generated ids, special tokens left out (as the trainer decodes completions). */
export function decode(model: LiveModel, ids: number[]): string {
  if (ids.length === 0) return ""; // the tokenizer library refuses an empty list
  return model.tokenizer.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
}
