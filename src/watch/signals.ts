/**
 * Stop signals for a run or a watch session: the first SIGINT, SIGTERM or SIGHUP asks for a clean stop,
 * a second one for an immediate one (the session's crash safety covers a batch cut short).
 * SIGTERM cannot be listened to on Windows, where only SIGINT (Ctrl-C) and SIGBREAK are.
 * `dispose()` removes the listeners; nothing else is left behind.
 */

export interface StopSignals {
  dispose(): void;
}

export function listenForStop(
  onStop: (signal: Deno.Signal) => void,
  onForce: (signal: Deno.Signal) => void,
): StopSignals {
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM", "SIGHUP"]; // SIGHUP: the terminal it ran in was closed
  let received = 0;
  const listeners = signals.map((signal) => {
    const listener = () => (++received === 1 ? onStop(signal) : onForce(signal));
    Deno.addSignalListener(signal, listener);
    return { signal, listener };
  });
  return {
    dispose() {
      for (const { signal, listener } of listeners) Deno.removeSignalListener(signal, listener);
    },
  };
}

/** 128 + the signal's number, as a shell reports a process a signal ended. */
export function signalExitCode(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = { SIGHUP: 1, SIGTERM: 15, SIGBREAK: 21 };
  return 128 + (numbers[signal] ?? 2);
}
