/**
 * Runs an async job one at a time. A request made while the job runs is remembered and makes it
 * run once more when it ends, however many requests came meanwhile: no request is lost, no two
 * runs overlap. A failed run is reported to `onError` and ends the series; the next request
 * starts a new one.
 */
export class Rerun {
  private running = false;
  private again = false;

  constructor(
    private readonly job: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** True while a run is in progress. */
  get busy(): boolean {
    return this.running;
  }

  /** Starts a run, or asks the one in progress for another; resolves when this call's part is done. */
  async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.job();
      } while (this.again);
    } catch (err) {
      this.onError(err);
    } finally {
      this.running = false;
    }
  }
}
