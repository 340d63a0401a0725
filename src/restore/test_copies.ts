/** Tests' records of stored copies: a file's, its digest made from the text it holds. */
import { createHash } from "node:crypto";
import type { StoredCopy } from "../state/store.ts";

let nextId = 1;

/**
 * The record of a current copy at `storedAt` holding `text`, its digest under `algo`, of
 * the file `s/<storedAt>`; `extra` sets any other field.
 */
export function storedCopy(
  storedAt: string,
  text: string,
  algo = "sha256",
  extra: Partial<StoredCopy> = {},
): StoredCopy {
  return {
    id: nextId++,
    path: `s/${storedAt}`,
    seq: 1,
    kind: "file",
    hash: createHash(algo).update(text).digest("hex"),
    algo,
    size: new TextEncoder().encode(text).length,
    mtimeMs: 0,
    mode: 0o100644,
    linkTarget: null,
    location: "latest",
    storedAt,
    validFrom: 0,
    validTo: null,
    prunedAt: null,
    ...extra,
  };
}
