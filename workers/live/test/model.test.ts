import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, inject } from "vitest";
import { ExportNotFoundError, InvalidExportError, formatPrompt, loadModel, loadedModels, encodePrompt } from "../src/model.js";

const fixture = inject("fixture");
const scratch = mkdtempSync(join(tmpdir(), "live-model-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function brokenCopy(name: string, edit: (manifest: Record<string, unknown>) => void): string {
  const dir = join(scratch, name);
  cpSync(fixture.exportDir, dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, "onnx_manifest.json"), "utf8"));
  edit(manifest);
  writeFileSync(join(dir, "onnx_manifest.json"), JSON.stringify(manifest));
  return dir;
}

describe("loading an export", () => {
  it("loads the export, caches it by path, and tokenizes prompts like the trainer", async () => {
    const model = await loadModel(fixture.exportDir);
    expect(await loadModel(`${fixture.exportDir}/`)).toBe(model);
    expect(loadedModels().map((m) => m.path)).toContain(fixture.exportDir);
    expect(model.manifest.format).toBe("tandem-onnx-kv/1");
    for (const reference of fixture.references) {
      expect(encodePrompt(model, reference.problem, "")).toEqual(reference.promptIds);
    }
    // the shared text continues the prompt
    const withText = encodePrompt(model, "Ava has 8 books.", "Ava starts with 8 books.\n");
    expect(model.tokenizer.decode(withText)).toBe("Problem: Ava has 8 books.\nSolution:\nAva starts with 8 books.\n");
  });

  it("a folder without an export is a typed not-found error that says how to export", async () => {
    const empty = mkdtempSync(join(scratch, "empty-"));
    const error = await loadModel(empty).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportNotFoundError);
    expect((error as Error).message).toBe(
      `No ONNX export at ${empty} (onnx_manifest.json missing): export the checkpoint first (job EXPORT_ONNX, or tandem export-onnx)`,
    );
    await expect(loadModel(join(scratch, "does-not-exist"))).rejects.toBeInstanceOf(ExportNotFoundError);
  });

  it("an invalid manifest names the field", async () => {
    const wrongFormat = brokenCopy("wrong-format", (m) => (m.format = "tandem-onnx-kv/0"));
    await expect(loadModel(wrongFormat)).rejects.toThrow(InvalidExportError);
    await expect(loadModel(wrongFormat)).rejects.toThrow(/onnx_manifest\.json format: must be "tandem-onnx-kv\/1"/);
    const noTemplate = brokenCopy("no-template", (m) => delete m.prompt_template);
    await expect(loadModel(noTemplate)).rejects.toThrow(/prompt_template/);
    const wrongLayers = brokenCopy("wrong-layers", (m) => (m.num_layers = 3));
    await expect(loadModel(wrongLayers)).rejects.toThrow(/onnx_manifest\.json inputs/);
    const noModel = brokenCopy("no-model", (m) => (m.model_file = "missing.onnx"));
    await expect(loadModel(noModel)).rejects.toThrow(/model_file: .*missing\.onnx missing/);
    // the graph is read from the export folder only (item 4: nothing outside the ONNX root is loaded)
    const elsewhere = brokenCopy("model-elsewhere", (m) => (m.model_file = `../wrong-format/model.onnx`));
    await expect(loadModel(elsewhere)).rejects.toThrow(/onnx_manifest\.json model_file: must be a file name in the export folder/);
  });

  it("fills the prompt template like Python's str.format", () => {
    expect(formatPrompt("Problem: {problem}\nSolution:\n", "a {b} c")).toBe("Problem: a {b} c\nSolution:\n");
    expect(formatPrompt("{{x}} {problem}", "p")).toBe("{x} p");
  });
});
