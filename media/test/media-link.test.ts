import { describe, expect, it } from 'vitest';
import { parseCommand, parseReport } from '../src/control/media-link.ts';

describe('media link messages', () => {
  it('accepts well-formed reports and commands only', () => {
    expect(parseReport('{"type":"live","streamId":"123"}')).toEqual({ type: 'live', streamId: '123' });
    expect(parseCommand('{"type":"stop","streamId":"9","extra":1}')).toEqual({ type: 'stop', streamId: '9' });
    for (const raw of ['', 'nope', '{"type":"stop","streamId":"1"}', '{"type":"live","streamId":1}', '{"type":"live","streamId":"1 OR 1=1"}', 'null']) {
      expect(parseReport(raw), raw).toBeNull();
    }
    expect(parseCommand('{"type":"live","streamId":"1"}')).toBeNull();
  });
});
