// Benchmark entry point: `deno task bench [-- flags]`. Not a test; CI never runs it.
//
// Generates (or reuses) the synthetic trees from gen.ts, runs every scenario from scenarios.ts
// for every installed tool from tools.ts, alternating tools within each repetition, and prints
// the machine description plus a Markdown table of medians (wall, CPU = user+sys, peak RSS, wall
// ratio to rsync); the watch scenarios (watch.ts) have a table of their own (latency beyond the
// debounce, idle CPU against an idle `sleep`). Results are also saved as JSON in
// bench/work/results/.
//
// Trees and scratch live in bench/work/ (trees/, run/), or with --fs-image on a loop-mounted,
// journaled ext4 image at bench/work/mnt/ (see workfs.ts), unmounted again when the run ends,
// fails or is interrupted (SIGINT/SIGTERM).
//
// Needs GNU time (/usr/bin/time) and rsync. When either is missing and we run as root with
// apt-get available, they are installed (`apt-get install -y time rsync`); otherwise the runner
// says what to install and exits with status 2. restic is optional (`apt-get install -y restic`).

import { join } from "node:path";
import { planTree, type TreePlan, TREES, WORK_DIR, writeTree } from "./gen.ts";
import { GNU_TIME, run, stop, which } from "./measure.ts";
import { addRatios, describeMachine, machineText, table, toJson, watchTable } from "./report.ts";
import { type Row, runScenario, type Scenario, scenarios } from "./scenarios.ts";
import { type Tool, toolsNamed } from "./tools.ts";
import { POLL_MS, runWatchScenario, WRITES } from "./watch.ts";
import {
  defaultDirs,
  defaultImageGiB,
  type Image,
  missingForImage,
  openImage,
  type WorkDirs,
} from "./workfs.ts";

const USAGE = `usage: deno task bench [-- options]
  --quick          smoke check: 2k/10k trees instead of 20k/100k, 1 rep (unless --runs)
  --with-1m        add "nothing changed" on a 1,000,000-file tree (generation takes minutes)
  --runs N         repetitions per tool and scenario (default 3); the table shows medians
  --only TEXT      only scenarios whose id contains TEXT (ids look like 20k/first-backup,
                   100k/nothing-changed, 20k/mixed, 100k/changed1, watch/latency,
                   watch/idle); repeatable
  --tools a,b      only these tools (ours, rsync, rsync+sync, cp, restic), in this order;
                   ours@REV is ours as committed at git revision REV (an A/B of a change)
  --json           print results as JSON on stdout (progress and table go to stderr)
  --keep           keep the scratch folders (sources, destinations) after each scenario
  --fs-image       put trees and scratch on a journaled ext4 image loop-mounted at
                   bench/work/mnt (needs root); bench/work/fs.img is kept for the next run
  --fs-image-size N
                   size of a new image in GiB (default 12, 24 with --with-1m, 4 with --quick);
                   implies --fs-image`;

interface Options {
  quick: boolean;
  with1m: boolean;
  runs: number;
  only: string[];
  tools: string[] | null;
  json: boolean;
  keep: boolean;
  fsImage: boolean;
  /** GiB; null = defaultImageGiB() for the chosen scenarios. */
  fsImageSize: number | null;
}

function parseArgs(args: string[]): Options {
  const o: Options = {
    quick: false,
    with1m: false,
    runs: 3,
    only: [],
    tools: null,
    json: false,
    keep: false,
    fsImage: false,
    fsImageSize: null,
  };
  let runsSet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === "--") continue; // `deno task bench -- --quick` may pass the separator through
    else if (a === "--quick") o.quick = true;
    else if (a === "--with-1m") o.with1m = true;
    else if (a === "--json") o.json = true;
    else if (a === "--keep") o.keep = true;
    else if (a === "--fs-image") o.fsImage = true;
    else if (a === "--fs-image-size") {
      o.fsImageSize = Number(value());
      o.fsImage = true;
      if (!Number.isInteger(o.fsImageSize) || o.fsImageSize < 1) {
        fail("--fs-image-size wants a positive integer (GiB)");
      }
    } else if (a === "--runs") {
      o.runs = Number(value());
      runsSet = true;
      if (!Number.isInteger(o.runs) || o.runs < 1) fail("--runs wants a positive integer");
    } else if (a === "--only") o.only.push(value());
    else if (a === "--tools") o.tools = value().split(",").map((s) => s.trim());
    else if (a === "-h" || a === "--help") {
      console.log(USAGE);
      Deno.exit(0);
    } else fail(`unknown option ${a}`);
  }
  if (o.quick && !runsSet) o.runs = 1;
  return o;
}

/** The tools `--tools` names (all by default), or a usage error. */
function named(names: string[] | null): Tool[] {
  try {
    return toolsNamed(names);
  } catch (e) {
    fail((e as Error).message);
  }
}

function fail(msg: string, usage = true): never {
  console.error(usage ? `bench: ${msg}\n${USAGE}` : `bench: ${msg}`);
  Deno.exit(2);
}

async function ensurePrerequisites(): Promise<void> {
  const missing: string[] = [];
  try {
    await Deno.stat(GNU_TIME);
  } catch {
    missing.push("time");
  }
  if (!(await which("rsync"))) missing.push("rsync");
  if (missing.length === 0) return;
  const canApt = Deno.uid() === 0 && (await which("apt-get"));
  if (!canApt) {
    fail(`missing ${missing.join(", ")}: install with \`apt-get install -y time rsync\``);
  }
  console.error(`bench: installing ${missing.join(" ")} with apt-get (running as root)`);
  await run({ argv: ["apt-get", "update", "-qq"] });
  await run({ argv: ["apt-get", "install", "-y", "-qq", ...missing] });
}

