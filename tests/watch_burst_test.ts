/**
 * `watch` and a burst of events larger than the kernel queues for Deno's watcher (Linux:
 * `max_queued_events`, 16,384 by default): the times of 20,000 files set at once, one
 * event each, as a `touch` of a tree makes them. The queue may overflow, and Deno 2.9.6
 * drops the kernel's notice of it; events it never read were of files that then waited for
 * the next periodic rescan (off here), their new times not backed up (about 4,000 of
 * 20,000, in one try of three before the fix; the other two said the overflow). A burst of
 * half as many events as the kernel queues asks for a full rescan once it has settled.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeFixture, poll } from "./helpers.ts";
import { WatchProcess } from "./watch_helpers.ts";

const WATCH = { watch: { debounce_ms: 200, rescan_interval: 0 } };
const FILES = 20_000;
const name = (i: number) => `d${i % 100}/f${i}.txt`;
/** The time set on every file: far from any the files had, so that a copy shows it. */
const SET = new Date("2001-02-03T04:05:06Z");

Deno.test({
  name:
    "watch: the times of 20,000 files set at once are all backed up, the queue's overflow said or not",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const tree: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) tree[name(i)] = `${i}\n`;
    using fx = makeFixture(tree, WATCH);
    await using w = new WatchProcess(fx);
    await w.ready();
    for (let i = 0; i < FILES; i++) Deno.utimeSync(join(fx.source, name(i)), SET, SET);
    const stale = () => {
      let left = 0;
      for (let i = 0; i < FILES; i++) {
        const copy = join(fx.backup, name(i));
        if (Deno.statSync(copy).mtime?.getTime() !== SET.getTime()) left++;
      }
      return left;
    };
    await poll("every copy's time set", () => stale() === 0, 90_000).catch((e) => {
      throw new Error(`${e.message}: ${stale()} of ${FILES} copies still have their old time`);
    });
    const exit = await w.stop();
    assert.equal(exit.code, 0, exit.stderr);
    assert.doesNotMatch(exit.stderr, /ERROR|WARNING/);
  },
});
