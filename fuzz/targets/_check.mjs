/**
 * What every fuzz target asserts besides "no crash, no hang": a failure is one of the library's
 * typed errors (or the few typed errors of an internal helper that its callers translate), and a
 * message never carries a raw control character, line break or bidi control (issue 11 item 10).
 * Anything else is rethrown, which Jazzer.js reports as a finding and saves as a crash file.
 */
import net from 'node:net';
import { isAirflowSecretsError } from '../../dist/errors.js';

// No target may open a socket: any attempt is a finding.
net.Socket.prototype.connect = () => {
  throw new Error('fuzz target tried to open a network connection');
};

const RAW =
  /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function checkMessage(e) {
  const multiline = e.name === 'SecretFileError' && e.airflowError === 'AirflowFileParseException';
  if (RAW.test(e.message) || (!multiline && e.message.includes('\n'))) {
    throw new Error(`unescaped text in a ${e.name} message`);
  }
}

/** Run `fn`; a typed error (or one whose name is in `allowed`) is fine, anything else is rethrown. */
export function typed(fn, allowed = []) {
  try {
    return fn();
  } catch (e) {
    if (isAirflowSecretsError(e)) {
      checkMessage(e);
      return undefined;
    }
    if (e instanceof Error && allowed.includes(e.name)) return undefined;
    throw e;
  }
}

export async function typedAsync(fn, allowed = []) {
  try {
    return await fn();
  } catch (e) {
    if (isAirflowSecretsError(e)) {
      checkMessage(e);
      return undefined;
    }
    if (e instanceof Error && allowed.includes(e.name)) return undefined;
    throw e;
  }
}
