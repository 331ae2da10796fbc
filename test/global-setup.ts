import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Tests that spawn `mu-pipe` run the compiled CLI, so compile once up front. Type
 * errors are `npm run typecheck`'s job; tsc still emits, so only a missing CLI stops here.
 */
export default function setup(): void {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  spawnSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root, stdio: "ignore" });
  if (!existsSync(path.join(root, "dist/cli/main.js"))) throw new Error("building the CLI (tsc -p tsconfig.build.json) produced no dist/cli/main.js");
}
