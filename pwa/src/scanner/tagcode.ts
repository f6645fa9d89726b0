// Asset tags and scanned payloads, the same rules as scanner/tags.py and scanner/payload.py, for
// manual entry and scanning offline. The shared cases are scanner/vectors/{tags,payloads}.json.
//
// A tag is <prefix><zero-padded number><check character>, the check character being ISO/IEC 7064
// MOD 37,36 over everything before it (drawn from 0-9A-Z: the '*' of ISO 7064 tables is MOD 37-2's).
// Input is normalised first: NFKC (full-width IME input becomes ASCII), spaces and hyphens dropped,
// ASCII letters upper-cased.

export const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const MAX_INPUT = 256;
export const MAX_PAYLOAD = 2048;

export type Reason = 'empty' | 'bad-characters' | 'wrong-prefix' | 'wrong-length' | 'check-failed';

export interface TagFormat {
  prefix: string;
  digits: number;
}

export const DEFAULT_FORMAT: TagFormat = { prefix: 'AS', digits: 8 };

export type ScanResult =
  | { kind: 'tag'; tag: string }
  | { kind: 'misread'; text: string; reason: Reason }
  | { kind: 'foreign'; text: string };

export class InvalidTag extends Error {
  constructor(
    readonly reason: Reason,
    readonly text: string,
  ) {
    super(`invalid tag ${JSON.stringify(text.slice(0, 40))}: ${reason}`);
    this.name = 'InvalidTag';
  }
}

const BODY = /^[0-9A-Z]{1,256}$/;
const TAG_CHARS = /^[0-9A-Za-z]*$/;
const DIGITS = /^[0-9]*$/;
const SEPARATORS = /[\t\n\v\f\r -]+/g; // explicit, as in Python (\s differs between the two)
const TRIM = /^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g;
// A URL has no C0 control character or space anywhere, as in scanner/payload.py.
// biome-ignore lint/suspicious/noControlCharactersInRegex: \x00-\x20 is the class being excluded on purpose
const URL_RE = /^https?:\/\/[^/?#\x00-\x20]+(\/[^?#\x00-\x20]*)?(\?[^#\x00-\x20]*)?(#[^\x00-\x20]*)?$/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: \x00-\x20 is the class being excluded on purpose
const BASE_RE = /^https?:\/\/[^/?#@:\x00-\x20]+(:[0-9]{1,5})?(\/[^?#\x00-\x20]*)?$/i;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/** Length in code points, as Python counts. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

function checksum(s: string): number {
  let check = 18; // modulus / 2
  for (const c of s) check = ((((check || 36) * 2) % 37) + ALPHABET.indexOf(c)) % 36;
  return check;
}

/** The MOD 37,36 check character of `body` (upper-case 0-9A-Z only, else InvalidTag). */
export function checkCharacter(body: string): string {
  if (typeof body !== 'string' || !BODY.test(body)) throw new InvalidTag('bad-characters', String(body));
  return ALPHABET[(((1 - (((checksum(body) || 36) * 2) % 37)) % 36) + 36) % 36];
}

export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .replace(SEPARATORS, '')
    .replace(/[a-z]+/g, (s) => s.toUpperCase());
}

/** The tag for `n` (0 … 10^digits − 1). */
export function makeTag(n: number, fmt: TagFormat = DEFAULT_FORMAT): string {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 10 ** fmt.digits) throw new RangeError(`tag number out of range: ${n}`);
  const body = fmt.prefix + String(n).padStart(fmt.digits, '0');
  return body + checkCharacter(body);
}

/** The normalised text and why it is not a tag of `fmt` (reason null: it is one). Never throws. */
export function judgeTag(text: unknown, fmt: TagFormat = DEFAULT_FORMAT): { tag: string; reason: Reason | null } {
  if (typeof text !== 'string') return { tag: '', reason: 'bad-characters' };
  if (text.length > MAX_INPUT && codePoints(text) > MAX_INPUT) return { tag: '', reason: 'wrong-length' };
  const tag = normalise(text);
  const length = fmt.prefix.length + fmt.digits + 1;
  let reason: Reason | null = null;
  if (!tag) reason = 'empty';
  else if (!TAG_CHARS.test(tag)) reason = 'bad-characters';
  else if (!tag.startsWith(fmt.prefix)) reason = 'wrong-prefix';
  else if (tag.length !== length) reason = 'wrong-length';
  else if (!DIGITS.test(tag.slice(fmt.prefix.length, -1))) reason = 'bad-characters';
  else if (checksum(tag) !== 1) reason = 'check-failed';
  return { tag, reason };
}

export function isValidTag(text: unknown, fmt: TagFormat = DEFAULT_FORMAT): boolean {
  return judgeTag(text, fmt).reason === null;
}

/** The normalised tag, or InvalidTag with a reason. */
export function validateTag(text: string, fmt: TagFormat = DEFAULT_FORMAT): string {
  const { tag, reason } = judgeTag(text, fmt);
  if (reason) throw new InvalidTag(reason, String(text));
  return tag;
}

export function tagNumber(tag: string, fmt: TagFormat = DEFAULT_FORMAT): number {
  return Number(validateTag(tag, fmt).slice(fmt.prefix.length, -1));
}

/** The label URL `<base>/t/<TAG>`; throws on a base that is not http(s)://host[:port][/path]. */
export function tagUrl(baseUrl: string, tag: string, fmt: TagFormat = DEFAULT_FORMAT): string {
  const base = typeof baseUrl === 'string' ? baseUrl.replace(TRIM, '').replace(/\/+$/, '') : '';
  if (!BASE_RE.test(base)) throw new TypeError(`not a public base URL: ${JSON.stringify(baseUrl)}`);
  return `${base}/t/${validateTag(tag, fmt)}`;
}

function tagFromPath(path: string): string | null {
  const segments = path.split('/');
  if (segments[segments.length - 1] === '') segments.pop();
  if (segments.length < 3 || (segments[segments.length - 2] !== 't' && segments[segments.length - 2] !== 'T')) return null;
  const raw = segments[segments.length - 1];
  if (BAD_ESCAPE.test(raw)) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/**
 * What a scanned text is: one of our tags (the label URL on any host, or the bare tag as older Code 128
 * labels carry it), a misread (our prefix and shape, wrong check character), or foreign. Never throws.
 */
export function parseScan(text: string, fmt: TagFormat = DEFAULT_FORMAT): ScanResult {
  if (typeof text !== 'string') return { kind: 'foreign', text: String(text) };
  if (text.length > MAX_PAYLOAD && codePoints(text) > MAX_PAYLOAD) return { kind: 'foreign', text };
  const clean = text.normalize('NFKC').replace(TRIM, '');
  const url = URL_RE.exec(clean);
  const candidate = url ? tagFromPath(url[1] ?? '') : clean;
  if (candidate === null) return { kind: 'foreign', text };
  const { tag, reason } = judgeTag(candidate, fmt);
  if (reason === null) return { kind: 'tag', tag };
  if (reason === 'check-failed') return { kind: 'misread', text, reason };
  return { kind: 'foreign', text };
}
