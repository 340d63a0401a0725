/**
 * The CLI run as the unprivileged user `nobody`, for permission tests: root reads
 * everything, so (when the suite runs as root, as CI does) the tool runs as `nobody` via
 * setpriv or runuser, on a fixture owned by that user (its Deno cache prepared in the
 * fixture's folder). Where neither tool exists, or the tool does not start as nobody, the
 * test body is skipped with a message. It changes owners only inside the fixture's folder.
 */
import { join } from "node:path";
import { type Fixture, makeFixture } from "../helpers.ts";
import { asNobody, NOBODY, prepareDenoDir, runTool, sh, type ToolResult } from "./util.ts";

export interface Unprivileged {
  fx: Fixture;
  run(...args: string[]): Promise<ToolResult>;
  /** The CLI as nobody, without the fixture's `--config`. */
  bare(...args: string[]): Promise<ToolResult>;
  /** `bare`, run from the folder `cwd`. */
  bareIn(cwd: string, ...args: string[]): Promise<ToolResult>;
  /** The command that runs the tool as nobody (for `pausedRun`'s `prefix`). */
  prefix: string[];
}

/** Runs `body` with the fixture of `tree` and the CLI as nobody; skipped where it cannot. */
export async function unprivileged(
  tree: Record<string, string>,
  body: (u: Unprivileged) => Promise<void>,
): Promise<void> {
  using fx = makeFixture(tree);
  const denoDir = join(fx.dir, "deno-dir");
  const prefix = asNobody(denoDir);
  if (typeof prefix === "string") {
    console.log(`SKIP permission tests: ${prefix}`);
    return;
  }
  if (!Deno.env.get("BACKUP_TOOL_BIN")) await prepareDenoDir(denoDir);
  await sh(`chown -R ${NOBODY}:${NOBODY} '${fx.dir}' && chmod 755 '${fx.dir}'`);
  const bareIn = (cwd: string, ...args: string[]) =>
    runTool(args, { prefix, timeoutMs: 60_000, cwd });
  const bare = (...args: string[]) => runTool(args, { prefix, timeoutMs: 60_000 });
  const run = (...args: string[]) => bare(...args, "--config", fx.config);
  const probe = await run("--version");
  if (probe.code !== 0) {
    console.log(`SKIP permission tests: the tool does not start as nobody: ${probe.stderr}`);
    return;
  }
  await body({ fx, run, bare, bareIn, prefix });
}
