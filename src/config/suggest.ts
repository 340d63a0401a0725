/**
 * Did-you-mean for config keys and values. Words are compared after lower-casing and
 * dropping `-`, `_` and spaces (so `maxVersionsPerFile` finds `max_versions_per_file`),
 * by optimal-string-alignment distance (a swap of two neighbours counts as one edit).
 * Short words tolerate one edit, longer ones two; a long enough prefix also matches.
 */

function normalize(word: string): string {
  return word.toLowerCase().replace(/[-_\s]/g, "");
}

/** Edit distance with insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = best;
    }
  }
  return rows[a.length][b.length];
}

/** The candidate closest to `word`, if one is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const target = normalize(word);
  if (target === "") return undefined;
  const limit = target.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const norm = normalize(candidate);
    let score = editDistance(target, norm);
    if (score > limit) score = target.length >= 4 && norm.startsWith(target) ? limit + 1 : Infinity;
    if (score < bestScore) [best, bestScore] = [candidate, score];
  }
  return best;
}

/** ` (did you mean 'x'?)` or "", for appending to a message. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const hit = suggest(word, candidates);
  return hit === undefined ? "" : ` (did you mean '${hit}'?)`;
}
