// The bench's knobs: BENCH_* environment variables read as numbers and lists.

/** A positive number from `name`, or `def` when it is unset or empty. */
export function envInt(name, def) {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
}

/** A comma-separated list from `name`, or `def` when it is unset or blank. */
export function envList(name, def) {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return def;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
