// Tests of the watch scenarios' pure part (watch_figures.ts): /proc parsing, the files a latency
// rep rewrites, and the figures and verdicts the watch table shows. Run it by name (deno.json
// leaves bench/ out of `deno task test`): deno test -A bench/watch_figures_test.ts

import assert from "node:assert/strict";
import { planTree, TREES } from "./gen.ts";
import {
  cpuTicks,
  figureCells,
  idleFigures,
  latencyFigures,
  latencyPicks,
  newContent,
  peakRssMiB,
} from "./watch_figures.ts";

Deno.test("cpuTicks adds utime and stime, counting fields from the last ')' of the name", () => {
  const stat = "4242 (deno (x) y) S 1 4242 4242 0 -1 4194560 9 0 0 0 17 5 0 0 20 0 8 0 1 2 3";
  assert.deepEqual(cpuTicks(stat), 22);
  assert.throws(() => cpuTicks("4242 (deno) S 1"), /Cannot read CPU times/);
});

Deno.test("cpuTicks reads this process's own /proc stat", () => {
  const ticks = cpuTicks(Deno.readTextFileSync("/proc/self/stat"));
  assert.ok(Number.isInteger(ticks) && ticks >= 0);
});

Deno.test("peakRssMiB reads VmHWM in MiB, NaN when absent", () => {
  assert.deepEqual(peakRssMiB("Name:\tdeno\nVmHWM:\t   81920 kB\nVmRSS:\t 4096 kB\n"), 80);
  assert.ok(Number.isNaN(peakRssMiB("Name:\tdeno\n")));
});

Deno.test("latencyPicks: ordinary files of at most 64 KiB whose content no other path holds", () => {
  const plan = planTree(TREES["2k"]);
  const picks = latencyPicks(plan, 20);
  assert.deepEqual(picks.length, 20);
  assert.deepEqual(new Set(picks.map((f) => f.path)).size, 20);
  for (const f of picks) {
    assert.match(f.path, /(^|\/)f\d+\.[^/]+$/);
    assert.ok(f.size <= 64 * 1024);
    assert.deepEqual(plan.files.filter((g) => g.seed === f.seed).length, 1, f.path);
  }
  assert.throws(() => latencyPicks(plan, plan.files.length), /only/);
});

Deno.test("newContent: the file's size, bytes differing from the file's and between writes", () => {
  const [f] = latencyPicks(planTree(TREES["2k"]), 1);
  const a = newContent(f, 0), b = newContent(f, 1);
  assert.deepEqual(a.length, f.size);
  assert.ok(a.some((x, i) => x !== b[i]));
  assert.deepEqual(newContent(f, 0), a); // a copy: the next call does not change it
});

Deno.test("latencyFigures: met only when every write is within debounce + 200 ms", () => {
  const ok = latencyFigures([12, 200, 30], [14, 199, 31], 200);
  assert.deepEqual([ok.met, ok.limitMs, ok.debounceMs], [true, 200, 200]);
  assert.deepEqual(figureCells(ok), ["30 ms", "200 ms", "≤ 200 ms", "yes"]);
  const late = latencyFigures([12, 201], [], 200);
  assert.deepEqual(figureCells(late)[3], "no");
  assert.deepEqual(figureCells(latencyFigures([], [], 200)), ["—", "—", "≤ 200 ms", "—"]);
});

Deno.test("idleFigures: ticks to ms; met below 0.1% of a core in every window", () => {
  const under = idleFigures([2, 0, 1], 100, 30, true);
  assert.deepEqual(under.values, [20, 0, 10]);
  assert.deepEqual(figureCells(under), [
    "1 (10 ms)",
    "2 (20 ms)",
    "< 30 ms (0.1% of a core)",
    "yes",
  ]);
  const over = idleFigures([1, 3], 100, 30, true); // 30 ms in 30 s is 0.1%: not below it
  assert.deepEqual(figureCells(over), ["2 (20 ms)", "3 (30 ms)", "< 30 ms (0.1% of a core)", "no"]);
  const reference = idleFigures([0, 0], 100, 30, false);
  assert.deepEqual(figureCells(reference), ["0 (0 ms)", "0 (0 ms)", "—", "—"]);
});
