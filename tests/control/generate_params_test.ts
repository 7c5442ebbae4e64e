/** The control server's params check for `states.generate`. */
import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ControlError, UNARY_METHODS } from "../../lib/control/protocol.ts";
import { MAX_GENERATE, validateParams } from "../../lib/control/validate.ts";

Deno.test("validateParams(states.generate) takes a count and an optional seed", () => {
  assertEquals(UNARY_METHODS.includes("states.generate"), true);
  assertEquals(validateParams("states.generate", { count: 100 }), { count: 100 });
  assertEquals(validateParams("states.generate", { count: 0, seed: 7 }), { count: 0, seed: 7 });
  assertEquals(
    validateParams("states.generate", { count: MAX_GENERATE, seed: 0xffffffff }),
    { count: MAX_GENERATE, seed: 0xffffffff },
  );
});

Deno.test("validateParams(states.generate) rejects bad counts and seeds as invalid_params", () => {
  const bad: Record<string, unknown>[] = [
    {},
    { count: "10" },
    { count: -1 },
    { count: 1.5 },
    { count: MAX_GENERATE + 1 },
    { count: 10, seed: -1 },
    { count: 10, seed: 2 ** 32 },
    { count: 10, seed: "x" },
  ];
  for (const params of bad) {
    const error = assertThrows(() => validateParams("states.generate", params), ControlError);
    assertEquals((error as ControlError).code, "invalid_params", JSON.stringify(params));
  }
});
