/**
 * Exports a mu-pipe model folder for use outside mu-pipe: as a TF.js LayersModel folder
 * (browser, React Native) or as one Keras HDF5 file (`keras.models.load_model`). Output
 * is written beside its destination and renamed into place, so a failed export leaves
 * nothing half-written; an existing destination is replaced only with `force`.
 */
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

import { MODEL_JSON, METADATA_JSON, loadModelFolder, saveModelFolder, type ModelMetadata } from "../model/model-folder.js";
import { quietTensorflow } from "../runtime/backend.js";
import { ExportError } from "./export-error.js";
import { tfjsReadme } from "./feeding-notes.js";
import { writeKerasModelFile } from "./keras-model-file.js";
import { WEB_MODEL_DIR, writeWebSite } from "./web/web-site.js";

export const EXPORT_FORMATS = ["tfjs", "keras", "web"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const README_TXT = "README.txt";
export const EXPORTED_BY = "mu-pipe export v1";
/** File name endings Keras's `load_model` takes as the legacy HDF5 format. */
export const KERAS_EXTENSIONS = [".h5", ".hdf5"] as const;

export interface ExportOptions {
  /** A mu-pipe model folder (with mu-model.json). */
  readonly modelDir: string;
  readonly format: ExportFormat;
  /** A folder for `tfjs` and `web`, a `.h5` file for `keras`. */
  readonly out: string;
  /** Replace `out` if it exists (only if it looks like an earlier export). */
  readonly force?: boolean;
  /** Named in README.txt; default EXPORTED_BY. */
  readonly exportedBy?: string;
}

export interface ExportResult {
  /** Absolute path of what was written. */
  readonly out: string;
  readonly metadata: ModelMetadata;
  /** Files written, relative to `out` for a folder (just `out`'s name for a file). */
  readonly files: readonly string[];
}

export async function exportModel(options: ExportOptions): Promise<ExportResult> {
  const out = path.resolve(options.out);
  checkOutput(out, options);
  // Export reads and writes weights on whatever backend is active (cpu unless a caller chose one).
  quietTensorflow();
  const { model, metadata } = await loadModelFolder(options.modelDir);
  try {
    await mkdir(path.dirname(out), { recursive: true });
    if (options.format === "tfjs" || options.format === "web") {
      const temporary = `${out}.${process.pid}-${Date.now()}.tmp`;
      try {
        if (options.format === "tfjs") {
          await saveModelFolder(model, temporary, metadata);
          await writeFile(path.join(temporary, README_TXT), tfjsReadme(metadata, options.exportedBy ?? EXPORTED_BY));
        } else {
          await saveModelFolder(model, path.join(temporary, WEB_MODEL_DIR), metadata);
          await writeWebSite(temporary, metadata);
        }
        await replaceWith(temporary, out);
      } finally {
        await rm(temporary, { recursive: true, force: true });
      }
      return { out, metadata, files: (await readdir(out)).sort() };
    }
    await writeKerasModelFile(out, model, metadata);
    return { out, metadata, files: [path.basename(out)] };
  } finally {
    model.dispose();
  }
}

/** Refuses an output path that is taken (without `force`), unsafe to replace, or the source itself. */
function checkOutput(out: string, options: ExportOptions): void {
  const refuse = (detail: string): never => {
    throw new ExportError({ kind: "bad-output", path: out, detail });
  };
  if (options.format === "keras" && !KERAS_EXTENSIONS.some((ext) => out.toLowerCase().endsWith(ext))) {
    refuse(`a Keras export is one HDF5 file whose name ends in ${KERAS_EXTENSIONS.join(" or ")} (Keras picks the loader by the extension)`);
  }
  if (!existsSync(out)) return;
  const source = realpathSync(path.resolve(options.modelDir));
  const target = realpathSync(out);
  if (target === source || !path.relative(target, source).startsWith("..")) refuse("is (or holds) the model being exported; choose another --out");
  const info = statSync(out);
  if (options.format === "keras" && info.isDirectory()) refuse("is a folder; a Keras export is one .h5 file");
  if (options.format !== "keras" && !info.isDirectory()) refuse(`is a file; a ${options.format === "web" ? "web" : "TF.js"} export is a folder`);
  if (options.format !== "keras" && !looksLikeExport(out)) {
    const marks = options.format === "web" ? `${WEB_MODEL_DIR}/${METADATA_JSON}` : `${MODEL_JSON} or ${METADATA_JSON}`;
    refuse(`is a folder that holds files but no ${marks}, so not an earlier export; not replacing it, even with --force`);
  }
  if (!options.force) throw new ExportError({ kind: "output-exists", path: out, detail: "pass --force to replace it" });
}

/** An earlier export (or an empty folder): safe to replace. */
function looksLikeExport(dir: string): boolean {
  return (
    existsSync(path.join(dir, MODEL_JSON)) ||
    existsSync(path.join(dir, METADATA_JSON)) ||
    existsSync(path.join(dir, WEB_MODEL_DIR, METADATA_JSON)) ||
    readdirSync(dir).length === 0
  );
}

/** Moves folder `from` to `to`, replacing an existing `to` only once `from` is complete. */
async function replaceWith(from: string, to: string): Promise<void> {
  if (!existsSync(to)) {
    await rename(from, to);
    return;
  }
  const old = `${to}.${process.pid}-${Date.now()}.old`;
  await rename(to, old);
  try {
    await rename(from, to);
  } catch (error) {
    await rename(old, to);
    throw error;
  }
  await rm(old, { recursive: true, force: true });
}
