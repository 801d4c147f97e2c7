import { describe, expect, it } from 'vitest';
import { HANDLE_PATTERN, MAX_TWEET_GRAPHEMES, countGraphemes, extractMentions } from '@flock/client/protocol';

const FAMILY = '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}'; // 👨‍👩‍👧‍👦
const FLAG_FR = '\u{1F1EB}\u{1F1F7}'; // 🇫🇷
const E_COMBINING = 'e\u0301'; // é as e + COMBINING ACUTE ACCENT

describe('countGraphemes', () => {
  it.each([
    ['an empty string', '', 0],
    ['ASCII', 'hello, world', 12],
    ['a ZWJ family emoji', FAMILY, 1],
    ['e + combining acute accent', E_COMBINING, 1],
    ['a precomposed é', '\u00E9', 1],
    ['a CJK character', '漢', 1],
    ['a CJK sentence', '你好世界', 4],
    ['a flag (two regional indicators)', FLAG_FR, 1],
    ['two flags', FLAG_FR + '\u{1F1E9}\u{1F1EA}', 2],
    ['an emoji with skin tone', '\u{1F44D}\u{1F3FD}', 1],
    ['CRLF', '\r\n', 1],
    ['text with CRLF line breaks', 'a\r\nb\r\nc', 5],
    ['LF CR (two clusters)', '\n\r', 2],
    ['mixed text', `Hi ${FAMILY} ${FLAG_FR} caf${E_COMBINING}!`, 12],
  ])('counts %s', (_label, text, expected) => {
    expect(countGraphemes(text)).toBe(expected);
  });

  it('counts 280 family emojis as 280, though they are thousands of UTF-16 units', () => {
    const text = FAMILY.repeat(280);
    expect(text.length).toBe(280 * 11);
    expect(countGraphemes(text)).toBe(280);
    expect(countGraphemes(text)).toBeLessThanOrEqual(MAX_TWEET_GRAPHEMES);
    expect(countGraphemes(text + FAMILY)).toBe(MAX_TWEET_GRAPHEMES + 1);
  });

  it('counts a 280-character ASCII tweet as 280', () => {
    expect(countGraphemes('x'.repeat(280))).toBe(MAX_TWEET_GRAPHEMES);
  });
});

describe('extractMentions', () => {
  it('finds handles, lower-cased, in order of first appearance', () => {
    expect(extractMentions('hi @alice and @Bob_1')).toEqual(['alice', 'bob_1']);
  });

  it('drops repeats, whatever their case', () => {
    expect(extractMentions('@alice @ALICE @Alice @bob @alice')).toEqual(['alice', 'bob']);
  });

  it('ignores email addresses', () => {
    expect(extractMentions('write to a@b.com or alice@example.org')).toEqual([]);
  });

  it('matches a 15-character handle', () => {
    const h = 'abcdefghij12345';
    expect(extractMentions(`cc @${h}`)).toEqual([h]);
  });

  it('does not match a 16-character handle, nor a 15-character prefix of it', () => {
    expect(extractMentions('cc @abcdefghij123456 please')).toEqual([]);
  });

  it('accepts punctuation around a mention', () => {
    expect(extractMentions('(@alice), @bob! "@carol". @dave: @erin? @frank\'s')).toEqual([
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
      'frank',
    ]);
  });

  it('finds mentions at the start and end of the text and across lines', () => {
    expect(extractMentions('@first\nmiddle\r\n@last')).toEqual(['first', 'last']);
  });

  it('ignores a lone @ and an @ followed by punctuation', () => {
    expect(extractMentions('meet @ 5pm, @!, @-')).toEqual([]);
  });

  it('returns nothing for text without mentions', () => {
    expect(extractMentions('no mentions here #tag')).toEqual([]);
  });
});

describe('HANDLE_PATTERN', () => {
  it.each(['a', 'Bob_1', '_', 'abcdefghij12345'])('accepts %s', (h) => {
    expect(HANDLE_PATTERN.test(h)).toBe(true);
  });

  it.each(['', 'abcdefghij123456', 'al-ice', 'al ice', 'café', '@alice'])('rejects %j', (h) => {
    expect(HANDLE_PATTERN.test(h)).toBe(false);
  });
});
