/**
 * Log lines for actions, in the reference tool's forms: sources shown as
 * `<source name>/<path>`, latest copies and _deleted/ as `<backup folder>/<path>`, and
 * versions as `versions/<path>/vN.bak`.
 */
import type { Action } from "./types.ts";

export function formatAction(a: Action, rootName: string): string[] {
  const b = (p: string) => `${rootName}/${p}`;
  switch (a.type) {
    case "backup":
      return [`BACKUP: ${a.path} → ${b(a.target)}`];
    case "modified":
      return [
        `ARCHIVE: ${b(a.archive.from)} → ${a.archive.to}`,
        `UPDATED: ${a.path} → ${b(a.target)}`,
      ];
    case "duplicate": {
      const archived = a.archive ? [`ARCHIVE: ${b(a.archive.from)} → ${a.archive.to}`] : [];
      return [...archived, `DUPLICATE: ${a.path} → ${b(a.target)} (same content as ${a.original})`];
    }
    case "skip":
      return [`SKIP: ${a.path}`];
    case "delete":
      return [`ARCHIVE DELETE: ${b(a.from)} → ${b(a.to)}`, `STATE REMOVE: ${a.path}`];
    case "exclude":
      return [`EXCLUDED: ${a.path} (now excluded; its copy stays at ${b(a.storedAt)})`];
    case "prune":
      return [`RETENTION delete: ${a.storedAt}`];
  }
}
