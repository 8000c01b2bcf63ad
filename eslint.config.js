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
  { files: ["eslint.config.js", "scripts/*.mjs", "bin/*.mjs"], ...tseslint.configs.disableTypeChecked },
  {
    files: ["src/domain/*.ts"],
    rules: restrict([
      { group: ["../store/*", "../usecases/*", "../grpc/*", "../gen/*", "../*.js", "redis", "@grpc/*", "../cli/*"], message: "domain imports nothing from outside src/domain" },
    ]),
  },
  {
    // Rooms of the domain (src/domain/filter/): the same rule one folder deeper.
    files: ["src/domain/*/**/*.ts"],
    rules: restrict([
      { group: ["../../store/*", "../../usecases/*", "../../grpc/*", "../../gen/*", "../../*.js", "redis", "@grpc/*", "../../cli/*"], message: "domain imports nothing from outside src/domain" },
    ]),
  },
  {
    files: ["src/store/**/*.ts"],
    rules: restrict([
      { group: ["**/usecases/*", "**/grpc/*", "**/gen/*", "@grpc/*", "**/observability/*", "prom-client", "@opentelemetry/*", "**/cli/*"], message: "stores import the domain only (observers: src/store/store-observer.ts)" },
    ]),
  },
  {
    files: ["src/store/embedded/**/*.ts", "src/store/*.ts"],
    rules: restrict([
      // The package (not a path with a `redis` folder in it, such as ./redis/connection-url.js).
      { regex: "^(redis|@redis/.*)$", message: "only src/store/redis imports redis" },
      { group: ["**/usecases/*", "**/grpc/*", "**/gen/*", "@grpc/*", "**/observability/*", "prom-client", "@opentelemetry/*", "**/cli/*"], message: "stores import the domain only (observers: src/store/store-observer.ts)" },
    ]),
  },
  {
    files: ["src/usecases/**/*.ts"],
    rules: restrict([
      { group: ["**/grpc/*", "**/gen/*", "@grpc/*", "redis", "@redis/*", "**/store/redis/*", "**/store/embedded/*", "**/observability/*", "prom-client", "@opentelemetry/*", "**/cli/*"], message: "use cases see the VectorStore type only" },
    ]),
  },
  {
    // Protobuf encoding shared by the server's transport and the CLI's client: the generated types only.
    files: ["src/wire/**/*.ts"],
    rules: restrict([
      { group: ["../domain/*", "../store/*", "../usecases/*", "../grpc/*", "../observability/*", "../cli/*", "../*.js", "redis", "@redis/*", "@grpc/*"], message: "src/wire imports src/gen only" },
    ]),
  },
  {
    files: ["src/grpc/**/*.ts"],
    rules: restrict([
      { group: ["redis", "@redis/*", "**/store/redis/*", "**/store/embedded/*"], message: "transport does not know backends" },
      { group: ["**/cli/*"], message: "nothing in src/ but src/cli imports the CLI" },
    ]),
  },
  {
    // main, config, workers: the server's wiring never imports the CLI.
    files: ["src/*.ts", "src/observability/**/*.ts"],
    rules: restrict([{ group: ["./cli/*", "../cli/*"], message: "nothing in src/ but src/cli imports the CLI" }]),
  },
  {
    // The CLI is a client of the server: the generated client and grpc-js, nothing of the server.
    files: ["src/cli/**/*.ts"],
    rules: restrict([
      {
        group: ["../domain/*", "../domain/**", "../store/*", "../store/**", "../usecases/*", "../grpc/*", "../*.js", "redis", "@redis/*"],
        message: "the CLI is a client: it imports src/gen, src/wire and @grpc/grpc-js only",
      },
    ]),
  },
);
