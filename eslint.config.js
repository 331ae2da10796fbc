import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import importX from "eslint-plugin-import-x";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "runs/", "test-artifacts/", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // Only the CLI's output module prints; everything else emits events or returns values.
      "no-console": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The layers point one way: cli -> pipeline <- stages, and cli -> stages. The engine
    // (pipeline/) knows nothing of the domain or the command line; stages/ never print
    // nor parse arguments. And no module imports itself back through others (a stage,
    // its runner and its report import a params leaf, not each other).
    files: ["pipeline/**/*.ts", "stages/**/*.ts", "cli/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      // Dependencies are parsed as TypeScript (no-cycle follows them), and `.js`
      // specifiers of TypeScript ESM resolve to the `.ts` sources.
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/extensions": [".ts", ".js"],
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
    },
    rules: {
      "import-x/no-restricted-paths": [
        "error",
        {
          zones: [
            { target: "./pipeline", from: "./stages", message: "pipeline/ is the engine: it must not know the stages (they register through the StageRegistry)." },
            { target: "./pipeline", from: "./cli", message: "pipeline/ must not import the CLI: the CLI drives the engine, not the other way round." },
            { target: "./stages", from: "./cli", message: "stages/ must not import the CLI: stages return values and throw typed errors; only the CLI prints." },
          ],
        },
      ],
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
    },
  },
  { files: ["cli/output/**", "bench/**", "test/**", "scripts/**"], rules: { "no-console": "off" } },
  {
    // The exported web app's page scripts: plain browser JavaScript over TF.js's UMD
    // bundle (global `tf`); the browser console is theirs to warn in.
    files: ["stages/export/web/site/**/*.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.browser, tf: "readonly" } },
    rules: { "no-console": "off" },
  },
);
