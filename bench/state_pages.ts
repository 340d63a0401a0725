/**
 * How many of the state's pages recording a batch of changed files writes, and how long its
 * commit and checkpoint take: the cost behind the "1% changed" rows that does not show in a
 * profile of the statements alone (docs/performance-history.md, twenty-ninth session).
 *
 *   deno run -A bench/state_pages.ts STATE_DB [--changes N] [--drop INDEX]...
 *
 * STATE_DB is a state a run left (the benchmark image's `run/m100k/snap/dst/.backup-tool/
 * state.db`, say); it is copied to a temporary file first and never changed. N changed files
 * (1,000 by default), chosen at random with a fixed seed and recorded in path order, are
 * recorded as a run records a changed file (state/record.ts: the old copy moved to the
 * versions, a new copy, the tracked file's row), in one transaction; `--drop` drops an index
 * first, to see what it costs. The copy is removed at the end.
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { parseArgs } from "node:util";

/** SQLite's WAL frame: a 24-byte header before each 4 KiB page (the states' page size). */
const WAL_FRAME_BYTES = 4096 + 24;

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    changes: { type: "string", default: "1000" },
    drop: { type: "string", multiple: true },
  },
});
if (positionals.length !== 1) {
  console.error("Usage: deno run -A bench/state_pages.ts STATE_DB [--changes N] [--drop INDEX]...");
  Deno.exit(2);
}
const copy = Deno.makeTempFileSync({ suffix: ".db" });
try {
  Deno.copyFileSync(positionals[0], copy);
  console.log(measure(copy, Number(values.changes), values.drop ?? []));
} finally {
  for (const end of ["", "-wal", "-shm"]) {
    try {
      Deno.removeSync(copy + end);
    } catch { /* not made (no WAL left after the checkpoint's close) */ }
  }
}

function measure(file: string, changes: number, drop: string[]): string {
  const db = new DatabaseSync(file);
  try {
    for (const index of drop) db.exec(`DROP INDEX ${index}`);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0");
    const tracked = db.prepare(
      "SELECT f.path, f.copy_id, c.stored_at FROM files f JOIN copies c ON c.id = f.copy_id",
    ).all() as { path: string; copy_id: number; stored_at: string }[];
    const chosen = pick(tracked.length, Math.min(changes, tracked.length))
      .map((i) => tracked[i]).sort((a, b) => a.path < b.path ? -1 : 1);
    const archive = db.prepare(
      "UPDATE copies SET location = 'version', stored_at = ?, valid_to = ? WHERE id = ?",
    );
    const insert = db.prepare(
      `INSERT INTO copies (path, seq, kind, hash, algo, size, mtime_ms, mode, uid, gid,
         link_target, location, stored_at, valid_from, run_id)
       VALUES (?, 2, 'file', ?, 'sha256', 100, 1, 33188, 0, 0, NULL, 'latest', ?, 5, 2)`,
    );
    const upsert = db.prepare(
      `INSERT OR REPLACE INTO files (path, copy_id, kind, hash, algo, size, mtime_ms, ctime_ms,
         ino, dev, mode, trusted, status)
       VALUES (?, ?, 'file', ?, 'sha256', 100, 1, 1, 1, 1, 33188, 1, 'current')`,
    );
    const start = performance.now();
    db.exec("BEGIN");
    for (const t of chosen) {
      const hash = randomHex(32);
      archive.run(`versions/${t.stored_at}/v1.bak`, 5, t.copy_id);
      const id = insert.run(t.path, hash, t.stored_at).lastInsertRowid as SQLInputValue;
      upsert.run(t.path, id, hash);
    }
    db.exec("COMMIT");
    const committed = performance.now();
    const pages = Math.round(Deno.statSync(`${file}-wal`).size / WAL_FRAME_BYTES);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const checkpointed = performance.now();
    return `${chosen.length} changes, indexes dropped: ${drop.join(", ") || "none"}: ` +
      `${pages} pages in the WAL, statements and commit ${(committed - start).toFixed(0)} ms, ` +
      `checkpoint ${(checkpointed - committed).toFixed(0)} ms`;
  } finally {
    db.close();
  }
}

/** `count` distinct indexes below `n`, the same ones on every run (a fixed seed). */
function pick(n: number, count: number): number[] {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(next() * n));
  return [...chosen];
}

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}
