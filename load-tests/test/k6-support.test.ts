import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deliveryMs, missedDeliveries } from '../lib/delivery.ts';
import { durationSetting, endpoints, handleFor, intSetting, runId, seconds, SettingError } from '../lib/load-settings.ts';
import { pick, validateMix } from '../lib/operation-mix.ts';
import { failedThresholds, summaryText, type SummaryData } from '../lib/summary-text.ts';

// The pure pieces the k6 scenarios are built from (load-tests/k6/), run under Node.

describe('load-settings', () => {
  it('derives WS_URL from BASE_URL and validates both', () => {
    expect(endpoints({ BASE_URL: 'https://flock.example/' })).toEqual({ baseUrl: 'https://flock.example', wsUrl: 'wss://flock.example' });
    expect(endpoints({ BASE_URL: 'http://127.0.0.1:8080', WS_URL: 'ws://127.0.0.1:9000' })).toEqual({ baseUrl: 'http://127.0.0.1:8080', wsUrl: 'ws://127.0.0.1:9000' });
    expect(endpoints({})).toEqual({ baseUrl: 'http://127.0.0.1:8080', wsUrl: 'ws://127.0.0.1:8080' });
    expect(() => endpoints({ BASE_URL: 'flock.example' })).toThrow(SettingError);
    expect(() => endpoints({ BASE_URL: 'https://flock.example/v1' })).toThrow(/without a path/);
    expect(() => endpoints({ BASE_URL: 'wss://flock.example' })).toThrow(SettingError);
  });

  it('reads whole numbers and k6 durations, refusing anything else', () => {
    expect(intSetting({ N: '250' }, 'N', 1, 1, 1000)).toBe(250);
    expect(intSetting({}, 'N', 7, 1, 1000)).toBe(7);
    expect(() => intSetting({ N: '2.5' }, 'N', 1, 1, 1000)).toThrow(/whole number/);
    expect(() => intSetting({ N: '0' }, 'N', 1, 1, 1000)).toThrow(/1–1000/);
    expect(durationSetting({ D: '1h30m' }, 'D', '1m')).toBe('1h30m');
    expect(() => durationSetting({ D: '90' }, 'D', '1m')).toThrow(/duration/);
    expect(seconds('1h2m3s')).toBe(3723);
    expect(seconds('45s')).toBe(45);
  });

  it('names load-test users within the handle rule, and refuses names that break it', () => {
    expect(handleFor('tf', 'abcde', 1234)).toBe('tfabcde_1234');
    expect(() => handleFor('tf', 'abcdefgh', 123456)).toThrow(/handle rule/);
    expect(runId({ RUN_ID: 'nightly1' }, 0)).toBe('nightly1');
    expect(runId({}, Date.UTC(2026, 0, 1))).toMatch(/^[a-z0-9]{5}$/);
    expect(() => runId({ RUN_ID: 'no spaces' }, 0)).toThrow(SettingError);
  });
});

describe('operation-mix', () => {
  const mix = { read: 70, write: 25, rare: 5, never: 0 } as const;

  it('picks each operation with probability weight / total', () => {
    validateMix(mix);
    const counts: Record<string, number> = { read: 0, write: 0, rare: 0, never: 0 };
    const n = 10_000;
    for (let i = 0; i < n; i++) counts[pick(mix, (i + 0.5) / n)]!++;
    expect(counts).toEqual({ read: 7000, write: 2500, rare: 500, never: 0 });
  });

  it('always returns an operation with weight, for any r in [0, 1)', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => mix[pick(mix, r)] > 0));
  });

  it('refuses weights that cannot form a mix', () => {
    expect(() => validateMix({ a: 0, b: 0 })).toThrow();
    expect(() => validateMix({ a: -1, b: 2 })).toThrow();
  });
});

describe('delivery accounting', () => {
  const t = (id: string, author: string, at: string) => ({ id, author: { id: author }, createdAt: at });
  const timeline = [
    t('5', 'bob', '2026-01-01T00:00:09.000Z'), // after the window: may still be in flight
    t('4', 'bob', '2026-01-01T00:00:05.000Z'), // owed, received
    t('3', 'bob', '2026-01-01T00:00:04.000Z'), // owed, missed
    t('2', 'me', '2026-01-01T00:00:04.000Z'), // not from someone followed
    t('1', 'bob', '2026-01-01T00:00:00.500Z'), // before the socket connected
  ];

  it('counts only tweets owed to the socket that never came', () => {
    const window = { fromMs: Date.parse('2026-01-01T00:00:01Z'), toMs: Date.parse('2026-01-01T00:00:08Z') };
    expect(missedDeliveries(timeline, { '4': true }, { bob: true }, window).map((x) => x.id)).toEqual(['3']);
    expect(missedDeliveries(timeline, { '3': true, '4': true }, { bob: true }, window)).toEqual([]);
  });

  it('measures delivery from the tweet createdAt', () => {
    expect(deliveryMs('2026-01-01T00:00:04.000Z', Date.parse('2026-01-01T00:00:04.250Z'))).toBe(250);
  });
});

describe('summary-text', () => {
  const data: SummaryData = {
    state: { testRunDurationMs: 61_000 },
    metrics: {
      flock_delivery_ms: { type: 'trend', values: { avg: 40, med: 30, 'p(95)': 120.5, 'p(99)': 300, max: 900 }, thresholds: { 'p(95)<1000': { ok: true } } },
      flock_missed_deliveries: { type: 'counter', values: { count: 3, rate: 0.05 }, thresholds: { 'count==0': { ok: false } } },
      http_req_failed: { type: 'rate', values: { rate: 0.002, passes: 2, fails: 998 } },
    },
  };

  it('names the failed thresholds', () => {
    expect(failedThresholds(data)).toEqual(['flock_missed_deliveries']);
  });

  it('states the verdict, each threshold with its values, and the extra metrics asked for', () => {
    const text = summaryText('timeline-push', data, ['http_req_failed']);
    expect(text).toContain('timeline-push: THRESHOLDS FAILED: flock_missed_deliveries in 61.0 s');
    expect(text).toContain('ok   flock_delivery_ms p(95)<1000   avg=40 p(50)=30 p(95)=120.5 p(99)=300 max=900');
    expect(text).toContain('FAIL flock_missed_deliveries count==0   count=3');
    expect(text).toContain('http_req_failed   rate=0.20% (2 of 1000)');
  });
});
