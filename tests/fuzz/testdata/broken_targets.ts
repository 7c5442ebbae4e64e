/**
 * Deliberately broken decoders for the harness's own tests: one throws a
 * TypeError, one loops forever, one is slow on some inputs. The harness must
 * report each, with the input.
 */
import { DecodeError } from "../../../lib/bytes/errors.ts";
import type { FuzzTarget } from "../target.ts";

const seeds = () => [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)];

export const TARGETS: Record<string, FuzzTarget> = {
  /** Reads past its input without a bounds check when the first byte is 0xff. */
  "throws": {
    name: "throws",
    covers: "a decoder with a missing bounds check",
    kind: "bytes",
    seeds,
    create: () => ({
      run(input) {
        if (input.length < 2) return new DecodeError("badlen", "short", 0).reason;
        if (input[0] === 0xff) {
          const fields: number[] = [];
          return String((fields[input[1]] as unknown as { x: number }).x);
        }
        return "ok";
      },
    }),
  },
  /** Spins forever when the first two bytes are zero (a length field of 0 that never advances). */
  "hangs": {
    name: "hangs",
    covers: "a decoder whose loop does not advance",
    kind: "bytes",
    seeds,
    create: () => ({
      run(input) {
        let at = 0;
        while (at < input.length) {
          const length = input.length - at >= 2 ? (input[at] << 8) | input[at + 1] : 2;
          at += length;
        }
        return "ok";
      },
    }),
  },
  /** Quadratic on inputs that start with 0x01: every one of them takes ~60 ms. */
  "slow": {
    name: "slow",
    covers: "a decoder with a pathological input",
    kind: "bytes",
    seeds,
    create: () => ({
      run(input) {
        if (input[0] !== 0x01) return "ok";
        const until = performance.now() + 60;
        while (performance.now() < until) {
          // burn
        }
        return "slow";
      },
    }),
  },
};
