/**
 * The optional virtual MAC of one vhid (YAML `virtual_mac: true`, spec §5.1,
 * §7.9): a macvlan child `<parent>.c<vhid>` with MAC 00:00:5e:00:01:VHID that
 * exists only while the vhid is MASTER and holds its addresses, so the MAC
 * neighbours resolve the VIP to moves with the role. CARP advertisements
 * still leave from the parent.
 */
import { carpVirtualMac, carpVirtualMacName } from "../carp/vmac.ts";
import { interfaceByName } from "../sys/interfaces.ts";
import { createMacvlan, deleteLink } from "../sys/macvlan.ts";

/** Where takeover packets go out: the parent, or the macvlan while it exists. */
export interface LinkEndpoint {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: Uint8Array;
}

export class VirtualMacLink {
  readonly name: string;
  readonly mac: Uint8Array;
  readonly #parentIndex: number;
  #ifindex?: number;

  constructor(parent: { readonly ifindex: number; readonly name: string }, vhid: number) {
    this.name = carpVirtualMacName(parent.name, vhid);
    this.mac = carpVirtualMac(vhid);
    this.#parentIndex = parent.ifindex;
  }

  /** The macvlan as an endpoint while it exists (after `ensure`, before `destroy`). */
  get endpoint(): LinkEndpoint | undefined {
    const ifindex = this.#ifindex;
    return ifindex === undefined ? undefined : { name: this.name, ifindex, mac: this.mac };
  }

  /** Creates (or reuses) the macvlan, up, and returns its ifindex. */
  async ensure(): Promise<number> {
    if (this.#ifindex !== undefined) return this.#ifindex;
    await createMacvlan(this.name, this.#parentIndex, this.mac);
    const iface = await interfaceByName(this.name);
    if (!iface) throw new Error(`macvlan ${this.name} vanished right after it was created`);
    this.#ifindex = iface.index;
    return iface.index;
  }

  /** Deletes the macvlan (and with it its addresses); fine when it is already gone. */
  async destroy(): Promise<void> {
    this.#ifindex = undefined;
    await deleteLink(this.name);
  }
}
