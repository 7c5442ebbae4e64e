/**
 * The one error a decoder may throw. `reason` names the statistics counter the
 * receive loop increments (rule 4 of DESIGN.md), `offset` the byte where the
 * decoder gave up, so a malformed packet is counted, never fatal.
 */
export class DecodeError extends Error {
  readonly reason: string;
  readonly offset: number;

  constructor(reason: string, message: string, offset = 0) {
    super(`${reason}: ${message} (at byte ${offset})`);
    this.name = "DecodeError";
    this.reason = reason;
    this.offset = offset;
  }
}
