// The `json` request option: a value serialised as compact UTF-8 JSON, as
// urllib3 sends it (json.dumps with compact separators, non-ASCII kept).
//
// Only serialisation lives here; the Content-Type default
// (application/json) is set by the caller that builds the request.

/**
 * `JSON.stringify(value)` as UTF-8 bytes. Values JSON cannot represent are a
 * TypeError here, before any I/O: `undefined`, a function or a symbol at the
 * top level (JSON.stringify would return nothing), a BigInt anywhere, and
 * circular structures.
 */
export function encodeJson(value: unknown): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    if (error instanceof TypeError && /bigint/i.test(error.message)) {
      throw new TypeError(
        'json: a BigInt cannot be serialised to JSON; convert it to a number or a string first ' +
          '(or give it a toJSON method)',
        { cause: error },
      );
    }
    if (error instanceof TypeError) {
      throw new TypeError(`json: value cannot be serialised to JSON: ${error.message}`, { cause: error });
    }
    throw error;
  }
  if (text === undefined) {
    throw new TypeError(`json: ${describeTopLevel(value)} cannot be serialised to JSON`);
  }
  return Buffer.from(text, 'utf8');
}

function describeTopLevel(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  return `a value of type ${typeof value}`;
}
