import { record } from './registry.ts';

class Metric {
  constructor(
    readonly name: string,
    private readonly type: 'counter' | 'gauge' | 'rate' | 'trend',
  ) {}
  add(value: number | boolean, tags: Record<string, string> = {}): void {
    record(this.name, this.type, Number(value), tags);
  }
}

export class Counter extends Metric {
  constructor(name: string) {
    super(name, 'counter');
  }
}
export class Trend extends Metric {
  constructor(name: string) {
    super(name, 'trend');
  }
}
export class Rate extends Metric {
  constructor(name: string) {
    super(name, 'rate');
  }
}
export class Gauge extends Metric {
  constructor(name: string) {
    super(name, 'gauge');
  }
}
