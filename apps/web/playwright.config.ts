// End-to-end tests: a real Chromium (Debian's /usr/bin/chromium; never Playwright's own browser download) drives
// the console against a production build of the app, a fresh database and a real `tandem worker`.
// e2e/global-setup.ts prepares all of it and returns the teardown.
import { defineConfig } from '@playwright/test'

export default defineConfig({
  testDir: './e2e',
  // one CPU-trained run end to end: generous on a shared 2-core machine
  timeout: 360_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  outputDir: 'test-results',
  globalSetup: './e2e/global-setup.ts',
  use: {
    browserName: 'chromium',
    headless: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
})
