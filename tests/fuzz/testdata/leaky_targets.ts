/**
 * The real pfsync and CARP receive paths with a sabotage that changes state
 * after a rejected input: the harness's state checks must notice.
 */
import { makeState } from "../../pfsync/fixtures.ts";
import type { FuzzTarget } from "../target.ts";
import { carpTarget, createHost } from "../targets/carp.ts";
import { createEngine, pfsyncTarget } from "../targets/pfsync.ts";

export const TARGETS: Record<string, FuzzTarget> = {
  /** The real engine; a rejected packet then inserts one state behind the receiver's back. */
  "pfsync-leaks": {
    ...pfsyncTarget,
    name: "pfsync-leaks",
    create: (block) =>
      createEngine(block, (table, _engine, accepted) => {
        if (!accepted) table.insert(makeState(), { peer: "192.0.2.2" });
      }),
  },
  /** The real host; a dropped packet then moves vhid 1 to MASTER. */
  "carp-leaks": {
    ...carpTarget,
    name: "carp-leaks",
    create: (block) =>
      createHost(block, (host, accepted) => {
        if (!accepted) host.vhosts.find((v) => v.vhid === 1)?.forceState("MASTER");
      }),
  },
};
