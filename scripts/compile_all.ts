/**
 * Release builds: `deno task compile:all` compiles src/main.ts for every supported target
 * into dist/backup-tool-<target>[.exe]. The permission flags are not repeated here: they
 * are read from deno.json's `compile` task, the one place they are written, so the
 * release binaries and `deno task compile` always carry the same permissions.
 *
 *   deno task compile:all                                   every target
 *   deno task compile:all x86_64-unknown-linux-gnu          only the named target(s)
 *
 * `deno compile` downloads each target's `denort` runtime from dl.deno.land on first use
 * (cached in DENO_DIR/dl afterwards). Offline, set DENORT_BIN to a denort binary: it is
 * used for every target, so build one target per DENORT_BIN.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

export const REPO = fileURLToPath(new URL("..", import.meta.url));

/** The `deno compile` flags of deno.json's `compile` task, without --output and the entry. */
export function compileFlags(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(join(REPO, "deno.json")));
  const task: string = config.tasks.compile;
  const words = task.split(/\s+/).filter((w) => w !== "");
  const flags: string[] = [];
  for (let i = 2; i < words.length; i++) {
    if (words[i] === "--output" || words[i] === "-o") i++;
    else if (words[i].startsWith("--")) flags.push(words[i]);
  }
  return flags;
}

/**
 * The V8 flags the binary is built with (`--v8-flags=...` of the `compile` task), which the
 * `backup` and `watch` tasks and the benchmark pass to `deno run` too.
 * `--max-semi-space-size=4` (MiB) caps V8's young generation, which otherwise grows to its
 * 64-bit default under the stream of short-lived objects a run makes; `--heap-growing-percent=50`
 * lets the old generation grow to 1.5 times what survived the last full collection before the
 * next one, where V8 would allow up to 4 times. Alternated on the 100k-file tree (tenth session,
 * 2026-12-02, medians): a first backup peaked at 128-134 MiB instead of 177-182 MiB with the
 * sixth session's `--max-semi-space-size=8` alone (240 MiB with neither), in the same time; a
 * run with nothing changed at 77 MiB instead of 82 MiB, the same CPU within the noise. The 20k
 * first backup, with its larger files, used about 10% more CPU for 122 MiB instead of 146 MiB.
 * `--no-memory-reducer` keeps V8 from running collections on an idle heap to give a few MiB
 * back: an idle watch session used 0-4 clock ticks in 30 s with it against 4-15 without
 * (five alternated pairs, thirty-fifth session), for 3-5 MiB more while idle; a run's peak is
 * the same (100k tree, 1% changed: 136-143 MiB against 138-144, three pairs).
 */
export function v8Flags(): string[] {
  return compileFlags().filter((f) => f.startsWith("--v8-flags="));
}

/** Only the permission flags of the `compile` task (what `deno run` accepts too). */
export function permissionFlags(): string[] {
  return compileFlags().filter((f) => /^--(allow|deny)-/.test(f));
}

/** The output file for a target: dist/backup-tool-<target>, with .exe on Windows. */
export function outputFor(target: string, dir = join(REPO, "dist")): string {
  return join(dir, `backup-tool-${target}${target.includes("windows") ? ".exe" : ""}`);
}

async function compile(target: string): Promise<boolean> {
  const args = [
    "compile",
    ...compileFlags(),
    "--target",
    target,
    "--output",
    outputFor(target),
    join(REPO, "src", "main.ts"),
  ];
  console.log(`deno ${args.join(" ")}`);
  const { code } = await new Deno.Command(Deno.execPath(), { args, cwd: REPO }).output();
  if (code !== 0) console.error(`Failed to compile for ${target} (exit code ${code}): see above`);
  return code === 0;
}

if (import.meta.main) {
  const unknown = Deno.args.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0) {
    console.error(`Unknown target '${unknown[0]}': use one of ${TARGETS.join(", ")}`);
    Deno.exit(2);
  }
  const targets = Deno.args.length > 0 ? Deno.args : TARGETS;
  let failed = 0;
  for (const target of targets) if (!(await compile(target))) failed++;
  console.log(`${targets.length - failed} of ${targets.length} target(s) built in dist/`);
  Deno.exit(failed === 0 ? 0 : 1);
}
