/** Exit codes every command keeps: scripts and the rc.d script depend on them. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Thrown by a command to end with a message and a code, without a stack trace. */
export class CliExit extends Error {
  readonly code: number;
  constructor(code: number, message = "") {
    super(message);
    this.name = "CliExit";
    this.code = code;
  }
}
