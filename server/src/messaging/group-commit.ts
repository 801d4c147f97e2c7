/**
 * Group commit: calls for one key that arrive while a flush for that key is
 * running wait and are then flushed together, in one transaction. A lone call
 * is flushed at once (no timer, no added latency); under load, N concurrent
 * calls cost one commit instead of N. Each job gets its own result or error.
 */
export class GroupCommit<J, R> {
  private readonly pending = new Map<string, { jobs: { job: J; resolve: (r: R) => void; reject: (e: unknown) => void }[] }>();

  constructor(
    /** Flushes a batch; returns one result or Error per job, in order. Throwing fails the whole batch. */
    private readonly flush: (key: string, jobs: J[]) => Promise<(R | Error)[]>,
    /** Weight of a job (messages in it); a batch stops growing at maxWeight. */
    private readonly weight: (job: J) => number,
    private readonly maxWeight: number,
  ) {}

  submit(key: string, job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let q = this.pending.get(key);
      const start = !q;
      if (!q) this.pending.set(key, (q = { jobs: [] }));
      q.jobs.push({ job, resolve, reject });
      if (start) void this.run(key, q);
    });
  }

  private async run(key: string, q: { jobs: { job: J; resolve: (r: R) => void; reject: (e: unknown) => void }[] }): Promise<void> {
    while (q.jobs.length > 0) {
      let w = 0;
      let n = 0;
      while (n < q.jobs.length && (n === 0 || w + this.weight(q.jobs[n]!.job) <= this.maxWeight)) w += this.weight(q.jobs[n++]!.job);
      const batch = q.jobs.splice(0, n);
      try {
        const results = await this.flush(key, batch.map((b) => b.job));
        batch.forEach((b, i) => {
          const r = results[i];
          if (r instanceof Error) b.reject(r);
          else b.resolve(r as R);
        });
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.pending.delete(key);
  }
}
