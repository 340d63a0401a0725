/**
 * How `run` and `restore` answer stop signals: the first SIGINT, SIGTERM or SIGHUP asks
 * for a clean stop (said on stderr; the command ends after the batch in progress and exits
 * 128 + the signal's number), a second one ends the process at once. `dispose()` removes
 * the listeners.
 */
import { warn } from "./stdout.ts";
import { listenForStop, signalExitCode } from "../watch/signals.ts";

interface GracefulStop {
  /** Aborted by the first signal. */
  readonly signal: AbortSignal;
  /** The exit code for a stop the first signal asked for, if one came. */
  exitCode(): number | undefined;
  dispose(): void;
}

/**
 * `atOnce`: what a stop at once leaves, and what to do about it; `when`: when the command
 * stops (`verify --repair` has no batches: it stops between two blocks read).
 */
export function stopGracefully(
  atOnce: string,
  when = "after the batch in progress",
): GracefulStop {
  const stop = new AbortController();
  let first: Deno.Signal | undefined;
  const listeners = listenForStop((signal) => {
    first = signal;
    stop.abort();
    warn(
      `Stopping ${when} (${signal}); a second signal stops at once`,
    );
  }, (signal) => {
    warn(`Stopping at once: ${atOnce}`);
    Deno.exit(signalExitCode(signal));
  });
  return {
    signal: stop.signal,
    exitCode: () => first === undefined ? undefined : signalExitCode(first),
    dispose: () => listeners.dispose(),
  };
}
