/**
 * The one error the translator throws. Callers (the adapters) wrap it in a `ConfigurationError`
 * naming the setting. The message names the construct and its position in the pattern (counted in
 * code points, as Python counts), never the whole pattern.
 */

/**
 * - `invalid`: Python 3.11's `re` refuses the pattern too; `pythonType` and `pythonMessage` are
 *   what it raises (`re.error`, `OverflowError` or `ValueError`, message without the position).
 * - `unsupported`: Python accepts it, but it has no JavaScript equivalent here; `construct` names it.
 */
export type PyreErrorKind = 'invalid' | 'unsupported';

export class PyreError extends Error {
  override name = 'PyreError' as const;
  readonly kind: PyreErrorKind;
  /** Position in the pattern, in code points (Python's `error.pos`), when there is one. */
  readonly position: number | null;
  /** For `invalid`: the Python exception type. */
  readonly pythonType: 'error' | 'OverflowError' | 'ValueError' | null;
  /** For `invalid`: Python's message (`error.msg`). */
  readonly pythonMessage: string | null;
  /** For `unsupported`: the construct, e.g. "conditional group `(?(…)…)`". */
  readonly construct: string | null;

  private constructor(
    kind: PyreErrorKind,
    message: string,
    fields: {
      position: number | null;
      pythonType?: PyreError['pythonType'];
      pythonMessage?: string;
      construct?: string;
    },
  ) {
    super(message);
    this.kind = kind;
    this.position = fields.position;
    this.pythonType = fields.pythonType ?? null;
    this.pythonMessage = fields.pythonMessage ?? null;
    this.construct = fields.construct ?? null;
  }

  /** Python refuses the pattern: `re.error(msg, pattern, pos)` and its text. */
  static python(msg: string, pattern: readonly string[] | null, pos: number | null): PyreError {
    return new PyreError('invalid', `invalid Python regular expression: ${withPosition(msg, pattern, pos)}`, {
      position: pos,
      pythonType: 'error',
      pythonMessage: msg,
    });
  }

  /** Python raises another exception type while compiling (no position). */
  static pythonOther(type: 'OverflowError' | 'ValueError', msg: string): PyreError {
    return new PyreError('invalid', `invalid Python regular expression: ${msg}`, {
      position: null,
      pythonType: type,
      pythonMessage: msg,
    });
  }

  /** Python accepts the pattern, but `construct` at `pos` has no JavaScript equivalent. */
  static unsupported(construct: string, pos: number | null, why: string): PyreError {
    const at = pos === null ? '' : ` at position ${pos}`;
    return new PyreError('unsupported', `${construct}${at} has no JavaScript equivalent: ${why}`, {
      position: pos,
      construct,
    });
  }
}

/** `re.error`'s text: "msg at position N", plus "(line L, column C)" when the pattern has a newline. */
function withPosition(msg: string, pattern: readonly string[] | null, pos: number | null): string {
  if (pos === null) return msg;
  let text = `${msg} at position ${pos}`;
  if (pattern?.includes('\n')) {
    let line = 1;
    let lastNewline = -1;
    for (let i = 0; i < pos && i < pattern.length; i++) {
      if (pattern[i] === '\n') {
        line++;
        lastNewline = i;
      }
    }
    text += ` (line ${line}, column ${pos - lastNewline})`;
  }
  return text;
}

export function isPyreError(e: unknown): e is PyreError {
  return e instanceof PyreError;
}
