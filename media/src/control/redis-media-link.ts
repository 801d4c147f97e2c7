import type { Cluster, Redis } from 'ioredis';
import type { MediaLog } from '../log.ts';
import { commandsChannel, parseCommand, parseReport, reportsKey, type MediaCommand, type MediaReport } from './media-link.ts';
import type { StreamDirectory } from './stream-directory.ts';

type RedisClient = Redis | Cluster;

/** Worker side: keys checked against the database, live/ended reported to the gateways. */
export class RedisStreamDirectory implements StreamDirectory {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    readonly authorize: (streamKey: string) => Promise<string | null>,
  ) {}

  private async report(r: MediaReport): Promise<void> {
    await this.redis.lpush(reportsKey(this.prefix), JSON.stringify(r));
  }

  wentLive(streamId: string): Promise<void> {
    return this.report({ type: 'live', streamId });
  }

  ended(streamId: string): Promise<void> {
    return this.report({ type: 'ended', streamId });
  }
}

/** Worker side: acts on the gateways' commands. Returns a function that stops listening. */
export async function listenForCommands(sub: RedisClient, prefix: string, on: (c: MediaCommand) => void, log: MediaLog): Promise<() => Promise<void>> {
  const channel = commandsChannel(prefix);
  const handler = (ch: string, raw: string) => {
    if (ch !== channel) return;
    const c = parseCommand(raw);
    if (c) on(c);
    else log.warn({ raw: raw.slice(0, 200) }, 'malformed media command ignored');
  };
  sub.on('message', handler);
  await sub.subscribe(channel);
  return async () => {
    sub.off('message', handler);
    await sub.unsubscribe(channel).catch(() => {});
  };
}

/** Gateway side: what the stream routes ask of the media workers. */
export class RedisMediaControl {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private async send(c: MediaCommand): Promise<void> {
    await this.redis.publish(commandsChannel(this.prefix), JSON.stringify(c));
  }

  stop(streamId: string): Promise<void> {
    return this.send({ type: 'stop', streamId });
  }

  remove(streamId: string): Promise<void> {
    return this.send({ type: 'remove', streamId });
  }
}

/**
 * Gateway side: pops the workers' reports one at a time and hands each to `on`. `redis` must be a
 * connection of its own (BRPOP blocks it); `stop` disconnects it. A report whose handling fails is logged and dropped: the
 * handlers are idempotent state changes, and a poison report must not stall the queue.
 */
export function consumeReports(redis: RedisClient, prefix: string, on: (r: MediaReport) => Promise<void>, log: MediaLog): { stop(): Promise<void> } {
  let running = true;
  const key = reportsKey(prefix);
  const loop = (async () => {
    while (running) {
      let popped: [string, string] | null;
      try {
        popped = await redis.brpop(key, 1);
      } catch (err) {
        if (!running) break;
        log.warn({ err: (err as Error).message }, 'media report queue unreachable; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!popped) continue;
      const report = parseReport(popped[1]);
      if (!report) {
        log.warn({ raw: popped[1].slice(0, 200) }, 'malformed media report dropped');
        continue;
      }
      await on(report).catch((err: unknown) => log.error({ err: (err as Error).message, report }, 'media report failed'));
    }
  })();
  return {
    async stop() {
      running = false;
      redis.disconnect(); // ends a pending BRPOP at once
      await loop;
    },
  };
}
