import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { embeddedDataDir, freePort } from '@neon/testing';
import { startEmbedded, type Embedded } from '../../../launcher/src/embedded.js';

export interface WebPlatform {
  neon: Embedded;
  dataDir: string;
  /** Stops the platform and removes its data. */
  close(): Promise<void>;
}

/**
 * The embedded platform as a browser test meets it: the web build in place,
 * PGlite from the initialised template, the gateway on a port of its own (so
 * PUBLIC_URL, the origin the chat socket and sign-in accept, is where the
 * browser goes) and RTMP on any free port. `env` adds or overrides settings.
 */
export async function startWebPlatform(
  prefix: string,
  env: Record<string, string> = {},
): Promise<WebPlatform> {
  execFileSync(process.execPath, ['scripts/ensure-web.mjs'], { stdio: 'inherit' });
  const dataDir = await embeddedDataDir(prefix);
  const neon = await startEmbedded({
    ...process.env,
    DATA_DIR: dataDir,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(await freePort()),
    RTMP_HOST: '127.0.0.1',
    RTMP_PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: '',
    NATS_URL: '',
    REDIS_URL: '',
    ...env,
  });
  return {
    neon,
    dataDir,
    async close() {
      await neon.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const DESKTOP = { name: 'desktop', width: 1366, height: 800 };
export const PHONE = { name: 'phone', width: 390, height: 844 };

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];
const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's WCAG 2.0–2.2 A/AA verdict on the page as it is now (injected once per document). */
export async function axe(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(AXE_SOURCE);
  const options = JSON.stringify({
    runOnly: { type: 'tag', values: TAGS },
    resultTypes: ['violations'],
  });
  return page.evaluate<Violation[]>(`axe.run(document, ${options}).then((r) =>
    r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' → ' + (n.failureSummary || '').replace(/\\s+/g, ' ')),
    })))`);
}

/** One line a violation, for an assertion message. */
export function describeViolation(v: Violation): string {
  return `${v.id} [${v.impact}] ${v.help}: ${v.nodes.join(', ')}`;
}

/** How much wider than the viewport the page is, in CSS pixels (0: it fits). */
export async function overflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.scrollingElement.scrollWidth - window.innerWidth');
}
