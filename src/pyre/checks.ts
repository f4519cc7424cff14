/**
 * The errors CPython 3.11 raises while compiling a parsed pattern (`_compiler._compile`), in the
 * order it meets them: any repeat under the TEMPLATE flag, and look-behinds that are not of fixed
 * width (or too wide).
 */
import { combineFlags, FLAG, isRepeat, MAXCODE, type Sub } from './ast.js';
import { PyreError } from './errors.js';
import { getwidth, type State } from './parser.js';

export function pythonCompileChecks(sub: Sub, flags: number, state: State): void {
  for (const n of sub.nodes) {
    if (isRepeat(n)) {
      if (flags & FLAG.TEMPLATE) {
        throw PyreError.python(`internal: unsupported template operator ${n.op}`, null, null);
      }
      pythonCompileChecks(n.item, flags, state);
    } else if (n.op === 'SUBPATTERN') pythonCompileChecks(n.p, combineFlags(flags, n.add, n.del), state);
    else if (n.op === 'ATOMIC_GROUP') pythonCompileChecks(n.p, flags, state);
    else if (n.op === 'ASSERT' || n.op === 'ASSERT_NOT') {
      if (n.dir < 0) {
        const [lo, hi] = getwidth(n.p, state);
        if (lo > MAXCODE) throw PyreError.python('looks too much behind', null, null);
        if (lo !== hi) throw PyreError.python('look-behind requires fixed-width pattern', null, null);
      }
      pythonCompileChecks(n.p, flags, state);
    } else if (n.op === 'BRANCH') for (const alt of n.items) pythonCompileChecks(alt, flags, state);
    else if (n.op === 'GROUPREF_EXISTS') {
      pythonCompileChecks(n.yes, flags, state);
      if (n.no) pythonCompileChecks(n.no, flags, state);
    }
  }
}
