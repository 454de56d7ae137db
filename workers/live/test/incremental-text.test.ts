import { describe, expect, it, inject } from "vitest";
import { IncrementalText } from "../src/incremental-text.js";
import { decode, loadModel } from "../src/model.js";
import { mulberry32 } from "../src/sampling.js";

const model = await loadModel(inject("fixture").exportDir);
const decodeIds = (ids: number[]) => decode(model, ids);

describe("incremental text", () => {
  it("never splits a multi-byte character across deltas", () => {
    const ids = model.tokenizer.encode("a😀b é ✓\n").ids;
    const emoji = model.tokenizer.encode("😀").ids;
    expect(emoji.length).toBeGreaterThan(1); // byte-level: the emoji's bytes span several tokens
    expect(decodeIds(emoji.slice(0, 1))).toContain("\uFFFD");
    const text = new IncrementalText(decodeIds);
    const deltas = ids.map((id) => text.push(id));
    expect(deltas.join("")).toBe("a😀b é ✓\n");
    expect(deltas.some((d) => d.includes("\uFFFD"))).toBe(false);
    expect(deltas.filter((d) => d === "").length).toBeGreaterThanOrEqual(emoji.length - 1);
  });

  it("the final token flushes a character left incomplete", () => {
    const emoji = model.tokenizer.encode("😀").ids;
    const text = new IncrementalText(decodeIds);
    expect(text.push(emoji[0]!)).toBe("");
    expect(text.push(emoji[1]!, true)).toBe(decodeIds(emoji.slice(0, 2)));
  });

  it("deltas always add up to decoding all ids (random token streams, special tokens included)", () => {
    const random = mulberry32(42);
    for (let trial = 0; trial < 200; trial++) {
      const ids = Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * model.manifest.vocab_size));
      const text = new IncrementalText(decodeIds);
      const streamed = ids.map((id, i) => text.push(id, i === ids.length - 1)).join("");
      expect(streamed).toBe(decodeIds(ids));
    }
  });
});
