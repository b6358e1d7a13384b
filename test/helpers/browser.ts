/**
 * A real headless Chromium for test files, driven by playwright-core: the distribution's browser (installed by
 * scripts/tools/chromium.ts from jest's global setup), never one downloaded by Playwright, with the flags a closed
 * network needs, and a fresh profile in a temp folder that close() removes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { cachePaths, toolCacheDir } from '../../scripts/tools/cache';
import { ensureChromium } from '../../scripts/tools/chromium';

/** Where tests save screenshots and other files meant for people (`.cache/` is gitignored). */
export const ARTIFACTS_DIR = join(__dirname, '..', '..', '.cache', 'artifacts');

/**
 * Without the background-networking flags Chromium keeps calling Google's services, which a closed network refuses;
 * --no-sandbox because the test machines run as root.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Closes the browser and removes its profile; safe to call twice. */
  close(): Promise<void>;
}

/** The Chromium executable: what global setup found or installed, else found or installed now. */
export async function chromiumExecutable(): Promise<string> {
  if (process.env.S3BATCH_CHROMIUM) return process.env.S3BATCH_CHROMIUM;
  if (process.env.S3BATCH_CHROMIUM_UNAVAILABLE) throw new Error(process.env.S3BATCH_CHROMIUM_UNAVAILABLE);
  return ensureChromium(cachePaths(toolCacheDir()));
}

export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = await chromiumExecutable();
  // Playwright refuses --user-data-dir in args; a persistent context on a new empty folder is the same thing.
  const profile = mkdtempSync(join(tmpdir(), 's3batch-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
      timeout: 60_000,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  let closed = false;
  return {
    context,
    page,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Polls every frame of the page (Temporal Web renders markdown in iframes) until one's text matches; returns that
 * text. Fails with what the frames did show.
 */
export async function waitForFrameText(page: Page, pattern: RegExp, timeoutMs: number): Promise<{ frame: Frame; text: string }> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  for (;;) {
    seen = [];
    for (const frame of page.frames()) {
      const text = await frame
        .locator('body')
        .innerText({ timeout: 1_000 })
        .catch(() => '');
      if (pattern.test(text)) return { frame, text };
      if (text.trim()) seen.push(text.trim().slice(0, 200));
    }
    if (Date.now() > deadline) {
      throw new Error(`no frame of ${page.url()} showed ${pattern} within ${timeoutMs} ms; frames showed:\n${seen.join('\n---\n')}`);
    }
    await page.waitForTimeout(500);
  }
}

/** Saves a full-page screenshot into ARTIFACTS_DIR, prints its path, and returns it. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}

/** Width and height from a PNG's IHDR chunk; throws if the file is not a PNG. */
export function pngSize(path: string): { width: number; height: number; bytes: number } {
  const data = readFileSync(path);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (data.length < 24 || !data.subarray(0, 8).equals(signature) || data.toString('ascii', 12, 16) !== 'IHDR') {
    throw new Error(`${path} is not a PNG (${data.length} bytes)`);
  }
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), bytes: data.length };
}
