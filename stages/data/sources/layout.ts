/**
 * A dataset layout the `load` stage reads: everything about one `source.kind` in one
 * place (its params, their schema, its default mask encoding, the folders it reads and
 * how to scan them). A new layout is one file under sources/ exporting a
 * `defineLayout(...)` and one line in layouts.ts; the schema, the cache fingerprint and
 * the load stage pick it up from there.
 *
 * Layout files stay cheap to import (no sharp at the top): the stage registry loads them.
 */
import path from "node:path";

import type { ExternalInput, ProgressUpdate } from "../../../pipeline/stage.js";
import type { MaskEncoding } from "../dataset-manifest.js";
import { maskEncodingSchema } from "../mask-schema.js";
import type { SourceScan } from "./source-scan.js";

/** What a scan may use besides its params. */
export interface ScanRun {
  /** The experiment file's folder: source paths are relative to it. */
  readonly baseDir: string;
  readonly seed: number;
  /** `outDir/dataset`: generated sources write their files here. */
  readonly datasetDir: string;
  readonly signal: AbortSignal;
  readonly progress: (update: ProgressUpdate) => void;
}

export interface SourceLayout<P extends { readonly kind: string }> {
  readonly kind: P["kind"];
  /** The `source` schema branch of this kind: an object schema whose `kind` property is `{ const: kind, description }`. */
  readonly schema: Record<string, unknown>;
  /** How its masks encode the sclera unless `source.mask` says otherwise. */
  readonly defaultMask: MaskEncoding;
  /** The files and folders it reads (absolute), with what each is: their content joins the cache fingerprint. */
  inputs(source: P, baseDir: string): ExternalInput[];
  /** Finds (or generates) the image/mask pairs. */
  scan(source: P, run: ScanRun): Promise<SourceScan>;
}

export function defineLayout<P extends { readonly kind: string }>(layout: SourceLayout<P>): SourceLayout<P> {
  const kind = ((layout.schema["properties"] as Record<string, { const?: string }> | undefined)?.["kind"] ?? {}).const;
  if (kind !== layout.kind) throw new Error(`layout ${layout.kind}: its schema's kind is ${JSON.stringify(kind)}`);
  return layout;
}

/** A layout under one root folder (MASD, SBVPI, MOBIUS): `root` and an optional `mask`. */
export interface TreeSource<K extends string> {
  readonly kind: K;
  /** The dataset's root folder, relative to the experiment file. */
  readonly root: string;
  readonly mask?: MaskEncoding;
}

export const pathSchema = (description: string): Record<string, unknown> => ({ type: "string", minLength: 1, description });

/** The schema branch of a TreeSource layout. */
export function treeSchema(kind: string, description: string): Record<string, unknown> {
  return {
    additionalProperties: false,
    required: ["root"],
    properties: {
      kind: { const: kind, description },
      root: pathSchema("The dataset's root folder, relative to the experiment file"),
      mask: maskEncodingSchema,
    },
  };
}

/** `root/<folder>` of a TreeSource, as a fingerprint input. */
export function underRoot(source: TreeSource<string>, baseDir: string, folder: string, what: string): ExternalInput {
  return { path: path.join(path.resolve(baseDir, source.root), folder), about: `${what}: source.root + /${folder}, for the ${source.kind} layout` };
}
