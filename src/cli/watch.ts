/**
 * `watch`: a full pass, then continuous backup of what file system events name, until
 * SIGINT, SIGTERM or SIGHUP. Prints one line per applied batch (or, with --json, one JSON object
 * per line); per-file errors go to stderr. The session itself lives in src/watch/watch.ts.
 */
import { oneLine } from "../log/one_line.ts";
import { findConfigFile } from "../config/config.ts";
import { loadWatched } from "../watch/config_change.ts";
import type { Counts } from "../engine/pass_types.ts";
import { rereadLine } from "../core/describe.ts";
import { listenForStop, signalExitCode } from "../watch/signals.ts";
import { type BatchReport, STOPPED_FIRST } from "../watch/job_pass.ts";
import { startWatch, type WatchHandle } from "../watch/watch.ts";
import { flag, parseCommand, str, UsageError } from "./args.ts";
import { say, warn } from "./stdout.ts";
import { printConfigWarnings, printLeftLarge, sayOpenFilesRemedy } from "./summary.ts";
import { commandHint } from "../config/selection.ts";

const WATCH_HELP = `Usage: backup-tool watch [--config FILE] [--json] [--quiet]

Backs up every source once, then keeps following changes: new, modified, deleted and
renamed files are backed up once they have been quiet for watch.debounce_ms, in the same
way as 'run'. Everything is rescanned every watch.rescan_interval seconds (0: never) and
whenever the system reports that events were lost. The backup root stays locked while the
watch runs. An edit of the config (or of a file exclude_from lists) is applied within a
few seconds, followed by a full pass; one that does not load, or that changes backup_root
or log_dir, is warned about and the watch goes on as it was (one refused for a folder or
file it names that is missing is applied once that is there). Ctrl-C (SIGINT), SIGTERM or
SIGHUP (its terminal closed) stops it cleanly (exit 0) once the batch in progress ends; a
second signal, a moment later, stops it at once (the next run completes the interrupted
batch).

Options:
  --config FILE  Config file (default ./config.jsonc, then ./config.json)
  --json         Print one JSON object per line for each applied batch (time, full,
                 paths, counts, bytesCopied, errors, warnings, and where set reread,
                 leftLarge, deleteGuard, clockGuard, changing: files read again once
                 quiet, and stopped: true for a first pass a signal cut short) instead
                 of text
  --quiet, -q    Print nothing but errors, warnings and the notes of the session itself:
                 that backups work again after a warning that passes failed, and that
                 the config was edited (reloaded, or read again with nothing to apply)

Exit codes: 0 stopped by a signal, 1 it stopped by itself (its backup root was removed
or replaced, or Deno's watcher is held for good by a FIFO: it says why), could not
start ('Watch failed: ...': the backup disk full, say), or had problems and a full disk
kept its end from being recorded (it says so), 2 usage or configuration error
(nothing changed), 3 another run holds the backup root's lock;
130, 143 or 129: a second SIGINT, SIGTERM or SIGHUP stopped it at once.

Examples:
  backup-tool watch --config ~/backup.jsonc
  nohup backup-tool watch --config ~/backup.jsonc --quiet &
  deno task watch`;

