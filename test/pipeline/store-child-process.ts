import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The compiled store module (test/global-setup.ts builds dist/ before the tests run). */
export const COMPILED_STORE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/pipeline/store/fs-store.js");

/** Writes `source` as an .mjs file in `dir`, with `STORE_MODULE` bound to the compiled store's URL, and starts it. */
export async function startScript(dir: string, name: string, source: string, args: string[] = []): Promise<ChildProcess> {
  if (!existsSync(COMPILED_STORE)) throw new Error(`${COMPILED_STORE} is missing: run \`npm run build\` (vitest's global setup does)`);
  const file = path.join(dir, name);
  await writeFile(file, `const STORE_MODULE = ${JSON.stringify(pathToFileURL(COMPILED_STORE).href)};\n${source}`);
  return spawn(process.execPath, [file, ...args], { stdio: ["ignore", "pipe", "inherit"] });
}

/** Resolves with the first stdout line of `child` that satisfies `accept`. */
export function waitForLine(child: ChildProcess, accept: (line: string) => boolean = () => true): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      const line = lines.find(accept);
      if (line !== undefined) {
        child.stdout?.off("data", onData);
        resolve(line);
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code, signal) => reject(new Error(`child exited (${code ?? signal}) before printing the expected line`)));
  });
}

/** SIGKILLs the child and waits until it has been reaped, so its pid is really gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}
