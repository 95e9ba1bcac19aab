// The ratio chart of `npm run bench`: for each workload, urllib3-ts's ratio
// to its peers (undici, the raw loop, Python urllib3 ...), one horizontal
// bar each, with the target as a dashed line where there is one. A
// plain SVG built from strings, no dependency; run.mjs writes it next to the
// JSON (bench/results/ratios.svg) and `node bench/chart.mjs` redraws it from
// a results file.
//
// Input: results.workloads[i].chart = [{ label, value, target? }] (what each
// workload's `chart(result)` returned), plus results.date and machine.

const WIDTH = 960;
const LABEL_W = 250;
const PLOT_W = WIDTH - LABEL_W - 130;
const BAR_H = 16;
const BAR_GAP = 5;
const GROUP_GAP = 16;
const TITLE_H = 20;
const TOP = 78;

const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** The axis' end: the largest value or target, rounded up to a half, at least 2, at most 4. */
function axisMax(groups) {
  let m = 2;
  for (const g of groups) for (const b of g.bars) m = Math.max(m, b.value ?? 0, b.target ?? 0);
  return Math.min(4, Math.ceil(m * 2) / 2);
}

/**
 * groups: [{ id, title, bars: [{ label, value, target? }] }]; meta: { date,
 * subtitle }. Returns the SVG document as a string.
 */
export function ratioChartSvg(groups, meta = {}) {
  const shown = groups.filter((g) => g.bars.length > 0);
  const max = axisMax(shown);
  const x = (v) => LABEL_W + (Math.min(v, max) / max) * PLOT_W;
  let height = TOP;
  for (const g of shown) height += TITLE_H + g.bars.length * (BAR_H + BAR_GAP) + GROUP_GAP;
  height += 30;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">urllib3-ts: ratio to each peer, per workload (higher is better)</text>`,
    `<text x="16" y="44" fill="#555">${esc(meta.subtitle ?? '')}</text>`,
    `<text x="16" y="62" fill="#555">bar: median of the per-round ratios; dashed line: the target; green: met, red: not met, blue: no target</text>`,
  );
  // Grid: every 0.5, the 1.0 line darker.
  for (let v = 0; v <= max + 1e-9; v += 0.5) {
    const gx = x(v).toFixed(1);
    const strong = Math.abs(v - 1) < 1e-9;
    out.push(
      `<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${height - 26}" stroke="${strong ? '#888' : '#e3e3e3'}" stroke-width="${strong ? 1.5 : 1}"/>`,
      `<text x="${gx}" y="${height - 10}" text-anchor="middle" fill="#555">${v.toFixed(1)}x</text>`,
    );
  }
  let y = TOP;
  for (const g of shown) {
    out.push(`<text x="16" y="${y + 13}" font-weight="bold">${esc(g.title)}</text>`);
    y += TITLE_H;
    for (const b of g.bars) {
      const has = b.value !== null && b.value !== undefined && Number.isFinite(b.value);
      const met = b.target === undefined || b.target === null ? null : has && b.value >= b.target;
      const color = met === null ? '#4a78c2' : met ? '#3c9a4a' : '#c8463c';
      const target = b.target === undefined || b.target === null ? '' : ` (target ${b.target})`;
      out.push(
        `<text x="${LABEL_W - 8}" y="${y + BAR_H - 4}" text-anchor="end">${esc(b.label + target)}</text>`,
      );
      if (has) {
        const w = Math.max(1, x(b.value) - LABEL_W);
        out.push(
          `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${color}"/>`,
          b.value > max
            ? `<text x="${(LABEL_W + w - 4).toFixed(1)}" y="${y + BAR_H - 4}" text-anchor="end" fill="#ffffff" font-weight="bold">${b.value.toFixed(2)} (beyond the axis)</text>`
            : `<text x="${(LABEL_W + w + 4).toFixed(1)}" y="${y + BAR_H - 4}">${b.value.toFixed(2)}</text>`,
        );
      } else {
        out.push(`<text x="${LABEL_W + 4}" y="${y + BAR_H - 4}" fill="#999">not measured</text>`);
      }
      if (b.target !== undefined && b.target !== null) {
        const tx = x(b.target).toFixed(1);
        out.push(
          `<line x1="${tx}" y1="${y - 2}" x2="${tx}" y2="${y + BAR_H + 2}" stroke="#222" stroke-width="2" stroke-dasharray="3,2"/>`,
        );
      }
      y += BAR_H + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The chart of a results object (bench/results/latest.json). */
export function resultsChartSvg(results) {
  const groups = (results.workloads ?? [])
    .filter((w) => Array.isArray(w.chart))
    .map((w) => {
      const title = `${w.id}: ${w.chartTitle ?? w.title}`;
      return { id: w.id, title: title.length > 120 ? `${title.slice(0, 117)}...` : title, bars: w.chart };
    });
  const m = results.machine ?? {};
  const subtitle = [
    results.date ? `npm run bench, ${results.date.slice(0, 10)}` : null,
    m.cpu ? `${m.cpu}, ${m.cores} cores` : null,
    m.node ? `Node ${m.node}` : null,
    m.server ? `server ${m.server}` : null,
    results.disturbedRuns !== undefined ? `${results.disturbedRuns} of ${results.runs} runs disturbed` : null,
  ]
    .filter(Boolean)
    .join('; ');
  return ratioChartSvg(groups, { subtitle });
}
