// Builds the web app when its build is missing or older than its sources,
// so `npm start` on a fresh clone serves the UI without a separate step.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const web = 'apps/web';
const built = join(web, 'dist', 'index.html');
if (!existsSync(join(web, 'index.html'))) process.exit(0);

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

// The build's own config and steps (precompression) count too: a build without them is stale.
const sources = Math.max(
  newest(join(web, 'src')),
  newest(join(web, 'build')),
  statSync(join(web, 'index.html')).mtimeMs,
  statSync(join(web, 'vite.config.ts')).mtimeMs,
);
if (existsSync(built) && statSync(built).mtimeMs >= sources) process.exit(0);
process.stdout.write('Building the web app…\n');
execFileSync('npm', ['run', 'build', '-w', '@neon/web'], { stdio: 'inherit' });
