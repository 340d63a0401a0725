/**
 * Backups made on days of January 2026, in this test process: `Date.now` moved to noon of
 * each day for a run (`backupOnce`, as `run` makes it, or a pass scoped to some files, as
 * a watch session's), and files written with their mtime at 09:00 of theirs. Disposing of
 * it gives `Date.now` back. Test files run in isolates of their own, so the clock moved
 * here is this file's alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config/config.ts";
import { backupOnce } from "../src/engine/backup.ts";
import type { Fixture } from "./helpers.ts";

export class JanuaryRuns implements Disposable {
  readonly #realNow = Date.now;

  constructor(readonly fx: Fixture) {}

  /** Writes `name` in the source with `text` (its own, if none), its mtime on `day`. */
  write(name: string, day: number, text?: string): void {
    const file = join(this.fx.source, name);
    const at = new Date(2026, 0, day, 9);
    Deno.writeTextFileSync(file, text ?? Deno.readTextFileSync(file));
    Deno.utimeSync(file, at, at);
  }

  /** A run at noon on `day` (a pass over `scope` only, where given), which must exit 0. */
  async runAt(day: number, scope?: Map<string, string[]>): Promise<void> {
    Date.now = () => new Date(2026, 0, day, 12).getTime();
    const summary = await backupOnce(loadConfig(this.fx.config), { scope });
    assert.equal(summary.exitCode, 0);
  }

  [Symbol.dispose](): void {
    Date.now = this.#realNow;
  }
}
