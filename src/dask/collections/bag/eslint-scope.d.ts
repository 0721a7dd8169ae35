/** The part of eslint-scope's API daskflow uses (the package ships no types). */
declare module "eslint-scope" {
  interface Reference {
    identifier: { name: string; start?: number };
  }
  interface Scope {
    through: Reference[];
  }
  interface ScopeManager {
    globalScope: Scope;
  }
  export function analyze(ast: object, options: { ecmaVersion: number; sourceType: "script" | "module" }): ScopeManager;
}
