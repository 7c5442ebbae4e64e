/**
 * The JSON shape of a state on the control socket (`states --json`, `watch`):
 * everything lib/state/json.ts prints — so `states import` takes it back —
 * plus the per-side state names and the origin the CLI renders.
 */
import type { StateView, WatchEvent } from "../control/types.ts";
import { stateToJson } from "../state/json.ts";
import { expiresIn } from "../state/format.ts";
import type { StateTable, TableEvent } from "../state/table.ts";
import type { State } from "../state/types.ts";

export function stateView(state: State, origin: string, idleSeconds = 0): StateView {
  const json = stateToJson(state);
  const [src, dst] = String(json.state).split(":");
  return {
    ...json,
    id: String(json.id),
    creatorid: String(json.creatorid),
    ifname: state.ifname,
    proto: String(json.proto),
    src: String(json.src),
    dst: String(json.dst),
    direction: state.direction === 2 ? "out" : "in",
    srcPeer: { state: src ?? "" },
    dstPeer: { state: dst ?? "" },
    age: state.creation,
    expire: expiresIn(state, idleSeconds),
    packets: [state.packets[0], state.packets[1]],
    bytes: [state.bytes[0], state.bytes[1]],
    origin,
  } as StateView;
}

export function originText(table: StateTable, state: State): string {
  const origin = table.originOf(state);
  return origin === undefined || origin === "local" ? "local" : origin.peer;
}

export function stateEvent(_table: StateTable, event: TableEvent): WatchEvent {
  const origin = event.origin === "local" ? "local" : event.origin.peer;
  return {
    type: "state",
    ts: new Date().toISOString(),
    action: event.type,
    origin,
    state: stateView(event.state, origin),
  };
}
