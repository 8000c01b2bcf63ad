// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Layer rules: domain <- store <- usecases <- grpc <- main (see docs/architecture.md). */
const restrict = (patterns) => ({ "no-restricted-imports": ["error", { patterns }] });

export default tseslint.config(
  { ignores: ["dist/", "src/gen/", "node_modules/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
    },
  },
  { files: ["eslint.config.js", "scripts/*.mjs"], ...tseslint.configs.disableTypeChecked },
  {
    files: ["src/domain/*.ts"],
    rules: restrict([
      { group: ["../store/*", "../usecases/*", "../grpc/*", "../gen/*", "../*.js", "redis", "@grpc/*"], message: "domain imports nothing from outside src/domain" },
    ]),
  },
  {
    // Rooms of the domain (src/domain/filter/): the same rule one folder deeper.
    files: ["src/domain/*/**/*.ts"],
    rules: restrict([
      { group: ["../../store/*", "../../usecases/*", "../../grpc/*", "../../gen/*", "../../*.js", "redis", "@grpc/*"], message: "domain imports nothing from outside src/domain" },
    ]),
  },
  {
    files: ["src/store/**/*.ts"],
    rules: restrict([
      { group: ["**/usecases/*", "**/grpc/*", "**/gen/*", "@grpc/*", "**/observability/*", "prom-client", "@opentelemetry/*"], message: "stores import the domain only (observers: src/store/store-observer.ts)" },
    ]),
  },
  {
    files: ["src/store/embedded/**/*.ts", "src/store/*.ts"],
    rules: restrict([
      // The package (not a path with a `redis` folder in it, such as ./redis/connection-url.js).
      { regex: "^(redis|@redis/.*)$", message: "only src/store/redis imports redis" },
      { group: ["**/usecases/*", "**/grpc/*", "**/gen/*", "@grpc/*", "**/observability/*", "prom-client", "@opentelemetry/*"], message: "stores import the domain only (observers: src/store/store-observer.ts)" },
    ]),
  },
  {
    files: ["src/usecases/**/*.ts"],
    rules: restrict([
      { group: ["**/grpc/*", "**/gen/*", "@grpc/*", "redis", "@redis/*", "**/store/redis/*", "**/store/embedded/*", "**/observability/*", "prom-client", "@opentelemetry/*"], message: "use cases see the VectorStore type only" },
    ]),
  },
  {
    files: ["src/grpc/**/*.ts"],
    rules: restrict([{ group: ["redis", "@redis/*", "**/store/redis/*", "**/store/embedded/*"], message: "transport does not know backends" }]),
  },
);
