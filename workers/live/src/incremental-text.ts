// Streaming text from a growing list of token ids. Byte-level BPE tokens can split a multi-byte character
// (an emoji is often 2-4 tokens); decoding such a prefix ends in U+FFFD. So: decode, emit the part not yet
// emitted, and hold back while the text ends in U+FFFD, until the character completes.
//
// Decoding every id on every token costs O(n) per token (O(n^2) per completion, ~1 ms per token at 4096
// tokens), so, as Hugging Face's text-generation-inference does, only the ids since the last clean
// boundary are decoded, together with the few before it for context: `ids[prefix:]` against
// `ids[prefix:read]`. The emitted text is the same as decoding everything (the tests check it).

const REPLACEMENT_CHARACTER = "\uFFFD";

export class IncrementalText {
  readonly ids: number[] = [];
  private prefixOffset = 0; // start of the decoding window (context for the tokens after readOffset)
  private readOffset = 0; // everything before this has been emitted

  constructor(private readonly decode: (ids: number[]) => string) {}

  /** Adds a token; returns the new text ("" while holding back). `final` flushes whatever is held back. */
  push(id: number, final = false): string {
    this.ids.push(id);
    const emitted = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const window = this.decode(this.ids.slice(this.prefixOffset));
    if (!final && (window.length <= emitted.length || window.endsWith(REPLACEMENT_CHARACTER))) return "";
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return window.slice(emitted.length);
  }
}
