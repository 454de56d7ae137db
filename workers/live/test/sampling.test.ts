import { describe, expect, it } from "vitest";
import { argmax, filterLogits, mulberry32, sampleToken, samplingProbabilities } from "../src/sampling.js";

const logitsOf = (probs: number[]) => probs.map(Math.log);
const settings = (s: Partial<{ temperature: number; topP: number; topK: number }>) => ({ temperature: 1, topP: 1, topK: 0, ...s });

describe("sampling (mirrors rollout.py _filter_logits + sample)", () => {
  it("temperature 0 is greedy argmax, first index on ties, and draws no random numbers", () => {
    let draws = 0;
    const random = () => (draws++, 0.5);
    expect(sampleToken([0.1, 2.5, -1, 2.5], settings({ temperature: 0 }), random)).toBe(1);
    expect(argmax(new Float32Array([-3, -2, -2.5]))).toBe(1);
    expect(draws).toBe(0);
  });

  it("top_p keeps the smallest most-likely set whose mass reaches top_p, including the crossing token", () => {
    // sorted probs .5 .3 .2: mass before each = 0, .5, .8; top_p .6 drops only the third
    const probs = samplingProbabilities(logitsOf([0.2, 0.5, 0.3]), settings({ topP: 0.6 }));
    expect(probs[0]).toBe(0);
    expect(probs[1]).toBeCloseTo(0.5 / 0.8, 12);
    expect(probs[2]).toBeCloseTo(0.3 / 0.8, 12);
    // top_p .5: the first token alone reaches it
    expect([...samplingProbabilities(logitsOf([0.2, 0.5, 0.3]), settings({ topP: 0.5 }))]).toEqual([0, 1, 0]);
    // top_p 1 keeps everything
    expect([...filterLogits([1, 2, 3], settings({}))].every(Number.isFinite)).toBe(true);
  });

  it("top_k keeps the k largest logits (after temperature)", () => {
    const filtered = filterLogits([1, 4, 3, 2], settings({ topK: 2, temperature: 2 }));
    expect([...filtered]).toEqual([-Infinity, 2, 1.5, -Infinity]);
    const probs = samplingProbabilities([1, 4, 3, 2], settings({ topK: 1 }));
    expect([...probs]).toEqual([0, 1, 0, 0]);
  });

  it("top_k then top_p combine as in the trainer", () => {
    // top_k 3 leaves .5 .3 .15 (renormalised .526 .316 .158); top_p .8 keeps the first two
    const probs = samplingProbabilities(logitsOf([0.05, 0.15, 0.3, 0.5]), settings({ topK: 3, topP: 0.8 }));
    expect(probs[0]).toBe(0);
    expect(probs[1]).toBe(0);
    expect(probs[2]).toBeCloseTo(0.3 / 0.8, 12);
    expect(probs[3]).toBeCloseTo(0.5 / 0.8, 12);
  });

  it("a seed gives the same token stream; another seed a different one", () => {
    const logits = logitsOf([0.1, 0.2, 0.3, 0.4]);
    const stream = (seed: number) => {
      const random = mulberry32(seed);
      return Array.from({ length: 50 }, () => sampleToken(logits, settings({}), random));
    };
    expect(stream(7)).toEqual(stream(7));
    expect(stream(7)).not.toEqual(stream(8));
  });

  it("empirical frequencies match the probabilities", () => {
    const probs = [0.1, 0.2, 0.3, 0.4];
    const random = mulberry32(123);
    const counts = [0, 0, 0, 0];
    const n = 40_000;
    for (let i = 0; i < n; i++) counts[sampleToken(logitsOf(probs), settings({}), random)]!++;
    counts.forEach((c, i) => expect(Math.abs(c / n - probs[i]!)).toBeLessThan(0.01));
    // temperature sharpens: at T = 0.5 the probabilities are p^2 / sum(p^2)
    const sharp = samplingProbabilities(logitsOf(probs), settings({ temperature: 0.5 }));
    const z = probs.reduce((a, p) => a + p * p, 0);
    probs.forEach((p, i) => expect(sharp[i]).toBeCloseTo((p * p) / z, 12));
  });
});
