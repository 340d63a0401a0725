/**
 * Standard output and error, written so that failing to write them never stops the work
 * they report on. On standard output, the reader gone (`| head -1`) drops the rest
 * quietly, as `console.log` does; any other failure (a full disk behind `> file`,
 * `/dev/full`, a descriptor closed) is remembered and the rest dropped, and `main` ends the
 * command with one line on stderr naming it and at least exit code 1: a run's backup, a
 * restore's files, are finished all the same. What cannot be written to standard error
 * (a full disk behind `2>> file`) is dropped: nothing is left to say it on, and the exit
 * code stands. A full non-blocking pipe drains. Nothing is kept, so an interruption leaves
 * nothing.
 */
import { sleepSync } from "../engine/sleep_sync.ts";

/** How long to wait for a full non-blocking pipe to drain before writing again. */
const WOULD_BLOCK_PAUSE_MS = 2;

export class Output {
  /** Why writing failed, once it did (the reader going away is no failure). */
  failure: unknown;
  #readerGone = false;
  readonly #encoder = new TextEncoder();

  /**
   * Whether the reader went away (`| head -1`): a listing that only reads (`ls`) stops
   * there; work that writes (a run, a restore) goes on.
   */
  get readerGone(): boolean {
    return this.#readerGone;
  }

  constructor(
    readonly out: { writeSync(p: Uint8Array): number },
    /** Whether a failed write drops every later one too (else only the line it was in). */
    readonly sticky = true,
  ) {}

  /** `text` and a newline, as `console.log(text)` writes it. */
  line(text: string): void {
    if (!this.sticky) this.failure = undefined;
    this.write(this.#encoder.encode(`${text}\n`));
  }

  write(bytes: Uint8Array): void {
    while (bytes.length > 0 && !this.#readerGone && this.failure === undefined) {
      try {
        bytes = bytes.subarray(this.out.writeSync(bytes));
      } catch (e) {
        if (e instanceof Deno.errors.BrokenPipe) this.#readerGone = true;
        // A full pipe left non-blocking by whoever set up stdout: it drains.
        else if (e instanceof Deno.errors.WouldBlock) sleepSync(WOULD_BLOCK_PAUSE_MS);
        else this.failure = e;
      }
    }
  }
}

/** The process's standard output. */
export const stdout = new Output(Deno.stdout);

/** One line on standard output (see the module's comment). */
export function say(text: string): void {
  stdout.line(text);
}

/** The process's standard error: what cannot be written there is dropped (see above). */
const stderr = new Output(Deno.stderr, false);

/** One line on standard error: a problem, a warning, a note. */
export function warn(text: string): void {
  stderr.line(text);
}
