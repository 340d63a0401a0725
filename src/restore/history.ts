/**
 * History of one path: every content the state recorded for it, oldest first, as data
 * (`--json`) and as an aligned table, one line per content (newlines in names escaped),
 * then a line per exclusion of it that ended (state/ended_exclusions.ts); of a folder that
 * holds no file, when it stood (state/folder_spans.ts).
 * Pure formatting over `copies` rows (where an interrupted run moved a copy is asked of
 * the caller); nothing is written, so an interruption leaves nothing.
 */
import type { StoredCopy } from "../state/store.ts";
import { formatBytes } from "../core/format_bytes.ts";
import { formatTable } from "../core/format_table.ts";
import { oneLine } from "../log/one_line.ts";
import type { ExclusionSpan, StoodSpan } from "./history_lookup.ts";

/** How an exclusion ended, in words. */
const ENDED = {
  followed: "followed again",
  deleted: "deleted from the source",
  purged: "purged",
} as const;

/** Characters of the digest shown in the table; JSON always carries the full one. */
const SHORT_HASH = 12;

export interface HistoryEntry {
  version: number;
  kind: "file" | "symlink";
  /** When it became the path's current content (ISO). */
  becameCurrent: string;
  /** When it was replaced or deleted (ISO); null while current. */
  replaced: string | null;
  size: number;
  algo: string;
  hash: string;
  /** The source file's modification time it had (ISO). */
  mtime: string;
  linkTarget?: string;
  location: StoredCopy["location"];
  /** Storage path relative to the backup root; null once pruned. */
  storedAt: string | null;
  /** When retention removed the copy, or it was found missing (ISO); null while it exists. */
  prunedAt: string | null;
  /**
   * Where the copy is now, when a run interrupted before its commit moved it from
   * `storedAt` (what the state records until the next run finishes that work).
   */
  movedTo?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The entries of one path's copies; `movedTo` says where an interrupted run moved a copy
 * (see `whereNow`), if it did, and `prunedNow` whether its retention deleted it.
 */
export function historyEntries(
  copies: StoredCopy[],
  movedTo: (storedAt: string) => string | undefined = () => undefined,
  /** Whether an interrupted run's retention deleted the copy at a storage path. */
  prunedNow: (storedAt: string) => boolean = () => false,
): HistoryEntry[] {
  return [...copies].sort((a, b) => a.seq - b.seq).map((c) =>
    c.storedAt !== null && prunedNow(c.storedAt)
      ? { ...entryOf(c), location: "pruned" as const, storedAt: null }
      : { ...entryOf(c), ...moved(c.storedAt, movedTo) }
  );
}

function entryOf(c: StoredCopy): HistoryEntry {
  return {
    version: c.seq,
    kind: c.kind,
    becameCurrent: iso(c.validFrom),
    replaced: c.validTo === null ? null : iso(c.validTo),
    size: c.size,
    algo: c.algo,
    hash: c.hash,
    mtime: iso(c.mtimeMs),
    linkTarget: c.linkTarget ?? undefined,
    location: c.location,
    storedAt: c.storedAt,
    prunedAt: c.prunedAt === null ? null : iso(c.prunedAt),
  };
}

function moved(storedAt: string | null, movedTo: (storedAt: string) => string | undefined) {
  const to = storedAt === null ? undefined : movedTo(storedAt);
  return to === undefined ? {} : { movedTo: to };
}

/** Where the copy lives, in words, and where an interrupted run moved it. */
function whereText(e: HistoryEntry): string {
  const recorded = recordedWhere(e);
  return e.movedTo === undefined
    ? recorded
    : `${recorded}; moved to ${e.movedTo} by the interrupted run`;
}

function recordedWhere(e: HistoryEntry): string {
  switch (e.location) {
    case "latest":
      return `latest (${e.storedAt})`;
    case "pruned":
      return `pruned by retention${e.prunedAt ? ` at ${e.prunedAt}` : ""}`;
    case "purged":
      return `purged by 'purge'${e.prunedAt ? ` at ${e.prunedAt}` : ""}`;
    case "lost":
      return `lost: found missing from the backup root${e.prunedAt ? ` at ${e.prunedAt}` : ""}`;
    case "deleted":
      return `${e.storedAt} (deleted from the source)`;
    default:
      return e.storedAt ?? "?";
  }
}

export function formatHistory(
  path: string,
  entries: HistoryEntry[],
  /** Its exclusions that ended, oldest first: a line each after the table. */
  exclusions: readonly ExclusionSpan[] = [],
): string {
  const rows = entries.map((e) =>
    [
      `v${e.version}`,
      e.becameCurrent,
      e.replaced ?? (e.location === "latest" || e.location === "duplicate" ? "current" : "?"),
      // A purged symlink's target is cleared from the record: a symlink, no more said.
      e.kind === "symlink"
        ? e.linkTarget === undefined ? "symlink" : `-> ${e.linkTarget}`
        : formatBytes(e.size),
      `${e.algo}:${e.hash.slice(0, SHORT_HASH)}`,
      whereText(e),
    ].map((line) => oneLine(line))
  ); // a newline in a name or a link's target would break the table
  const header = ["VERSION", "BECAME CURRENT", "REPLACED", "SIZE", "HASH", "WHERE"];
  const count = `${entries.length} content${entries.length === 1 ? "" : "s"}`;
  // A purged one's content ended where its exclusion began: none stood for it meanwhile.
  const spans = exclusions.map((e) =>
    `Excluded from ${e.from} to ${e.to} (${ENDED[e.ended]}): the config left it out, ` +
    (e.ended === "purged"
      ? "and the purge deleted its content from then on"
      : "its content backed up before standing for it")
  );
  return [oneLine(`History of ${path} (${count})`), ...formatTable(header, rows), ...spans]
    .join("\n");
}

/**
 * When a folder that holds no file stood, a line a span, oldest first: from when, to when a
 * walk found it gone ("standing" while it stands).
 */
export function formatFolderHistory(path: string, spans: readonly StoodSpan[]): string {
  const rows = spans.map((s) => [s.from, s.to ?? "standing"]);
  const count = `${spans.length} span${spans.length === 1 ? "" : "s"}`;
  return [
    oneLine(`History of ${path}/ (a folder that holds no file: ${count} when it stood)`),
    ...formatTable(["STOOD FROM", "TO"], rows),
  ].join("\n");
}
