/** The two ways loading the configuration ends without a Config (config.ts). */

/** A bad setting: the message names each one; the process should exit with EXIT_CODE. */
export class ConfigError extends Error {
  static readonly EXIT_CODE = 2;
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** `--help` or `--version` was given: the text is printed already; exit with this code. */
export class ConfigExitRequest extends Error {
  constructor(readonly exitCode: number) {
    super("exit requested");
    this.name = "ConfigExitRequest";
  }
}
