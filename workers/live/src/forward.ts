// One batched forward of the export's single-step graph, and where each session's KV cache lives.
//
// The graph takes input_ids/position_ids [batch, seq], attention_mask [batch, past + seq] and the cache
// past.* [batch, kv_heads, past, head_dim]; it returns logits and present.* [batch, kv_heads, past + seq,
// head_dim]. Rows are LEFT-padded: a row's real tokens are always its last columns, padding has mask 0
// and zeros in the cache, and each row's position ids are its true positions, so a row computes exactly
// what it would alone.

import * as ort from "onnxruntime-node";
import type { LiveModel } from "./model.js";

/**
 * A session's KV cache: row `row` of batched tensors (one per past.* input, [rows, kv_heads, total, head_dim])
 * whose last `length` columns are its own. Caches stay inside the `present` tensors a forward returned, so a
 * decode batch whose sessions are unchanged since the last step feeds those tensors straight back (no copy);
 * any change (a session joined, finished or left) repacks the caches into fresh tensors, which also drops
 * the departed sessions' memory.
 */
export interface KvCache {
  tensors: Float32Array[];
  rows: number;
  total: number;
  row: number;
  length: number;
}

/** One row of a batched forward: its cache (null when empty) and the new tokens to feed. */
export interface StepRow {
  cache: KvCache | null;
  tokens: number[];
}

export interface StepResult {
  lastLogits: Float32Array; // logits after the row's last token [vocab] (a view into the output)
  cache: KvCache; // the row's cache extended by its tokens
}

/** The caches as [rows, kv_heads, total, head_dim] tensors: the previous step's output when unchanged, else repacked. */
function packCaches(model: LiveModel, rows: StepRow[]): { tensors: Float32Array[]; total: number } {
  const { num_kv_heads: heads, head_dim: headDim } = model.manifest;
  const first = rows[0]!.cache;
  const unchanged =
    first !== null &&
    first.rows === rows.length &&
    rows.every((r, b) => r.cache !== null && r.cache.tensors === first.tensors && r.cache.row === b);
  if (unchanged) return { tensors: first.tensors, total: first.total };

  const total = Math.max(...rows.map((r) => r.cache?.length ?? 0));
  const tensors = model.pastNames.map((_, c) => {
    const data = new Float32Array(rows.length * heads * total * headDim); // zeros on the padding
    rows.forEach((row, b) => {
      const cache = row.cache;
      if (!cache || cache.length === 0) return;
      const span = cache.length * headDim;
      for (let h = 0; h < heads; h++) {
        const source = ((cache.row * heads + h) * cache.total + cache.total - cache.length) * headDim;
        data.set(cache.tensors[c]!.subarray(source, source + span), ((b * heads + h) * total + total - cache.length) * headDim);
      }
    });
    return data;
  });
  return { tensors, total };
}

/**
 * Runs the graph once for all rows. Either every row feeds the same number of tokens (decode: one each, caches
 * of different lengths) or every cache is empty (prefill: prompts of different lengths); in both cases a row's
 * real columns are its last cache-length + tokens columns.
 */
export async function batchedStep(model: LiveModel, rows: StepRow[]): Promise<StepResult[]> {
  const { num_kv_heads: heads, head_dim: headDim, vocab_size: vocab } = model.manifest;
  const batch = rows.length;
  const seq = Math.max(...rows.map((r) => r.tokens.length));
  if (!rows.every((r) => r.tokens.length === seq) && rows.some((r) => (r.cache?.length ?? 0) > 0)) {
    throw new Error("batchedStep: rows must feed equal token counts unless every cache is empty");
  }
  const past = packCaches(model, rows);
  const total = past.total + seq;
  const pad = BigInt(model.manifest.pad_token_id ?? [...model.eosIds][0]!);
  const inputIds = new BigInt64Array(batch * seq).fill(pad);
  const positionIds = new BigInt64Array(batch * seq);
  const attentionMask = new BigInt64Array(batch * total);
  const lengths = rows.map((r) => r.cache?.length ?? 0);
  rows.forEach((row, b) => {
    const offset = seq - row.tokens.length;
    row.tokens.forEach((token, j) => {
      inputIds[b * seq + offset + j] = BigInt(token);
      positionIds[b * seq + offset + j] = BigInt(lengths[b]! + j); // the row's true position
    });
    attentionMask.fill(1n, (b + 1) * total - lengths[b]! - row.tokens.length, (b + 1) * total);
  });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor("int64", inputIds, [batch, seq]),
    attention_mask: new ort.Tensor("int64", attentionMask, [batch, total]),
    position_ids: new ort.Tensor("int64", positionIds, [batch, seq]),
  };
  model.pastNames.forEach((name, c) => {
    feeds[name] = new ort.Tensor("float32", past.tensors[c]!, [batch, heads, past.total, headDim]);
  });

  const out = await model.session.run(feeds);
  const logits = out.logits!.data as Float32Array;
  const presents = model.presentNames.map((name) => out[name]!.data as Float32Array);
  return rows.map((row, b) => ({
    lastLogits: logits.subarray((b * seq + seq - 1) * vocab, (b * seq + seq) * vocab),
    cache: { tensors: presents, rows: batch, total, row: b, length: lengths[b]! + row.tokens.length },
  }));
}
