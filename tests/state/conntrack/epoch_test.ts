import { bootEpoch } from "../../../lib/state/conntrack/mod.ts";
import { assertEquals } from "../../helpers/assert.ts";

Deno.test("bootEpoch() takes the first 32 bits of the boot id", () => {
  const read = () => "25bf943c-710c-4623-b0ba-3d4ae541ba2d\n";
  assertEquals(bootEpoch(read), 0x25bf943c);
});

Deno.test("bootEpoch() is undefined when the boot id is unreadable or malformed", () => {
  assertEquals(
    bootEpoch(() => {
      throw new Deno.errors.NotFound("no /proc");
    }),
    undefined,
  );
  assertEquals(bootEpoch(() => "x-y\n"), undefined);
});
