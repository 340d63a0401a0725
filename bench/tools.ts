// The tools being compared, each described by how to set up an empty destination (untimed) and
// the one command that is timed:
//   ours   — `deno run -A <V8 flags> src/main.ts run --config <generated config.jsonc>`, with the
//            V8 flags the compiled binary and `deno task backup` carry (v8Flags in
//            scripts/compile_all.ts); state lives in <dst>/.backup-tool/, old versions in
//            <dst>/versions/, run logs in <dir>/logs/
//   ours@<rev> — the same, as committed at a git revision (exported to bench/work/revs/)
//   rsync  — `rsync -a --delete <src>/ <dst>/` (the baseline every ratio is against)
//   rsync+sync — `rsync -a --delete <src>/ <dst>/ && sync -f <dst>`: rsync with its data on
//            disk when it returns, the durability `ours` gives every copy
//   cp     — `cp -a <src>/. <dst>/`, first backup only (it has no incremental mode)
// A restore scenario times each tool's `restore` instead: ours `restore --to <out>`, rsync and
// cp copying their mirror back to <out> (rsync+sync then `sync -f <out>`); restic has none.
//   restic — `restic backup <src>` into a local repository at <dst> (only when installed)

import { dirname, join } from "node:path";
import { type CmdSpec, run, which } from "./measure.ts";
import { fileURLToPath } from "node:url";
import { v8Flags } from "../scripts/compile_all.ts";

export const REPO_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

export interface ToolCtx {
  src: string; // source tree
  dst: string; // destination: backup root, mirror or repository
  dir: string; // the tool's scratch folder for this scenario (config, logs, caches)
}

export interface Tool {
  name: string;
  /** cp has no incremental mode: only the first-backup scenario applies. */
  firstOnly: boolean;
  /** dst mirrors src file-for-file (besides `stateDirs`), so results can be spot-checked. */
  mirror: boolean;
  /** Top-level names in dst that are tool state rather than backed-up files. */
  stateDirs: string[];
  /** Where in dst a source file may be stored (default: the same relative path). */
  locate?(rel: string): string[];
  /** Version string, or null when the tool is not installed (its rows are then skipped). */
  version(): Promise<string | null>;
  /** Untimed one-off preparation (e.g. warm Deno's module cache). */
  warmup?(): Promise<void>;
  /** Untimed: called with an empty dst to create whatever the tool needs before a first run. */
  init(ctx: ToolCtx): Promise<void>;
  command(ctx: ToolCtx): CmdSpec;
  /** Restores everything backed up in ctx.dst into `out` (absent for tools that cannot). */
  restore?(ctx: ToolCtx, out: string): CmdSpec;
  /**
   * Untimed: writes what a watch session with this debounce needs, after `init`; returns its
   * command (printing a line a pass on stdout) and the folder its session logs go to (absent for
   * tools with no watch mode).
   */
  watch?(ctx: ToolCtx, debounceMs: number): Promise<{ cmd: CmdSpec; logDir: string }>;
}

/**
 * This tool as checked out (`ours`), or as committed at a git revision (`ours@<rev>`: the
 * revision's tree exported with `git archive` into bench/work/revs/<commit>/ at warm-up), so
 * that a change is timed against the code before it in the same run, alternated like any
 * other tool: `--tools ours,ours@HEAD~1,rsync`.
 */
function oursAt(rev?: string): Tool {
  const name = rev === undefined ? "ours" : `ours@${rev}`;
  let root = REPO_ROOT;
  let commit: string | undefined;
  const main = () => join(root, "src", "main.ts");
  return {
    name,
    firstOnly: false,
    mirror: true,
    // Layout (src/core/layout.ts): latest copies at <dst>/<rel>, except a file whose content
    // equals another path's, stored at _duplicates/<rel>; deleted files move to _deleted/.
    stateDirs: [".backup-tool", "versions", "_deleted"],
    locate: (rel) => [rel, `_duplicates/${rel}`],
    async version() {
      const git = (...args: string[]) => run({ argv: ["git", "-C", REPO_ROOT, ...args] });
      if (rev !== undefined) {
        commit = (await git("rev-parse", "--verify", "--quiet", `${rev}^{commit}`).catch(() => ""))
          .trim();
        if (!commit) throw new Error(`'${rev}' is not a git revision of ${REPO_ROOT}`);
        return `deno ${Deno.version.deno}, git ${commit.slice(0, 7)}`;
      }
      const head = await git("rev-parse", "--short", "HEAD").catch(() => "uncommitted");
      return `deno ${Deno.version.deno}, git ${head.trim()}`;
    },
    async warmup() {
      if (commit !== undefined) root = await exportRevision(commit);
      // Fetch npm packages and transpile once so no timed run pays for it. A missing or broken
      // src/main.ts is not fatal here: the timed runs then fail and are reported as FAILED.
      await run({ argv: [Deno.execPath(), "cache", main()], cwd: root }).catch(() => {});
    },
    async init(ctx) {
      await Deno.writeTextFile(
        join(ctx.dir, "config.jsonc"),
        JSON.stringify(configOf(ctx), null, 2) + "\n",
      );
    },
    command(ctx) {
      return {
        argv: [
          Deno.execPath(),
          "run",
          "-A",
          ...v8Flags(),
          main(),
          "run",
          "--config",
          join(ctx.dir, "config.jsonc"),
        ],
        cwd: root,
        env: { NO_COLOR: "1" },
      };
    },
    async watch(ctx, debounceMs) {
      const config = join(ctx.dir, "watch.jsonc");
      const watch = { debounce_ms: debounceMs };
      await Deno.writeTextFile(config, JSON.stringify({ ...configOf(ctx), watch }, null, 2) + "\n");
      const argv = [Deno.execPath(), "run", "-A", ...v8Flags(), main(), "watch", "--json"];
      return {
        cmd: { argv: [...argv, "--config", config], cwd: root, env: { NO_COLOR: "1" } },
        logDir: configOf(ctx).log_dir,
      };
    },
    restore(ctx, out) {
      const config = join(ctx.dir, "config.jsonc");
      return {
        argv: [Deno.execPath(), "run", "-A", ...v8Flags(), main(), "restore", "--to", out]
          .concat(["--quiet", "--config", config]),
        cwd: root,
        env: { NO_COLOR: "1" },
      };
    },
  };
}

