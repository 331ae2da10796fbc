/**
 * Every dataset layout the `load` stage reads, in the order the schema lists them. A new
 * layout: one file under sources/ exporting its `defineLayout(...)`, and one entry here.
 */
import { foldersLayout } from "./folders.js";
import type { SourceLayout } from "./layout.js";
import { masdLayout } from "./masd.js";
import { mobiusLayout } from "./mobius.js";
import { sbvpiLayout } from "./sbvpi.js";
import { syntheticLayout } from "./synthetic.js";

export const SOURCE_LAYOUTS = [foldersLayout, masdLayout, sbvpiLayout, mobiusLayout, syntheticLayout] as const;

/** A `source:` of any layout, told apart by `kind`. */
export type SourceParams = ParamsOf<(typeof SOURCE_LAYOUTS)[number]>;
export type SourceKind = SourceParams["kind"];
type ParamsOf<L> = L extends SourceLayout<infer P> ? P : never;

/** The layout that reads `source`. */
export function layoutOf(source: SourceParams): SourceLayout<SourceParams> {
  const layout = SOURCE_LAYOUTS.find((l) => l.kind === source.kind);
  if (layout === undefined) throw new Error(`unknown source kind ${JSON.stringify(source.kind)}`);
  // The layout of this kind takes this kind's params.
  return layout as unknown as SourceLayout<SourceParams>;
}
