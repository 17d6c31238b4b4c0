/** This process's resident memory in bytes, after two full collections (node runs with --expose-gc). */
export async function rssAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  await new Promise((r) => setTimeout(r, 100));
  gc();
  return process.memoryUsage().rss;
}
