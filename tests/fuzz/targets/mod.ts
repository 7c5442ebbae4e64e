/** Every fuzz target by name, in the order reports list them. */
import { carpTarget } from "./carp.ts";
import { loadConfigTarget, rcConfTarget, sysctlTarget, yamlTarget } from "./config.ts";
import { ctnetlinkTarget, ctProviderTarget, rtnetlinkTarget } from "./netlink.ts";
import { pcapTarget } from "./pcap.ts";
import { pfsyncFrameTarget, pfsyncTarget } from "./pfsync.ts";
import type { FuzzTarget } from "../target.ts";

export const TARGET_LIST: readonly FuzzTarget[] = [
  pfsyncFrameTarget,
  pfsyncTarget,
  carpTarget,
  ctnetlinkTarget,
  ctProviderTarget,
  rtnetlinkTarget,
  rcConfTarget,
  sysctlTarget,
  yamlTarget,
  loadConfigTarget,
  pcapTarget,
];

export const TARGETS: Readonly<Record<string, FuzzTarget>> = Object.fromEntries(
  TARGET_LIST.map((t) => [t.name, t]),
);
