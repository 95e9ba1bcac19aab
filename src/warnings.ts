// Security warnings (docs/api.md section 0): emitted with process.emitWarning and
// a `type` naming urllib3's warning class (InsecureRequestWarning ...), so
// `process.on('warning')` and `--no-warnings` work as for Node's own.
// disableWarnings() turns them off, all of them or one type.

let allDisabled = false;
const disabledTypes = new Set<string>();
const seen = new Set<string>();

/**
 * Stop emitting urllib3-ts warnings: all of them, or only those of one type
 * (urllib3's `disable_warnings(InsecureRequestWarning)` is
 * `disableWarnings('InsecureRequestWarning')`).
 */
export function disableWarnings(category?: string): void {
  if (category === undefined) allDisabled = true;
  else disabledTypes.add(category);
}

/** Emit `message` once per `key` as a warning of `type`. */
export function warnOnce(type: string, key: string, message: string): void {
  if (allDisabled || disabledTypes.has(type)) return;
  const k = `${type}\u0000${key}`;
  if (seen.has(k)) return;
  seen.add(k);
  process.emitWarning(message, { type });
}
