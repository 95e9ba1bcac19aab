// The download progress bar of `-o` / `--download` (docs/api.md section 14):
// percentage, bar, size, rate and ETA, redrawn in place at most ten times a
// second on a terminal, then replaced by one summary line. Only created when
// stderr is a terminal, so nothing of it ever reaches a pipe or a log file.

export interface ProgressOutput {
  write(text: string): unknown;
  columns?: number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatSize(bytes: number): string {
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < UNITS.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${UNITS[u]}`;
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class ProgressBar {
  private received = 0;
  private lastDraw = 0;
  private readonly started: number;

  constructor(
    private readonly out: ProgressOutput,
    private readonly total: number | null,
    private readonly label: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
    this.draw();
  }

  update(chunkBytes: number): void {
    this.received += chunkBytes;
    const t = this.now();
    if (t - this.lastDraw >= 100) this.draw();
  }

  /** Replaces the bar by a summary line. */
  finish(): void {
    const secs = (this.now() - this.started) / 1000;
    const rate = secs > 0 ? this.received / secs : 0;
    this.out.write(
      `\r\x1b[K${this.label}: ${formatSize(this.received)} in ${secs.toFixed(1)} s (${formatSize(Math.round(rate))}/s)\n`,
    );
  }

  /** Leaves the bar where it stopped, on its own line (the error follows). */
  abort(): void {
    this.draw();
    this.out.write('\n');
  }

  private draw(): void {
    this.lastDraw = this.now();
    const secs = (this.lastDraw - this.started) / 1000;
    const rate = secs > 0.05 ? this.received / secs : 0;
    const rateText = `${formatSize(Math.round(rate))}/s`;
    const width = Math.max(40, this.out.columns ?? 80);
    let line: string;
    if (this.total !== null && this.total > 0) {
      const frac = Math.min(1, this.received / this.total);
      const eta = rate > 0 ? formatDuration((this.total - this.received) / rate) : '--:--';
      const tail = ` ${formatSize(this.received)} / ${formatSize(this.total)}  ${rateText}  ETA ${eta}`;
      const head = `${String(Math.floor(frac * 100)).padStart(3)}% `;
      const barWidth = Math.max(10, width - head.length - tail.length - 3);
      const filled = Math.floor(frac * barWidth);
      const bar =
        '='.repeat(filled) + (filled < barWidth ? '>' : '') + ' '.repeat(Math.max(0, barWidth - filled - 1));
      line = `${head}[${bar}]${tail}`;
    } else {
      line = `${formatSize(this.received)}  ${rateText}`;
    }
    this.out.write(`\r\x1b[K${line.slice(0, width - 1)}`);
  }
}
