import type { Logger } from './logger.js';

export interface Closeable {
  close(): Promise<void>;
}

export interface RunOptions {
  name: string;
  logger: Logger;
  /** How long draining may take before the process gives up and exits 1. */
  shutdownTimeoutMs?: number;
  exit?: (code: number) => void;
}

/**
 * Starts a service and owns the process: SIGTERM/SIGINT stop accepting,
 * drain in-flight work through `close()`, then exit 0; a drain that hangs
 * past the timeout exits 1 so an orchestrator is never left waiting.
 */
export async function runMain(options: RunOptions, start: () => Promise<Closeable>): Promise<void> {
  const { logger, name } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = options.shutdownTimeoutMs ?? 9000;

  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection');
  });

  let running: Closeable;
  try {
    running = await start();
  } catch (err) {
    logger.fatal({ err }, 'start failed');
    exit(1);
    return;
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, service: name }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      exit(1);
    }, timeoutMs);
    timer.unref();
    running.close().then(
      () => {
        clearTimeout(timer);
        logger.info('stopped');
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(timer);
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  // `on`, not `once`: Ctrl-C signals the whole process group, so the server
  // hears SIGINT from the terminal and again from npm forwarding it; the
  // second must not fall through to node's default (killed, exit 130).
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Closes in reverse order of opening, each once, collecting failures. */
export class Closer implements Closeable {
  private readonly items: { name: string; close: () => Promise<void> | void }[] = [];
  private closed: Promise<void> | undefined;

  add(name: string, close: () => Promise<void> | void): void {
    this.items.push({ name, close });
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      const failures: unknown[] = [];
      for (const item of [...this.items].reverse()) {
        try {
          await item.close();
        } catch (err) {
          failures.push(new Error(`closing ${item.name} failed`, { cause: err }));
        }
      }
      if (failures.length > 0) throw new AggregateError(failures, 'shutdown incomplete');
    })();
    return this.closed;
  }
}
