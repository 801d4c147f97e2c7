/** BENCH_* settings of the messaging scenario (load-tests/bench/messaging.ts). */
export const MESSAGING_ENV_HELP = `Messaging scenario:
  BENCH_MESSAGING_BATCH  messages per call in the batched runs (default 50)
  BENCH_MESSAGING_RATE   publishes per second for the latency run (default 1000)`;

