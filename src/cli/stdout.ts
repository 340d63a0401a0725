/**
 * Standard output and error, written so that failing to write them never stops the work
 * they report on. On standard output, the reader gone (`| head -1`, or a terminal that was
 * closed: it answers EIO once hung up) drops the rest quietly, as `console.log` does; any
 * other failure (a full disk behind `> file`, `/dev/full`, a descriptor closed) is
 * remembered and the rest dropped, and `main` ends the command with one line on stderr
 * naming it and at least exit code 1: a run's backup, a restore's files, are finished all
 * the same. What cannot be written to standard error (a full disk behind `2>> file`) is
 * dropped: nothing is left to say it on, and the exit code stands. A full non-blocking pipe
 * drains. Nothing is kept, so an interruption leaves nothing.
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
    readonly out: { writeSync(p: Uint8Array): number; isTerminal?(): boolean },
    /** Whether a failed write drops every later one too (else only the line it was in). */
    readonly sticky = true,
  ) {
    try {
      this.#terminal = out.isTerminal?.() ?? false;
    } catch {
      this.#terminal = false;
    }
  }

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
        if (e instanceof Deno.errors.BrokenPipe || this.#hungUp(e)) this.#readerGone = true;
        // A full pipe left non-blocking by whoever set up stdout: it drains.
        else if (e instanceof Deno.errors.WouldBlock) sleepSync(WOULD_BLOCK_PAUSE_MS);
        else this.failure = e;
      }
    }
  }

  /**
   * A terminal hung up (its window closed, an ssh session dropped: SIGHUP comes with it)
   * answers every write with EIO, on Linux and macOS alike (5): no one reads it any more,
   * as with a pipe whose reader left. EIO from a file (a failing disk) is a failure.
   */
  #hungUp(e: unknown): boolean {
    if (Deno.build.os === "windows" || !(e instanceof Error)) return false;
    if (!/\(os error 5\)$/.test(e.message)) return false;
    return this.#terminal;
  }

  /** Looked at before any write: a terminal hung up is no longer one to isatty. */
  readonly #terminal: boolean;
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
