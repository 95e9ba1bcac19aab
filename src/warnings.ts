// Security warnings (API.md section 0): emitted with process.emitWarning and
// a `type` naming urllib3's warning class; disableWarnings() turns them off.

let enabled = true;
const seen = new Set<string>();

/** Stop emitting urllib3-ts warnings (all of them, or those of one type). */
export function disableWarnings(): void {
  enabled = false;
}

/** Emit `message` once per `key` as a warning of `type`. */
export function warnOnce(type: string, key: string, message: string): void {
  if (!enabled) return;
  const k = `${type}\u0000${key}`;
  if (seen.has(k)) return;
  seen.add(k);
  process.emitWarning(message, { type });
}
