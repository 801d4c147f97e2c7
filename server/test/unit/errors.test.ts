import { describe, expect, it } from 'vitest';
import { causeOf, unavailable } from '../../src/errors.ts';

describe('causeOf (the driver-level reason, for logs)', () => {
  it('names the code and message of the cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const err = unavailable('The database is unreachable', { cause: refused });
    expect(causeOf(err)).toBe('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432');
    expect(JSON.stringify(err.toBody())).not.toContain('ECONNREFUSED');
  });

  it('keeps the code of a cause without a message (a refusal on every address)', () => {
    const both = Object.assign(new AggregateError([new Error('a'), new Error('b')]), { code: 'ECONNREFUSED' });
    expect(causeOf(unavailable(undefined, { cause: both }))).toBe('ECONNREFUSED');
    expect(causeOf(unavailable(undefined, { cause: new AggregateError([]) }))).toBe('AggregateError');
  });

  it('is undefined without an Error cause', () => {
    expect(causeOf(unavailable())).toBeUndefined();
    expect(causeOf(Object.assign(new Error('x'), { cause: 'text' }))).toBeUndefined();
    expect(causeOf(null)).toBeUndefined();
  });
});
