// Netlink message codecs (pure): framing, attributes, rtnetlink link/address messages.
export * from "./nlattr.ts";
export * from "./nlattr_kinds.ts";
export * from "./nlmsg.ts";
export * from "./rtnetlink_consts.ts";
export * from "./rtnetlink.ts";
export * from "./ctnetlink.ts";