async function main() {
  const opts = parseArgs(Deno.args);
  await ensurePrerequisites();
  if (opts.fsImage) {
    const missing = await missingForImage();
    if (missing.length > 0) {
      fail(
        `--fs-image needs Linux, root, mkfs.ext4, mount, umount, losetup and a free loop device; ` +
          `missing: ${missing.join(", ")}`,
        false,
      );
    }
  }
  const selected = scenarios(opts).filter((s) =>
    opts.only.length === 0 || opts.only.some((o) => s.id.includes(o))
  );
  if (selected.length === 0) fail(`no scenario matches --only ${opts.only.join(", ")}`);

  const versions: Record<string, string> = {};
  const tools: Tool[] = [];
  for (const t of named(opts.tools)) {
    const v = await t.version().catch((e) => fail((e as Error).message, false));
    if (v === null) {
      console.error(`bench: ${t.name} not installed, skipping it`);
      continue;
    }
    versions[t.name] = v;
    tools.push(t);
  }
  for (const t of tools) await t.warmup?.();

  if (!opts.fsImage) {
    // On SIGINT/SIGTERM sent to this process alone (not its whole process group, as a terminal's
    // Ctrl-C is): kill the running command, so that no watch session or its reference `sleep`
    // outlives the run (a session stops cleanly on SIGTERM), and exit with the signal's status.
    const onSignal = (sig: "SIGINT" | "SIGTERM") => () => {
      console.error(`\nbench: ${sig}, stopping`);
      stop.abort();
      Deno.exit(sig === "SIGINT" ? 130 : 143);
    };
    const listeners = [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]] as const;
    listeners.forEach(([sig, f]) => Deno.addSignalListener(sig, f));
    try {
      return await bench(opts, selected, tools, versions, await defaultDirs());
    } finally {
      listeners.forEach(([sig, f]) => Deno.removeSignalListener(sig, f));
    }
  }
  let image: Image;
  try {
    image = await openImage(opts.fsImageSize ?? defaultImageGiB(opts));
  } catch (e) {
    fail((e as Error).message, false);
  }
  // On SIGINT/SIGTERM: kill the running command (and any the run would still start), unmount,
  // exit with the shell's status for the signal (128 + 2 or 15).
  const signals = ["SIGINT", "SIGTERM"] as const;
  const handlers = signals.map((sig) => () => {
    console.error(`\nbench: ${sig}, unmounting the image`);
    stop.abort();
    image.close().finally(() => Deno.exit(sig === "SIGINT" ? 130 : 143));
  });
  signals.forEach((sig, i) => Deno.addSignalListener(sig, handlers[i]));
  try {
    await bench(opts, selected, tools, versions, image.dirs);
  } finally {
    signals.forEach((sig, i) => Deno.removeSignalListener(sig, handlers[i]));
    await image.close();
  }
}

/** Generates or reuses the trees, runs the scenarios and reports. */
async function bench(
  opts: Options,
  selected: Scenario[],
  tools: Tool[],
  versions: Record<string, string>,
  dirs: WorkDirs,
): Promise<void> {
  const machine = await describeMachine(versions, dirs.fs);
  console.error(machineText(machine));

  const plans = new Map<string, { plan: TreePlan; dir: string }>();
  for (const name of new Set(selected.map((s) => s.tree))) {
    const plan = planTree(TREES[name]);
    plans.set(name, { plan, dir: await writeTree(plan, join(dirs.trees, name)) });
  }

  const rows: Row[] = [];
  for (const sc of selected) {
    const { plan, dir } = plans.get(sc.tree)!;
    const mb = (plan.bytes / 1e6).toFixed(0);
    console.error(
      `\n== ${sc.id}: ${sc.label} (${plan.files.length} files, ${mb} MB), ${opts.runs} rep(s)`,
    );
    const runScenarioOf = sc.kind === "watch" ? runWatchScenario : runScenario;
    rows.push(...(await runScenarioOf(sc, plan, dir, tools, { ...opts, runDir: dirs.run })));
  }
  addRatios(rows);

  const json = toJson(machine, { ...opts }, rows);
  const resultsDir = join(WORK_DIR, "results");
  await Deno.mkdir(resultsDir, { recursive: true });
  const saved = join(resultsDir, `${machine.date.replace(/[:.]/g, "-")}.json`);
  await Deno.writeTextFile(saved, json + "\n");

  const out = opts.json ? console.error : console.log;
  const timedRows = rows.filter((r) => !r.watch), watchRows = rows.filter((r) => r.watch);
  out(`\n${machineText(machine)}\n`);
  if (timedRows.length > 0) {
    out(`${table(timedRows)}\n`);
    out(`Medians of ${opts.runs} rep(s); CPU = user + sys; × rsync = wall time relative to rsync.`);
  }
  if (watchRows.length > 0) {
    out(`${timedRows.length > 0 ? "\n" : ""}${watchTable(watchRows)}\n`);
    out(
      `Watch: ${opts.runs} session(s) per tool; latency over ${opts.runs * WRITES} writes, ` +
        `polled every ${POLL_MS} ms; sleep = an idle process measured over the same windows.`,
    );
  }
  out(`Saved ${saved}`);
  if (opts.json) console.log(json);
}

if (import.meta.main) await main();