/** ours' config for a scenario: its source, backup root and log folder. */
function configOf(ctx: ToolCtx) {
  return { sources: [ctx.src], backup_root: ctx.dst, log_dir: join(ctx.dir, "logs") };
}

/** Where `ours@<rev>` runs from: the commit's tree, exported once (kept for later runs). */
async function exportRevision(commit: string): Promise<string> {
  const dir = join(REPO_ROOT, "bench", "work", "revs", commit);
  try {
    await Deno.stat(join(dir, "src", "main.ts"));
    return dir;
  } catch { /* not exported yet */ }
  const partial = `${dir}.partial`;
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  await Deno.mkdir(partial, { recursive: true });
  await run({
    argv: ["sh", "-c", 'git -C "$1" archive "$2" | tar -x -C "$3"', "sh"]
      .concat([REPO_ROOT, commit, partial]),
  });
  await Deno.rename(partial, dir);
  return dir;
}

const ours = oursAt();

const rsync: Tool = {
  name: "rsync",
  firstOnly: false,
  mirror: true,
  stateDirs: [],
  async version() {
    if (!(await which("rsync"))) return null;
    return (await run({ argv: ["rsync", "--version"] })).split("\n")[0].replace(/\s+/g, " ");
  },
  async init() {},
  command(ctx) {
    return { argv: ["rsync", "-a", "--delete", `${ctx.src}/`, `${ctx.dst}/`] };
  },
  restore(ctx, out) {
    return { argv: ["rsync", "-a", `${ctx.dst}/`, `${out}/`] }; // the mirror copied back
  },
};

const rsyncSync: Tool = {
  name: "rsync+sync",
  firstOnly: false,
  mirror: true,
  stateDirs: [],
  version: rsync.version,
  async init() {},
  command(ctx) {
    // `sync -f` flushes the file system holding dst (syncfs): everything rsync wrote.
    const script = 'rsync -a --delete "$1/" "$2/" && sync -f "$2"';
    return { argv: ["sh", "-c", script, "sh", ctx.src, ctx.dst] };
  },
  restore(ctx, out) {
    const script = 'rsync -a "$1/" "$2/" && sync -f "$2"';
    return { argv: ["sh", "-c", script, "sh", ctx.dst, out] };
  },
};

const cp: Tool = {
  name: "cp",
  firstOnly: true,
  mirror: true,
  stateDirs: [],
  async version() {
    return (await run({ argv: ["cp", "--version"] })).split("\n")[0];
  },
  async init() {},
  command(ctx) {
    return { argv: ["cp", "-a", `${ctx.src}/.`, `${ctx.dst}/`] };
  },
  restore(ctx, out) {
    return { argv: ["cp", "-a", `${ctx.dst}/.`, out] };
  },
};

function resticEnv(ctx: ToolCtx): Record<string, string> {
  return {
    RESTIC_REPOSITORY: ctx.dst,
    RESTIC_PASSWORD: "bench", // throwaway repositories under bench/work only
    RESTIC_CACHE_DIR: join(ctx.dir, "restic-cache"),
  };
}

const restic: Tool = {
  name: "restic",
  firstOnly: false,
  mirror: false,
  stateDirs: [],
  async version() {
    if (!(await which("restic"))) return null;
    return (await run({ argv: ["restic", "version"] })).trim().split(" compiled")[0];
  },
  async init(ctx) {
    await Deno.remove(ctx.dst, { recursive: true }); // restic init wants to create the folder
    await run({ argv: ["restic", "init"], env: resticEnv(ctx) });
  },
  command(ctx) {
    // A fixed --host keeps parent-snapshot selection stable; restic then skips files whose
    // path, size, mtime, ctime and inode match the parent snapshot.
    return {
      argv: ["restic", "backup", "--quiet", "--host", "bench", ctx.src],
      env: resticEnv(ctx),
    };
  },
};

export const ALL_TOOLS: Tool[] = [ours, rsync, rsyncSync, cp, restic];

/** The tools `--tools` names: any of ALL_TOOLS, and `ours@<rev>` for a git revision. */
export function toolsNamed(names: string[] | null): Tool[] {
  if (names === null) return ALL_TOOLS;
  return names.map((n) => {
    const known = ALL_TOOLS.find((t) => t.name === n);
    if (known) return known;
    if (n.startsWith("ours@") && n.length > 5) return oursAt(n.slice(5));
    throw new Error(
      `unknown tool '${n}': use ${ALL_TOOLS.map((t) => t.name).join(", ")} or ours@<git revision>`,
    );
  });
}
