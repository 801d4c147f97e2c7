import type { ChildProcess } from 'node:child_process';
/**
 * Resources a benchmark must release even when it is interrupted (Ctrl-C):
 * gateway children, scratch databases, temp directories. Normal runs release
 * them in `finally` blocks and unregister; run.ts calls `runCleanups()` on
 * SIGINT/SIGTERM for whatever is still registered, newest first.
 */
type Task = () => Promise<void>;

const tasks: Task[] = [];

/** Registers a cleanup task; returns the function that unregisters it. */
export function registerCleanup(task: Task): () => void {
  tasks.push(task);
  return () => {
    const i = tasks.indexOf(task);
    if (i >= 0) tasks.splice(i, 1);
  };
}

/** Runs every registered task, newest first; a failing task does not stop the others. */
export async function runCleanups(): Promise<void> {
  while (tasks.length > 0) {
    const task = tasks.pop()!;
    await task().catch((err: unknown) => process.stderr.write(`cleanup failed: ${(err as Error).message}\n`));
  }
}

/**
 * Makes a child process stoppable the way every benchmark child must be: `stop()` sends `signal`
 * (SIGTERM unless told otherwise) and SIGKILL after `graceMs`; the child is killed if this process
 * exits first, and stopped by `runCleanups()` on Ctrl-C.
 */
export function stoppableChild(child: ChildProcess, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): { stop: () => Promise<void>; running: () => boolean } {
  const killNow = () => child.kill('SIGKILL');
  process.once('exit', killNow);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (running()) {
        child.kill(signal);
        const timer = setTimeout(killNow, graceMs);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killNow);
    })().finally(unregister));
  const unregister = registerCleanup(stop);
  return { stop, running };
}
