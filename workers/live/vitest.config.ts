import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // builds (or reuses) a small real model and its ONNX export once, with the trainer's Python venv
    globalSetup: ["test/global-setup.ts"],
    // one model per worker process and a small shared CPU: run files one after another
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
