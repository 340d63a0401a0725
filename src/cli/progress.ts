/**
 * A live progress line on stderr while a pass runs (`run`, `plan`):
 *
 *   Backing up  1204/5310 files  1.2 GiB/4.0 GiB  85.3 MiB/s  ETA 0:34  photos/img_0001.jpg
 *
 * `update` is called synchronously from the work loop (hashing blocks the event loop, so
 * a timer would never fire); it redraws at most every REDRAW_MS. Each draw returns the
 * cursor with `\r` and pads over the previous line with spaces, so no escape sequence is
 * needed and nothing but colours depends on the terminal. The line is cut to the terminal
 * width, shortening the current path from the left. `done` erases the line. A disabled
 * reporter (stderr not a terminal, or --quiet) does nothing at all.
 */
import { formatBytes } from "../core/format_bytes.ts";
import type { Progress } from "../engine/pass_types.ts";
import { isTerminal, type Style, styleFor } from "./style.ts";

/** At most 10 redraws a second: smooth to the eye, negligible cost on huge trees. */
const REDRAW_MS = 100;
/** Rate and ETA are shown once this much time has passed; earlier they are noise. */
const RATE_AFTER_MS = 1000;
/** Width assumed when the terminal size cannot be read. */
const DEFAULT_COLUMNS = 80;

interface ProgressReporter {
  update(p: Progress): void;
  /** Erases the line; call before printing the summary (also on failure). */
  done(): void;
}

interface ProgressOptions {
  /** Shown first, e.g. "Backing up". */
  label: string;
  /** Usually `progressEnabled(quiet)`. */
  enabled: boolean;
  /** For tests: where text goes, the clock, the width and the style. */
  write?: (text: string) => void;
  now?: () => number;
  columns?: () => number;
  style?: Style;
}

/** Whether a progress line should be shown: stderr is a terminal and not --quiet. */
export function progressEnabled(quiet: boolean): boolean {
  return !quiet && isTerminal("stderr");
}

/** Runs `work` with a live progress line (when enabled), erased when the work ends. */
export async function withProgress<T>(
  label: string,
  quiet: boolean,
  work: (onProgress: (p: Progress) => void) => Promise<T>,
): Promise<T> {
  const progress = createProgress({ label, enabled: progressEnabled(quiet) });
  try {
    return await work((p) => progress.update(p));
  } finally {
    progress.done();
  }
}

export function createProgress(opts: ProgressOptions): ProgressReporter {
  if (!opts.enabled) return { update() {}, done() {} };
  const write = opts.write ?? writeStderr;
  const now = opts.now ?? (() => performance.now());
  const columns = opts.columns ?? terminalColumns;
  const style = opts.style ?? styleFor("stderr");
  const started = now();
  let lastDraw = -Infinity;
  let shown = 0;
  return {
    update(p) {
      const t = now();
      if (t - lastDraw < REDRAW_MS && p.filesDone < p.filesTotal) return;
      lastDraw = t;
      const width = Math.max(20, columns() - 1); // - 1: never touch the last column (wraps)
      const line = progressLine(opts.label, p, t - started, width);
      write(`\r${paint(line, opts.label, style)}${" ".repeat(Math.max(0, shown - line.length))}`);
      shown = line.length;
    },
    done() {
      if (shown > 0) write(`\r${" ".repeat(shown)}\r`);
      shown = 0;
    },
  };
}

/** The plain text of the line (no colours), at most `width` characters. */
export function progressLine(
  label: string,
  p: Progress,
  elapsedMs: number,
  width: number,
): string {
  const parts = [label, `${p.filesDone}/${p.filesTotal} files`];
  if (p.bytesTotal > 0) parts.push(`${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}`);
  if (elapsedMs >= RATE_AFTER_MS) {
    const seconds = elapsedMs / 1000;
    parts.push(
      p.bytesTotal > 0
        ? `${formatBytes(p.bytesDone / seconds)}/s`
        : `${Math.round(p.filesDone / seconds)} files/s`,
    );
    const eta = etaMs(p, elapsedMs);
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  }
  const head = parts.join("  ");
  if (head.length >= width) return head.slice(0, width);
  const room = width - head.length - 2;
  return room < 4 ? head : `${head}  ${shorten(printable(p.current), room)}`;
}

/** Remaining time from the fraction done (bytes when there are bytes to read, else files). */
export function etaMs(p: Progress, elapsedMs: number): number | undefined {
  const [done, total] = p.bytesTotal > 0
    ? [p.bytesDone, p.bytesTotal]
    : [p.filesDone, p.filesTotal];
  if (done <= 0 || total <= 0) return undefined;
  return Math.max(0, elapsedMs * (total - done) / done);
}

/** `m:ss`, or `h:mm:ss` from an hour on. */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Keeps the end of a path (the file name matters most), marking the cut with "…". */
export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}

/** Control characters (a newline in a file name) would break the line: shown as "?". */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, "?");
}

function paint(line: string, label: string, style: Style): string {
  return line.startsWith(label) ? style.cyan(label) + line.slice(label.length) : line;
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || DEFAULT_COLUMNS;
  } catch {
    return DEFAULT_COLUMNS;
  }
}

const encoder = new TextEncoder();

function writeStderr(text: string): void {
  const data = encoder.encode(text);
  try {
    for (let off = 0; off < data.length;) off += Deno.stderr.writeSync(data.subarray(off));
  } catch {
    // A closed or broken terminal must not fail the backup itself.
  }
}
