/**
 * Keeps a signal from opening Deno's debugger. Since Deno 2.9.2, as in Node, a process that
 * receives SIGUSR1 starts V8's inspector server on 127.0.0.1:9229: any local user may then
 * connect to it and run code with this process's rights (root, for many scheduled backups),
 * say after a log-rotation script sent SIGUSR1 to every process of a name. Deno has no
 * switch for it (Node has `--disable-sigusr1`); it installs its handler about 500 ms after
 * it starts, process-wide. This sets SIGUSR1 to be ignored through the C library, at
 * growing intervals from START_MS, until a call finds Deno's handler in place and replaces
 * it (one that finds the default action or "ignore" was made before Deno's arrived), then
 * stops. A command over sooner never looks (its timer does not hold it open). Linux (glibc)
 * and macOS; elsewhere (Windows has no SIGUSR1), or without FFI, it does nothing. Nothing
 * is written: an interruption leaves nothing.
 */

/** The C library, and SIGUSR1's number there, by system. */
const SYSTEMS: Partial<Record<typeof Deno.build.os, { path: string; sigusr1: number }>> = {
  linux: { path: "libc.so.6", sigusr1: 10 },
  darwin: { path: "/usr/lib/libSystem.B.dylib", sigusr1: 30 },
};

/** signal(2)'s SIG_DFL and SIG_IGN, the same on both systems. */
const SIG_DFL = 0n;
const SIG_IGN = 1n;

/**
 * 600 ms: just after Deno's 500 ms grace period, counted from its own start (before this
 * module runs); each later look waits twice as long, up to MAX_MS, should a busy machine
 * have delayed Deno's handler.
 */
const START_MS = 600;
const MAX_MS = 60_000;

/** Ignores SIGUSR1 once Deno has put its handler in place; see the module's comment. */
export function refuseDebuggerSignal(): void {
  const ignore = bindSignal();
  if (ignore === undefined) return;
  const look = (wait: number) => {
    const timer = setTimeout(() => {
      const before = ignore();
      // SIG_ERR, or Deno's handler not there yet: looked at again.
      if (before === SIG_DFL || before === SIG_IGN || before < 0n) {
        look(Math.min(wait * 2, MAX_MS));
      }
    }, wait);
    Deno.unrefTimer(timer);
  };
  look(START_MS);
}

/** A call that sets SIGUSR1 to "ignore" and gives what was there; undefined where none binds. */
function bindSignal(): (() => bigint) | undefined {
  const system = SYSTEMS[Deno.build.os];
  if (system === undefined) return undefined;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  try {
    const lib = Deno.dlopen(system.path, {
      signal: { parameters: ["i32", "u64"], result: "i64" },
    });
    return () => BigInt(lib.symbols.signal(system.sigusr1, SIG_IGN));
  } catch {
    return undefined; // another C library
  }
}
