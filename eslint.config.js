// Lint: typescript-eslint's recommended type-checked rules; floating promises are errors (a lost promise is lost work).
import tseslint from "typescript-eslint";

const SQLITE = "load node:sqlite with loadSqlite() from src/core/node-warnings.ts (it keeps Node's ExperimentalWarning about it from users)";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".venv/**", ".venv-bench/**", "python/**", "**/*.js", "**/*.mjs"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "it", "describe", "suite"] }] },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-unsafe-function-type": "off",
    },
  },
  {
    // node:sqlite only through loadSqlite() (src/core/node-warnings.ts): loaded any other way it prints Node's
    // ExperimentalWarning on some releases, and a static import loads it before anything could filter that.
    ignores: ["src/core/node-warnings.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", { paths: [{ name: "node:sqlite", message: SQLITE, allowTypeImports: true }] }],
      "no-restricted-syntax": [
        "error",
        { selector: "ImportExpression[source.value='node:sqlite']", message: SQLITE },
        { selector: "CallExpression[callee.property.name='getBuiltinModule'][arguments.0.value=/sqlite/]", message: SQLITE },
      ],
    },
  },
);