export async function watchCommand(argv: string[]): Promise<number> {
  const p = parseCommand("watch", argv, { boolean: ["json", "quiet"] });
  if (flag(p, "help")) {
    say(WATCH_HELP);
    return 0;
  }
  if (p.positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument '${p.positionals[0]}' for 'watch': see 'watch --help'`,
    );
  }
  // The bytes this load parses are the config in use: an edit saved after it is applied.
  const { config, files } = loadWatched(findConfigFile(str(p, "config"), Deno.cwd()));
  printConfigWarnings(config);
  const out: Output = { json: flag(p, "json"), quiet: flag(p, "quiet") };
  return await runUntilStopped(
    () =>
      startWatch(config, {
        files,
        onBatch: (b) => report(b, out),
        onWarning: (m) => warn(oneLine(`WARNING: ${m}`)),
        onNote: (m) => warn(oneLine(`NOTE: ${m}`)),
        onUnstored: (u) => warn(oneLine(`ERROR: ${u.path}: ${u.message}`)),
      }),
    out,
  );
}

interface Output {
  json: boolean;
  quiet: boolean;
}

/** Starts the session and waits until a signal has stopped it; signals are heard from the start. */
async function runUntilStopped(start: () => Promise<WatchHandle>, out: Output): Promise<number> {
  let handle: WatchHandle | undefined;
  let requested = false;
  // A failure to stop is reported through `done`, awaited below.
  const stop = () => handle?.stop().catch(() => {});
  const signals = listenForStop(() => {
    requested = true;
    if (!out.quiet && !out.json) {
      say(`${clock(new Date())} stopping after the pass in progress`);
    }
    stop();
  }, (signal) => {
    warn("Stopping at once: the next run completes the interrupted batch");
    Deno.exit(signalExitCode(signal)); // as a shell reports a process that signal ended
  });
  try {
    handle = await start();
    if (requested) stop();
    const { logFile } = handle;
    handle.ready.then(() => {
      if (out.quiet || out.json || requested) return;
      say(`${clock(new Date())} watching; log: ${logFile}; Ctrl-C stops`);
    });
    const totals = await handle.done;
    // Said as a warning already.
    return totals.error === undefined && totals.unrecorded === undefined ? 0 : 1;
  } finally {
    signals.dispose();
  }
}

function report(b: BatchReport, out: Output): void {
  for (const e of b.result.errors) warn(oneLine(`ERROR: ${e.path}: ${e.message}`));
  // One line each, whatever the names hold (a newline), as `run` writes them.
  for (const w of b.result.warnings) warn(oneLine(`WARNING: ${w.path}: ${w.message}`));
  sayOpenFilesRemedy(b.result.errors.map((e) => e.message)); // once a batch, as run does
  printLeftLarge(b.result.leftLarge, b.largerThan);
  if (b.result.deleteGuard) {
    warn(oneLine(
      `Deletions held back: ${b.result.deleteGuard} (stop the watch before ` +
        `'${commandHint("run --force")}'; ` +
        "files that come back, as a folder removed and written anew does, need nothing)",
    ));
  }
  if (b.result.clockGuard) warn(oneLine(`WARNING: ${b.result.clockGuard.message}`));
  // Files that kept changing while read, to be read again once quiet (not failures).
  const changing = (b.result.changing ?? []).filter((c) => c.deferred).map((c) => c.path);
  if (out.json) {
    say(JSON.stringify({
      time: b.time.toISOString(),
      full: b.full,
      paths: b.paths,
      counts: b.result.counts,
      bytesCopied: b.result.bytesCopied,
      reread: b.result.reread,
      errors: b.result.errors,
      warnings: b.result.warnings,
      leftLarge: b.result.leftLarge,
      deleteGuard: b.result.deleteGuard,
      clockGuard: b.result.clockGuard?.message,
      changing: changing.length > 0 ? changing : undefined,
      stopped: b.full === "start" && b.stopped ? true : undefined,
    }));
  } else if (!out.quiet) {
    const what = b.full ? `full pass (${b.full})` : "batch";
    const paths = b.full ? "" : ` (${b.paths} path${b.paths === 1 ? "" : "s"})`;
    const cut = b.full === "start" && b.stopped
      ? `; stopped before it finished: ${STOPPED_FIRST}`
      : "";
    const counts = countsText(b.result.counts, changing.length);
    const reread = b.result.reread ? `; ${rereadLine(b.result.reread)}` : "";
    say(`${clock(b.time)} ${what}: ${counts}${paths}${cut}${reread}`);
  }
}

/** `changing`: files that kept changing while read, read again once quiet (not failed). */
function countsText(c: Counts, changing: number): string {
  const parts = [`${c.backup} new`, `${c.modified} updated`];
  if (c.duplicate > 0) parts.push(`${c.duplicate} duplicate`);
  parts.push(`${c.delete} deleted`);
  if (c.failed > 0) parts.push(`${c.failed} failed`);
  if (changing > 0) parts.push(`${changing} changing while read`);
  return parts.join(", ");
}

/** Local wall-clock time, HH:MM:SS. */
function clock(d: Date): string {
  return d.toTimeString().slice(0, 8);
}
