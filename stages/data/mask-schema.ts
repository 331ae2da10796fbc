/**
 * The JSON schema of a mask encoding (MaskEncoding): the load stage's `source.mask` and
 * `mu-pipe score --mask` accept the same options. Cheap to import.
 */
import { byKind } from "./schema-by-kind.js";

const rgbSchema = {
  type: "array",
  items: { type: "integer", minimum: 0, maximum: 255 },
  minItems: 3,
  maxItems: 3,
};

export const maskEncodingSchema = byKind("How the sclera is encoded in the mask files (default depends on the source kind)", [
  {
    additionalProperties: false,
    properties: {
      kind: { const: "binary", description: "Sclera where the grey value (brightest channel, dimmed by alpha) > threshold" },
      threshold: { type: "number", minimum: 0, maximum: 255, description: "0-255 scale; 0 = any non-zero value (use ~127 for JPEG masks)" },
    },
  },
  {
    additionalProperties: false,
    required: ["sclera"],
    properties: {
      kind: { const: "class-index", description: "Single-channel or palette mask; the sclera is one class value" },
      sclera: { type: "integer", minimum: 0, description: "Sample value (or palette index) of the sclera class" },
    },
  },
  {
    additionalProperties: false,
    required: ["sclera"],
    properties: {
      kind: { const: "rgb", description: "Colour-coded classes; the sclera is one colour" },
      sclera: { ...rgbSchema, description: "Sclera colour [r, g, b]" },
      tolerance: { type: "number", minimum: 0, maximum: 255, description: "Per-channel tolerance (default 0, or 48 for JPEG masks)" },
      known: { type: "array", items: rgbSchema, description: "Other class colours; pixels of no declared colour are then invalid" },
    },
  },
  {
    additionalProperties: false,
    properties: {
      kind: { const: "alpha", description: "Sclera where the alpha channel > threshold" },
      threshold: { type: "number", minimum: 0, maximum: 255, description: "0-255 scale, default 0" },
    },
  },
]);
