/**
 * Rows of text as a table people read in a terminal: each column as wide as its widest
 * cell, two spaces apart, the last column not padded. Pure.
 */

/** The header's line, then a line a row. */
export function formatTable(header: string[], rows: string[][]): string[] {
  // A loop, not Math.max(...rows): a run every five minutes for a year is 105,000 rows, and
  // a path a watch backs up every ten seconds for two weeks some 120,000 contents; that
  // many arguments would overflow the stack.
  const widths = header.map((h) => h.length);
  for (const r of rows) r.forEach((cell, i) => widths[i] = Math.max(widths[i], cell.length));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(header), ...rows.map(line)];
}
