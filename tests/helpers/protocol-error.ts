import { ProtocolError } from '../../src/protocol/v1/errors.js';

/** The catalogue code `fn` throws, null when it does not throw (and a telling string for any other exception). */
export function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof ProtocolError ? err.code : `not a ProtocolError: ${String(err)}`;
  }
}
