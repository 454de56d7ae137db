// Choosing the next token from one row of logits, exactly as the trainer does
// (workers/trainer/src/tandem/rollout.py: `_filter_logits` + `sample`), so a live session samples
// from the same distribution the model was trained and evaluated with.

export interface SamplingSettings {
  temperature: number; // 0 = greedy (argmax)
  topP: number; // 1 = off
  topK: number; // 0 = off
}

/** A uniform [0, 1) generator; one per session so concurrent sessions never share a stream. */
export type Random = () => number;

/** mulberry32: a tiny, fast 32-bit seedable generator (reproducible per request seed). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Index of the largest logit (the first one on ties, like torch.argmax on CPU). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const p = logits[i] === -Infinity ? 0 : Math.exp(logits[i]! - max);
    probs[i] = p;
    sum += p;
  }
  for (let i = 0; i < probs.length; i++) probs[i]! /= sum;
  return probs;
}

/**
 * The logits the sampler draws from: divided by the temperature, then top-k and top-p filtered (removed
 * tokens become -Infinity). Mirrors `_filter_logits`; call only with temperature > 0.
 */
export function filterLogits(logits: ArrayLike<number>, settings: SamplingSettings): Float64Array {
  const scaled = new Float64Array(logits.length);
  for (let i = 0; i < scaled.length; i++) scaled[i] = logits[i]! / settings.temperature;
  if (settings.topK > 0 && settings.topK < scaled.length) {
    // keep every token at least as large as the k-th largest (ties at the k-th are kept, as in torch)
    const kth = Float64Array.from(scaled).sort()[scaled.length - settings.topK]!;
    for (let i = 0; i < scaled.length; i++) if (scaled[i]! < kth) scaled[i] = -Infinity;
  }
  if (settings.topP < 1) {
    // Nucleus: walk tokens from most to least likely; drop a token once the probability mass before it
    // already reaches top_p, so the token that crosses top_p is kept. Ties at the cut keep the lower ids
    // (torch's order among equal values is unspecified).
    const probs = softmax(scaled);
    const sorted = Float64Array.from(probs).sort().reverse();
    let keep = 0;
    let before = 0;
    while (keep < sorted.length && before < settings.topP) before += sorted[keep++]!;
    const cut = sorted[keep - 1]!; // the smallest kept probability
    let tiesKept = 0;
    for (let k = 0; k < keep; k++) if (sorted[k] === cut) tiesKept++;
    for (let i = 0; i < scaled.length; i++) {
      if (probs[i]! < cut) scaled[i] = -Infinity;
      else if (probs[i] === cut && tiesKept-- <= 0) scaled[i] = -Infinity;
    }
  }
  return scaled;
}

/** The probabilities a sampled token is drawn from (after temperature, top-k, top-p). */
export function samplingProbabilities(logits: ArrayLike<number>, settings: SamplingSettings): Float64Array {
  return softmax(filterLogits(logits, settings));
}

/** Draws an index from a probability vector with one uniform number. */
export function drawFrom(probs: ArrayLike<number>, random: Random): number {
  const u = random();
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) continue;
    cumulative += probs[i]!;
    last = i;
    if (u < cumulative) return i;
  }
  return last; // rounding left u just above the total mass: the last token with mass
}

/** The next token: argmax at temperature 0, else a draw from the filtered softmax. */
export function sampleToken(logits: ArrayLike<number>, settings: SamplingSettings, random: Random): number {
  if (settings.temperature === 0) return argmax(logits);
  return drawFrom(samplingProbabilities(logits, settings), random);
}
