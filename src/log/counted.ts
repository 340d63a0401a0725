/**
 * A number with its noun, singular for one (`counted(1, "copy", "copies")`: "1 copy"), for
 * log lines and summaries. Pure.
 */
export function counted(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
