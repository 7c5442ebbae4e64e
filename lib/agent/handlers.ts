/**
 * The control socket's method table, bound to a running agent. Each handler
 * is a thin translation between the wire shapes of lib/control and the
 * engines; validation of params happens in the control server.
 */
import { ControlError, type ControlHandlers } from "../control/mod.ts";
import type { DemotionStatus } from "../control/types.ts";
import type { Agent } from "./agent.ts";
import { MAINTENANCE_DEMOTION } from "./agent.ts";
import { originText, stateView } from "./state_view.ts";
import { digestTable } from "../state/digest.ts";

export function buildHandlers(agent: Agent): ControlHandlers {
  const demotion = (): DemotionStatus => agent.status().demotion;
  return {
    status: () => Promise.resolve(agent.status()),
    states: () => {
      const states = [];
      for (const state of agent.table.states()) {
        states.push(
          stateView(state, originText(agent.table, state), agent.table.idleSeconds(state) ?? 0),
        );
      }
      return Promise.resolve({ states });
    },
    "states.digest": () => Promise.resolve({ ...digestTable(agent.table) }),
    "states.import": ({ lines }) => {
      const result = memoryProvider(agent).importLines(lines);
      return Promise.resolve({
        imported: result.imported,
        updated: result.updated,
        errors: [...result.errors],
      });
    },
    "states.generate": async ({ count, seed }) => {
      const result = await memoryProvider(agent).generate(count, { seed });
      agent.logger.info(
        `states generate: ${result.generated} states inserted in ${Math.round(result.ms)} ms` +
          (result.duplicates ? `, ${result.duplicates} flows already held` : ""),
      );
      return { ...result };
    },
    "states.delete": ({ id, creatorid, flow }) => {
      let deleted = 0;
      try {
        if (id !== undefined) {
          deleted = memoryProvider(agent).deleteById(
            BigInt(`0x${id}`),
            creatorid === undefined ? undefined : parseInt(creatorid, 16),
          );
        } else if (flow) {
          deleted = memoryProvider(agent).deleteByFlow(flow.proto, flow.src, flow.dst);
        }
      } catch (error) {
        if (error instanceof ControlError) throw error;
        throw new ControlError("invalid_params", (error as Error).message);
      }
      return Promise.resolve({ deleted });
    },
    demote: ({ delta }) => {
      agent.carp.host.adjust("operator", "ctl", delta);
      agent.logger.info(`demoted by operator: ${delta > 0 ? "+" : ""}${delta}`);
      return Promise.resolve(demotion());
    },
    resync: () => {
      if (!agent.pfsync.enabled) return Promise.resolve({ requested: false });
      agent.pfsync.resync();
      agent.logger.info("pfsync: bulk update requested by operator");
      return Promise.resolve({ requested: true });
    },
    maintenance: async ({ on }) => {
      const was = demotion().maintenance;
      await agent.maintenance.set(on);
      // Idempotent: a second "on" must not add the demotion again.
      if (on && !was) agent.carp.host.adjust("operator", "maintenance", MAINTENANCE_DEMOTION);
      if (!on && was) agent.carp.host.heal("operator", "maintenance");
      agent.logger.warning(
        `maintenance mode ${on ? "on: demoted to the maximum" : "off"}${
          on === was ? " (already)" : ""
        }`,
      );
      return demotion();
    },
    reload: () => agent.reload(),
    watch: (_params, ctx) => agent.hub.subscribe(ctx.signal),
  };
}

/** `states import/delete` feed the memory provider; the kernel's table is changed with conntrack(8). */
function memoryProvider(agent: Agent) {
  if (!agent.memory) {
    throw new ControlError(
      "not_supported",
      `the ${agent.provider.name} provider takes its states from the kernel; use conntrack(8)`,
    );
  }
  return agent.memory;
}
