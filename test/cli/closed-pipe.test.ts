/** `mu-pipe schema | head -1`: a reader that stops early ends the command quietly, not with an EPIPE stack trace. */
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { expect, it } from "vitest";

import { repoRoot } from "../pipeline/engine-rig.js";

it("exits 0 without an error when its output pipe closes early", async () => {
  // `schema` prints ~100 KB: far more than one pipe buffer, so writes continue after the close.
  const child = spawn(process.execPath, [path.join(repoRoot, "bin/mu-pipe.js"), "schema"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  await once(child.stdout, "data");
  child.stdout.destroy();
  const [code] = (await once(child, "exit")) as [number | null];
  expect(stderr).not.toContain("EPIPE");
  expect(code).toBe(0);
});
