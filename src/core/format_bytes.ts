/**
 * A byte count as people read it: `512 B`, `1.5 KiB`, `42.0 MiB`, to one decimal in
 * binary units. Pure.
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(n: number): string {
  let i = 0;
  // Up a unit where one decimal would round to 1024 of this one (1,048,575 B: 1.0 MiB).
  while (i < UNITS.length - 1 && (i === 0 ? n >= 1024 : n >= 1023.95)) {
    [n, i] = [n / 1024, i + 1];
  }
  return `${i === 0 ? n : n.toFixed(1)} ${UNITS[i]}`;
}
