/**
 * `unicodedata.lookup` as CPython 3.11 answers it, for `\N{...}`: the names (case-insensitive for
 * ASCII letters) and aliases of Unicode 14, plus the two families CPython computes (CJK unified
 * ideographs and Hangul syllables, both case-sensitive). The table is inflated on first use.
 */
import { decodeRanges, has } from './charset.js';
import { CJK_UNIFIED } from './unicode-data.js';
import { NAMES_DEFLATED_BASE64 } from './unicode-names.js';

let names: Map<string, number> | undefined;

function table(): Map<string, number> {
  if (names) return names;
  // node:zlib is loaded only here, the first time a pattern uses \N{...}
  const { inflateSync } = process.getBuiltinModule('node:zlib');
  const text = inflateSync(Buffer.from(NAMES_DEFLATED_BASE64, 'base64')).toString('latin1');
  const [main = '', aliases = ''] = text.split('\n\n');
  const out = new Map<string, number>();
  let cp = 0;
  for (const line of main.split('\n')) {
    const space = line.indexOf(' ');
    cp += Number.parseInt(line.slice(0, space), 16);
    out.set(line.slice(space + 1), cp);
  }
  for (const line of aliases.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) out.set(line.slice(space + 1), Number.parseInt(line.slice(0, space), 16));
  }
  names = out;
  return out;
}

// Hangul jamo short names (Unicode chapter 3.12), in CPython's table order.
const JAMO_L = [
  'G',
  'GG',
  'N',
  'D',
  'DD',
  'R',
  'M',
  'B',
  'BB',
  'S',
  'SS',
  '',
  'J',
  'JJ',
  'C',
  'K',
  'T',
  'P',
  'H',
];
const JAMO_V = [
  'A',
  'AE',
  'YA',
  'YAE',
  'EO',
  'E',
  'YEO',
  'YE',
  'O',
  'WA',
  'WAE',
  'OE',
  'YO',
  'U',
  'WEO',
  'WE',
  'WI',
  'YU',
  'EU',
  'YI',
  'I',
];
const JAMO_T = [
  '',
  'G',
  'GG',
  'GS',
  'N',
  'NJ',
  'NH',
  'D',
  'L',
  'LG',
  'LM',
  'LB',
  'LS',
  'LT',
  'LP',
  'LH',
  'M',
  'B',
  'BS',
  'S',
  'SS',
  'NG',
  'J',
  'C',
  'K',
  'T',
  'P',
  'H',
];

/** CPython's `find_syllable`: the longest short name that `s` starts with at `pos`. */
function syllable(s: string, pos: number, column: readonly string[]): [index: number, length: number] {
  let best = -1;
  let length = -1;
  column.forEach((name, i) => {
    if (name.length > length && s.startsWith(name, pos)) {
      best = i;
      length = name.length;
    }
  });
  return [best, length];
}

function hangul(name: string): number | null {
  let pos = 'HANGUL SYLLABLE '.length;
  const [l, ll] = syllable(name, pos, JAMO_L);
  pos += ll;
  const [v, vl] = syllable(name, pos, JAMO_V);
  pos += vl;
  const [t, tl] = syllable(name, pos, JAMO_T);
  pos += tl;
  if (l === -1 || v === -1 || t === -1 || pos !== name.length) return null;
  return 0xac00 + (l * 21 + v) * 28 + t;
}

function cjk(name: string): number | null {
  const digits = name.slice('CJK UNIFIED IDEOGRAPH-'.length);
  if (!/^[0-9A-F]{4,5}$/.test(digits)) return null;
  const v = Number.parseInt(digits, 16);
  return has(decodeRanges(CJK_UNIFIED), v) ? v : null;
}

/** The code point named `name`, or null where `unicodedata.lookup` raises or gives a sequence. */
export function lookupName(name: string): number | null {
  if (name.startsWith('HANGUL SYLLABLE ')) return hangul(name);
  if (name.startsWith('CJK UNIFIED IDEOGRAPH-')) return cjk(name);
  if (name.length > 256 || !/^[\x20-\x7e]*$/.test(name)) return null;
  return table().get(name.replace(/[a-z]/g, (ch) => ch.toUpperCase())) ?? null;
}
