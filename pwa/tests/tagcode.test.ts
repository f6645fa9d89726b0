// The shared tag and payload vectors (scanner/vectors), as pytest runs them too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALPHABET,
  checkCharacter,
  InvalidTag,
  isValidTag,
  judgeTag,
  makeTag,
  parseScan,
  type TagFormat,
  tagNumber,
  tagUrl,
  validateTag,
} from '../src/scanner/tagcode';

const dir = join(__dirname, '..', '..', 'scanner', 'vectors');
const load = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
const TAGS = load('tags.json');
const PAYLOADS = load('payloads.json');

interface FormatVectors extends TagFormat {
  valid: Array<{ number: number; tag: string }>;
  normalised: Array<{ input: string; tag: string }>;
  invalid: Array<{ input: string; reason: string }>;
}

describe('check characters (ISO/IEC 7064 MOD 37,36)', () => {
  it('gives the standard example', () => {
    expect(checkCharacter('A12425GABC1234002')).toBe('M');
  });
  it.each(TAGS.check as Array<{ body: string; check: string }>)('$body → $check', ({ body, check }) => {
    expect(checkCharacter(body)).toBe(check);
  });
  it.each(TAGS.badBodies as string[])('refuses body %j', (body) => {
    expect(() => checkCharacter(body)).toThrow(InvalidTag);
  });
  it('detects every single substitution', () => {
    const tag = makeTag(31_415_926);
    for (let i = 0; i < tag.length; i++) {
      for (const c of ALPHABET) {
        if (c === tag[i]) continue;
        expect(isValidTag(tag.slice(0, i) + c + tag.slice(i + 1))).toBe(false);
      }
    }
  });
});

describe.each(TAGS.formats as FormatVectors[])('tags $prefix/$digits', (f) => {
  const fmt: TagFormat = { prefix: f.prefix, digits: f.digits };
  it.each(f.valid)('makes and reads $tag', ({ number, tag }) => {
    expect(makeTag(number, fmt)).toBe(tag);
    expect(validateTag(tag, fmt)).toBe(tag);
    expect(tagNumber(tag, fmt)).toBe(number);
  });
  it.each(f.normalised)('normalises $input', ({ input, tag }) => {
    expect(validateTag(input, fmt)).toBe(tag);
  });
  it.each(f.invalid)('refuses $input: $reason', ({ input, reason }) => {
    expect(judgeTag(input, fmt).reason).toBe(reason);
    expect(isValidTag(input, fmt)).toBe(false);
    expect(() => validateTag(input, fmt)).toThrow(InvalidTag);
  });
  it('refuses numbers out of range', () => {
    expect(() => makeTag(10 ** f.digits, fmt)).toThrow(RangeError);
    expect(() => makeTag(-1, fmt)).toThrow(RangeError);
  });
});

describe.each(PAYLOADS.formats as Array<TagFormat & { cases: Array<{ text: string; expect: Record<string, string> }> }>)(
  'scanned payloads $prefix/$digits',
  (f) => {
    const fmt: TagFormat = { prefix: f.prefix, digits: f.digits };
    it.each(f.cases)('$text', ({ text, expect: want }) => {
      const got = parseScan(text, fmt);
      expect(got.kind).toBe(want.kind);
      if (want.kind === 'tag') expect(got).toEqual({ kind: 'tag', tag: want.tag });
      else expect(got).toMatchObject({ ...want, text });
    });
  },
);

describe('label URLs', () => {
  it.each(PAYLOADS.urls as Array<{ base: string; tag: string; url: string }>)('$base + $tag', ({ base, tag, url }) => {
    expect(tagUrl(base, tag)).toBe(url);
    expect(parseScan(url)).toEqual({ kind: 'tag', tag: validateTag(tag) });
  });
  it.each(PAYLOADS.badBases as string[])('refuses base %j', (base) => {
    expect(() => tagUrl(base, makeTag(1))).toThrow(TypeError);
  });
  it.each(PAYLOADS.badTags as Array<{ tag: string; reason: string }>)('refuses tag $tag', ({ tag, reason }) => {
    expect(() => tagUrl('https://outpost.example.com', tag)).toThrow(InvalidTag);
    expect(judgeTag(tag).reason).toBe(reason);
  });
});
