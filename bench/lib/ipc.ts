// Commands to a bench child over its IPC channel (startChild with `ipc`), one at a time:
// the parent asks, the child answers with the same id.
import type { ChildProcess } from 'node:child_process';

interface Request {
  id: number;
  command: string;
  args: unknown;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

let next = 0;

/** Sends `command` to the child and waits for its answer. */
export function ask<T>(child: ChildProcess, command: string, args: unknown = {}): Promise<T> {
  const id = ++next;
  return new Promise<T>((resolve, reject) => {
    const onMessage = (raw: unknown) => {
      const reply = raw as Reply;
      if (reply.id !== id) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (reply.ok) resolve(reply.value as T);
      else reject(new Error(`${command}: ${reply.error}`));
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`${command}: the child exited with ${code}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ id, command, args } satisfies Request);
  });
}

/** In the child: answers the parent's commands with `handlers`. */
export function serve(handlers: Record<string, (args: never) => Promise<unknown>>): void {
  process.on('message', (raw: unknown) => {
    const { id, command, args } = raw as Request;
    const handler = handlers[command];
    const reply = (r: Reply) => process.send!(r);
    if (!handler) {
      reply({ id, ok: false, error: 'no such command' });
      return;
    }
    handler(args as never).then(
      (value) => reply({ id, ok: true, value }),
      (err: unknown) =>
        reply({ id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : '?' }),
    );
  });
}
