import autocannon from 'autocannon';

/**
 * One fixed-duration autocannon run against one route, reduced to the figures
 * a benchmark reports. Anything but the expected status, and every socket
 * error or timeout, counts as an error.
 */

export type LoadMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The varying part of one request. */
export interface LoadRequest {
  path: string;
  /** Added to the run's headers (e.g. a per-user authorization). */
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadSpec {
  /** Base URL of the server, e.g. http://127.0.0.1:41234 */
  url: string;
  method: LoadMethod;
  /** Headers of every request. */
  headers: Record<string, string>;
  /** Called once per request sent, so paths and bodies can vary. */
  nextRequest: () => LoadRequest;
  /** The only status that counts as success (e.g. 201 for a create). */
  expectStatus: number;
  durationSeconds: number;
  connections: number;
}

export interface LoadResult {
  /** Responses received, whatever their status. */
  responses: number;
  /** Measured wall-clock seconds. */
  durationSeconds: number;
  /** responses / durationSeconds. */
  requestsPerSecond: number;
  /** Latency of every response, in milliseconds (autocannon's HdrHistogram, 1 ms resolution above 1 ms). */
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Count per status code, expected one included. */
  statuses: Record<string, number>;
  /** Responses with another status than expectStatus. */
  unexpectedStatus: number;
  /** Socket errors, timeouts included. */
  socketErrors: number;
  timeouts: number;
  /** unexpectedStatus + socketErrors. */
  errors: number;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationSeconds,
        method: spec.method,
        headers: spec.headers,
        requests: [
          {
            setupRequest: (request) => {
              const next = spec.nextRequest();
              return { ...request, path: next.path, headers: { ...request.headers, ...next.headers }, body: next.body };
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const responses = Object.values(statuses).reduce((a, b) => a + b, 0);
        const unexpectedStatus = responses - (statuses[String(spec.expectStatus)] ?? 0);
        resolve({
          responses,
          durationSeconds: result.duration,
          requestsPerSecond: responses / result.duration,
          latencyMs: {
            mean: result.latency.mean,
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            max: result.latency.max,
          },
          statuses,
          unexpectedStatus,
          socketErrors: result.errors,
          timeouts: result.timeouts,
          errors: unexpectedStatus + result.errors,
        });
      },
    );
    instance.on('response', (_client, statusCode) => {
      const key = String(statusCode);
      statuses[key] = (statuses[key] ?? 0) + 1;
    });
  });
}
