// Strict options objects (docs/api.md section 0): a key the callee does not know is
// a TypeError at the call, so a typo such as `{ retry: 3 }` for `retries`
// fails loudly instead of being ignored.
//
// This module only checks key names; each caller validates the values.

/** Builds the set of accepted option names once, at module load. */
export function optionSet(...names: string[]): ReadonlySet<string> {
  return new Set(names);
}

/**
 * Base class of the options objects the library builds itself, from options
 * it has already checked, to hand them from one layer to the next (request()
 * to urlopen(), the PoolManager to its pool): their keys are known by
 * construction, so checkOptions() passes them without looking at each key
 * again. It is internal (not exported by the package), so a caller's own
 * object is never one of them and is always checked.
 */
export abstract class CheckedOptions {}

/**
 * Throws `TypeError("<where>: unknown option 'x'")` for the first own
 * enumerable key of `options` not in `allowed`. `undefined` and `null` pass,
 * and so does a CheckedOptions (built by the library from checked options);
 * a non-object is a TypeError too, since destructuring it would hide the bug.
 */
export function checkOptions(where: string, options: object | undefined, allowed: ReadonlySet<string>): void {
  if (options === undefined || options === null || options instanceof CheckedOptions) return;
  if (typeof options !== 'object') {
    throw new TypeError(`${where}: options must be an object, got ${typeof options}`);
  }
  // for..in visits inherited enumerable keys too; the hasOwn test skips them
  // without building an array of keys, which keeps the hot path allocation-free.
  for (const key in options) {
    if (!allowed.has(key) && Object.hasOwn(options, key)) {
      throw new TypeError(`${where}: unknown option '${key}'`);
    }
  }
}
