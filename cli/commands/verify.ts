import path from "node:path";
import { MuPipeError } from "../../pipeline/failure.js";
import { openStore } from "../../pipeline/store/fs-store.js";
import { parseCommandArgs } from "../args.js";
import type { Command } from "../command.js";

const usage = `usage: mu-pipe verify [--runs-dir runs] [--store <runs-dir>/.store]

Re-hashes every stored artifact and checks it against its manifest. Exit code 1 when
anything differs.`;

const options = { "runs-dir": { type: "string", default: "runs" }, store: { type: "string" } } as const;

export const verifyCommand: Command = {
  name: "verify",
  summary: "check artifacts against their manifests",
  usage,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, options, usage);
    const store = await openStore(path.resolve(io.cwd, values.store ?? path.join(values["runs-dir"], ".store")));
    const problems = await store.verify();
    if (problems.length > 0) {
      throw new MuPipeError({ reason: "store-corrupt", problems: problems.map((p) => `${p.digest.slice(0, 12)} ${p.path}: ${p.problem}`) });
    }
    io.out(`all artifacts in ${store.root} match their manifests`);
    return 0;
  },
};
