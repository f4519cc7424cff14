/**
 * `re._parser.Tokenizer` for a str pattern: tokens are one code point, or a backslash and the code
 * point after it. Positions count code points, as Python's do.
 */
import { PyreError } from './errors.js';

export class Tokenizer {
  readonly chars: readonly string[];
  index = 0;
  next: string | null = null;
  private nextLength = 0;

  constructor(pattern: string) {
    this.chars = Array.from(pattern);
    this.advance();
  }

  private advance(): void {
    let index = this.index;
    const first = this.chars[index];
    if (first === undefined) {
      this.next = null;
      this.nextLength = 0;
      return;
    }
    let token = first;
    if (first === '\\') {
      index += 1;
      const second = this.chars[index];
      if (second === undefined) {
        throw PyreError.python('bad escape (end of pattern)', this.chars, this.chars.length - 1);
      }
      token += second;
    }
    this.index = index + 1;
    this.next = token;
    this.nextLength = token === first ? 1 : 2;
  }

  match(token: string): boolean {
    if (token === this.next) {
      this.advance();
      return true;
    }
    return false;
  }

  get(): string | null {
    const token = this.next;
    this.advance();
    return token;
  }

  getwhile(n: number, charset: ReadonlySet<string>): string {
    let result = '';
    for (let k = 0; k < n; k++) {
      const c = this.next;
      if (c === null || !charset.has(c)) break;
      result += c;
      this.advance();
    }
    return result;
  }

  getuntil(terminator: string, name: string): string {
    let result = '';
    for (;;) {
      const c = this.next;
      this.advance();
      if (c === null) {
        if (!result) throw this.error(`missing ${name}`);
        throw this.error(`missing ${terminator}, unterminated name`, cpLength(result));
      }
      if (c === terminator) {
        if (!result) throw this.error(`missing ${name}`, 1);
        break;
      }
      result += c;
    }
    return result;
  }

  tell(): number {
    return this.index - this.nextLength;
  }

  seek(index: number): void {
    this.index = index;
    this.advance();
  }

  error(msg: string, offset = 0): PyreError {
    return PyreError.python(msg, this.chars, this.tell() - offset);
  }
}

/** Python's `len()` of a str. */
export function cpLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
