// What the global setup hands to the tests (see global-setup.ts): `inject("fixture")` in a test.

export interface Reference {
  problem: string;
  promptIds: number[]; // the trainer's tokenization of format_prompt(problem)
  greedyIds: number[]; // PyTorch greedy continuation (HF generate, do_sample=False), ends with EOS if reached
  greedyText: string;
}

export interface Fixture {
  exportDir: string; // the ONNX export (tandem export-onnx)
  checkpointDir: string; // the Hugging Face checkpoint it came from
  references: Reference[];
}

declare module "vitest" {
  export interface ProvidedContext {
    fixture: Fixture;
  }
}

/** Problems of different lengths (prompt token counts differ), in the style of the training data. */
export const FIXTURE_PROBLEMS = [
  "Mia has 12 apples. She buys 5 more apples. How many apples does Mia have now?",
  "Leo has 30 pens. He gives away 7 pens. Then he buys 3 boxes with 4 pens each. How many pens does Leo have now?",
  "Ava has 8 books. How many books does Ava have now?",
  "Sam has 21 coins. He loses 6 coins. He finds 2 coins. He buys 2 bags with 5 coins each. How many coins does Sam have now?",
];
