import { describe, expect, it } from 'vitest';
import { readFanoutOptions } from '../bench/fanout-options.ts';
import { BenchOptionsError } from '../bench/options.ts';

describe('fanout options', () => {
  it('defaults to the light client and a 50-tweet burst', () => {
    const o = readFanoutOptions({});
    expect(o).toMatchObject({ client: 'light', sockets: 10_000, burstTweets: 50, burstConcurrency: 16, clientWorkers: 4 });
  });

  it('switches every worker to socket.io-client for a run, and skips the burst with 0', () => {
    expect(readFanoutOptions({ BENCH_CLIENT: 'socket.io-client', BENCH_BURST_TWEETS: '0' })).toMatchObject({ client: 'socket.io-client', burstTweets: 0 });
  });

  it('lists an unknown client with the choices', () => {
    expect(() => readFanoutOptions({ BENCH_CLIENT: 'socketio' })).toThrow(BenchOptionsError);
    expect(() => readFanoutOptions({ BENCH_CLIENT: 'socketio' })).toThrow(/BENCH_CLIENT=socketio: one of light, socket\.io-client/);
  });
});
