/**
 * A test-only fault hook, to prove crash safety at every step boundary. When the
 * environment variable BACKUP_TOOL_FAULT is `<point>:<n>`, the process exits abruptly
 * (code 137, as after SIGKILL: no finally blocks, no commit, lock dropped by the OS) the
 * n-th time execution reaches `faultPoint("<point>")`. Without the variable this is a
 * no-op. Points: staged, journaled, archived, placed, deleted, promoted, pruned, executed,
 * committed;
 * `linked` (inside any move: both names on the file, the old one not yet removed); and
 * `aside` (verify --repair: a damaged copy linked into damaged/, not yet replaced).
 */

const spec = readSpec();
let hits = 0;

function readSpec(): { point: string; n: number } | undefined {
  let raw: string | undefined;
  try {
    raw = Deno.env.get("BACKUP_TOOL_FAULT");
  } catch {
    return undefined; // no env permission: no faults
  }
  const m = raw?.match(/^([a-z]+):(\d+)$/);
  return m ? { point: m[1], n: Number(m[2]) } : undefined;
}

export function faultPoint(point: string): void {
  if (spec?.point === point && ++hits === spec.n) Deno.exit(137);
}
