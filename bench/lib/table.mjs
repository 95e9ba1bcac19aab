// Markdown tables and number formats shared by every workload's renderer.

export const fmtInt = (n) => (n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
export const fmtRatio = (n) => (n === null || n === undefined ? '-' : n.toFixed(2));
export const fmtFixed = (n, digits = 1) => (n === null || n === undefined ? '-' : n.toFixed(digits));
/** Half of max - min, relative to the median. */
export const fmtSpread = (row) =>
  row.median ? `±${((100 * (row.max - row.min)) / 2 / row.median).toFixed(0)}%` : '-';

/** The first three cells of a client's row: its name, its median ('error' when it could not be set up) and the spread. */
export const leadCells = (row) => [row.client, row.setupError ? 'error' : fmtInt(row.median), fmtSpread(row)];

/** A workload's section: the heading line, the table, and the notes below it (if any). */
export const section = (head, body, notes) =>
  `${head}\n${body}${notes.length > 0 ? `\n\n${notes.join('\n')}` : ''}`;

/** A Markdown table: first column left-aligned, the others right-aligned. */
export function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(headers), sep, ...rows.map(line)].join('\n');
}
