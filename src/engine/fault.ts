/**
 * A test-only fault hook, to prove crash safety at every step boundary. When the
 * environment variable BACKUP_TOOL_FAULT is `<point>:<n>`, the process exits abruptly
 * (code 137, as after SIGKILL: no finally blocks, no commit, lock dropped by the OS) the
 * n-th time execution reaches `faultPoint("<point>")`. Without the variable this is a
 * no-op. Points: staged, journaled, archived, placed, deleted, promoted, pruned, executed,
 * logged (a batch's lines written, before its commit), committed;
 * `linked` (inside any move: both names on the file, the old one not yet removed);
 * `aside` (verify --repair: a damaged copy linked into damaged/, not yet replaced);
 * `restoring` and `restored` (restore: a file written to its temporary name, or placed);
 * `reloaded` (a watch's config reloaded: the sources it adds recorded, its pass not begun); and
 * `overwritten` (the lock file: a record written over the one before, the file not yet cut
 * to it).
 *
 * A second hook pauses instead, so that a test can change the world at an exact moment:
 * with BACKUP_TOOL_PAUSE `<point>:<n>:<file>`, the n-th `pausePoint("<point>")` creates
 * `<file>` and waits until the test removes it (at most a minute). Points: `folder` (the
 * scanner entering a folder), `scoped` (a watch's pass about to check that a path it was
 * given is reached through real folders), `reading` (a block of a file being copied read),
 * `loaded` (a watch's config loaded, its session not opened yet),
 * `applying` (a batch about to be applied: its copies staged, nothing flushed or journaled
 * yet), `repairing` (verify --repair about to make a copy again), `rehashing` (a block of a
 * copy verify re-hashes read), `listing` (verify about to list a folder of the backup
 * root), `marking` (a purge's `PURGE record:` lines written and flushed, the records not
 * yet marked purged), `restoring` (restore about to write a file), `locking` (a session
 * about to take the backup root's lock), `locked` (a session that holds it, its state not
 * opened yet: a first run there has committed nothing), `claimed` (a session that holds it
 * and has looked at its staging folder, its state not opened yet), `dropping` (a watch about to close
 * its watchers, nothing looked at yet) and `unwatching` (its watchers closed, the last look
 * for a FIFO holding Deno's watcher made, their ends not yet awaited: see fifo_freeing.ts).
 *
 * A third moves the clock: with BACKUP_TOOL_CLOCK_AHEAD `<ms>` (an integer, negative for
 * behind), `Date.now` reads that much past the system clock in this process (its workers
 * keep the system's), as a clock set wrong would: retention's clock guard
 * (deleted_guard.ts) is tested so through the CLI. Without the variable nothing changes.
 */
import { sleepSync } from "./sleep_sync.ts";

const spec = readSpec();

const ahead = Number(envVar("BACKUP_TOOL_CLOCK_AHEAD") ?? "0");
if (Number.isSafeInteger(ahead) && ahead !== 0) {
  const systemNow = Date.now;
  Date.now = () => systemNow() + ahead;
}
let hits = 0;

function readSpec(): { point: string; n: number } | undefined {
  const m = envVar("BACKUP_TOOL_FAULT")?.match(/^([a-z]+):(\d+)$/);
  return m ? { point: m[1], n: Number(m[2]) } : undefined;
}

/** A variable of the environment; none without the permission to read it (no hooks). */
function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

export function faultPoint(point: string): void {
  if (spec?.point === point && ++hits === spec.n) Deno.exit(137);
}

const pause = readPause();
let pauseHits = 0;

function readPause(): { point: string; n: number; file: string } | undefined {
  const m = envVar("BACKUP_TOOL_PAUSE")?.match(/^([a-z]+):(\d+):(.+)$/);
  return m ? { point: m[1], n: Number(m[2]), file: m[3] } : undefined;
}

/** How long a paused run waits for its test at most: the test failed if it takes longer. */
const PAUSE_LIMIT_MS = 60_000;

export function pausePoint(point: string): void {
  if (pause?.point !== point || ++pauseHits !== pause.n) return;
  Deno.writeTextFileSync(pause.file, `${Deno.pid}\n`);
  for (const end = Date.now() + PAUSE_LIMIT_MS; Date.now() < end;) {
    try {
      Deno.statSync(pause.file);
    } catch {
      return;
    }
    sleepSync(5); // a synchronous 5 ms sleep: the run is held right here
  }
}
