import assert from "node:assert/strict";
import { type LocalReading, localZoneProblem } from "./local_zone.ts";

const utc: LocalReading = { zone: "UTC", offsets: [0, 0], year: 2026 };
const noRealPath = (p: string) => p;

Deno.test("localZoneProblem: a zone Deno knows, with its rules, is no problem; UTC's names neither", () => {
  assert.equal(localZoneProblem(""), undefined);
  assert.equal(
    localZoneProblem("Europe/Berlin", { zone: "Europe/Berlin", offsets: [60, 120], year: 2026 }),
    undefined,
  );
  for (const tz of ["UTC0", "GMT0", "Etc/UTC", ":UTC", "Zulu"]) {
    assert.equal(localZoneProblem(tz, utc, noRealPath), undefined, tz);
  }
});

Deno.test("localZoneProblem: a POSIX rule is refused only where Deno reads it otherwise than it means", () => {
  // Read at their fixed offsets (a zone Deno names none of): what they mean.
  assert.equal(localZoneProblem("EST5", { offsets: [-300, -300], year: 2026 }), undefined);
  assert.equal(localZoneProblem("EST+5", { offsets: [-300, -300], year: 2026 }), undefined);
  assert.equal(localZoneProblem("JST-9", { offsets: [540, 540], year: 2026 }), undefined);
  // Read as UTC, or at another offset than it means (POSIX counts hours west: UTC+3 is 3 west).
  assert.match(
    localZoneProblem("IST-5:30", utc)!,
    /^TZ 'IST-5:30' is a POSIX rule, which Deno reads as UTC$/,
  );
  assert.match(localZoneProblem("<+14>-14", utc)!, /reads as UTC$/);
  assert.match(
    localZoneProblem("UTC+3", { offsets: [180, 180], year: 2026 })!,
    /^TZ 'UTC\+3' is a POSIX rule, which Deno reads as UTC\+03:00$/,
  );
  // Daylight saving time, which Deno drops.
  assert.match(localZoneProblem("CET-1CEST,M3.5.0,M10.5.0/3", utc)!, /with daylight saving time/);
});

Deno.test("localZoneProblem: a zone file's path is refused only where its daylight saving time is lost", () => {
  const berlin = "/usr/share/zoneinfo/Europe/Berlin";
  // Deno reads a path at the zone's standard offset all year.
  const standard: LocalReading = { offsets: [60, 60], year: 2026 };
  assert.match(
    localZoneProblem(berlin, standard, noRealPath)!,
    /^TZ '.*Berlin' is a zone file, which Deno reads without its daylight saving time \(set TZ=Europe\/Berlin\)$/,
  );
  assert.match(localZoneProblem(`:${berlin}`, standard, noRealPath)!, /set TZ=Europe\/Berlin/);
  // A zone without daylight saving time, or a link to UTC, is read right.
  const kolkata = "/usr/share/zoneinfo/Asia/Kolkata";
  assert.equal(
    localZoneProblem(kolkata, { offsets: [330, 330], year: 2026 }, noRealPath),
    undefined,
  );
  const toUtc = () => "/usr/share/zoneinfo/Etc/UTC";
  assert.equal(
    localZoneProblem("/etc/localtime", { offsets: [0, 0], year: 2026 }, toUtc),
    undefined,
  );
  // A typo, which Deno reads as UTC.
  assert.match(localZoneProblem("Asia/Kolkatta", utc, noRealPath)!, /not a time zone Deno knows/);
});

Deno.test("localZoneProblem on Windows: TZ is not read (Deno reads Windows's own zone), so one meaning another zone is refused", () => {
  const berlin: LocalReading = { zone: "Europe/Berlin", offsets: [60, 120], year: 2026 };
  // Git Bash or PowerShell with TZ set: Deno reads local times in Windows's zone regardless.
  assert.match(
    localZoneProblem("Asia/Kolkata", berlin, noRealPath, "windows")!,
    /^TZ 'Asia\/Kolkata' is not read by Deno on Windows, which reads local times in Windows's time zone \(Europe\/Berlin\)$/,
  );
  assert.match(
    localZoneProblem("Asia/Kolkata", utc, noRealPath, "windows")!,
    /not read by Deno on Windows, which reads local times in Windows's time zone \(UTC\)$/,
  );
  assert.match(localZoneProblem("IST-5:30", berlin, noRealPath, "windows")!, /not read by Deno/);
  // A TZ that means what Windows's zone gives: no problem.
  assert.equal(localZoneProblem("Europe/Berlin", berlin, noRealPath, "windows"), undefined);
  assert.equal(localZoneProblem("Europe/Paris", berlin, noRealPath, "windows"), undefined);
  assert.equal(localZoneProblem("UTC", utc, noRealPath, "windows"), undefined);
  assert.equal(localZoneProblem("UTC0", utc, noRealPath, "windows"), undefined);
  assert.equal(localZoneProblem("", berlin, noRealPath, "windows"), undefined);
  // Git Bash passes on only a TZ the C runtime takes: a POSIX rule, its summer an hour ahead.
  assert.equal(localZoneProblem("CET-1CEST", berlin, noRealPath, "windows"), undefined);
  const sydney: LocalReading = { zone: "Australia/Sydney", offsets: [660, 600], year: 2026 };
  assert.equal(localZoneProblem("AEST-10AEDT", sydney, noRealPath, "windows"), undefined);
  assert.match(localZoneProblem("CET-1CEST", utc, noRealPath, "windows")!, /time zone \(UTC\)$/);
});
