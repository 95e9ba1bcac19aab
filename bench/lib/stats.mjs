// Medians and the per-round ratios every workload's table shows.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** The median, or null when there is nothing to take it of. */
export const medianOrNull = (xs) => (xs.length === 0 ? null : median(xs));

/**
 * Medians per client, and ratios to the baselines. A ratio is the median of
 * the per-round ratios (client and baseline ran back to back in the same
 * round), which drifts less than the ratio of two medians when the machine's
 * speed changes during the run.
 */
export function summarise(rows, key, baselineNames) {
  const ok = (r) => r !== undefined && r.error === undefined;
  for (const row of rows) {
    const values = row.rounds.filter(ok).map((r) => r[key]);
    row.median = values.length > 0 ? median(values) : null;
    row.min = values.length > 0 ? Math.min(...values) : null;
    row.max = values.length > 0 ? Math.max(...values) : null;
    const cpu = row.rounds
      .filter((r) => ok(r) && typeof r.cpuUsPerReq === 'number')
      .map((r) => r.cpuUsPerReq);
    row.cpuUsPerReq = cpu.length > 0 ? median(cpu) : null;
  }
  for (const row of rows) {
    for (const [field, name] of Object.entries(baselineNames)) {
      const base = rows.find((r) => r.client === name);
      const ratios = [];
      if (base !== undefined) {
        for (let i = 0; i < row.rounds.length; i++) {
          const a = row.rounds[i];
          const b = base.rounds[i];
          if (ok(a) && ok(b) && b[key] > 0) ratios.push(a[key] / b[key]);
        }
      }
      row[field] = ratios.length > 0 ? median(ratios) : null;
    }
  }
}
