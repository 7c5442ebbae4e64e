export * from "./address.ts";
export * from "./ethernet.ts";
export * from "./ipv4.ts";
export * from "./arp.ts";
export * from "./icmpv6.ts";
