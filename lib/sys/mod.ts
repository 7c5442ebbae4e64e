export * from "./platform/mod.ts";
export { addressOf, cString, errno, libc, strerror } from "./libc.ts";
export type { Libc } from "./libc.ts";
export { hintFor, SysError, throwErrno } from "./errors.ts";
export type { SysErrorOptions } from "./errors.ts";
export * from "./sockaddr.ts";
export * from "./syscalls.ts";
export { encodeControlMessage, MessageReceiver, parseControlMessages } from "./msghdr.ts";
export type { ControlMessage, ReceivedMessage } from "./msghdr.ts";
export { ipv4Ifindex, ipv6Ancillary } from "./ancillary.ts";
export type { IPv6Ancillary } from "./ancillary.ts";
export { NetlinkSocket } from "./netlink_socket.ts";
export type { NetlinkSocketOptions } from "./netlink_socket.ts";
export { Reactor } from "./reactor.ts";
export type { Closable, ReactorOptions } from "./reactor.ts";
export { RawIPv4Socket } from "./socket.ts";
export type { RawSocketOptions, ReceivedIPv4Packet, ReceivedPacket } from "./socket.ts";
export { RawIPv6Socket } from "./socket_ipv6.ts";
export { NeighborAdvertiser, PacketSocket } from "./packet.ts";
export {
  buildInterfaces,
  findInterfaceForAddress,
  interfaceByIndex,
  interfaceByName,
  interfaceFromLink,
  listInterfaces,
  nextSeq,
  pickInterfaceForAddress,
  rtnlTransact,
  withRtnl,
} from "./interfaces.ts";
export type {
  Interface,
  InterfaceAddress,
  NetlinkPort,
  RtnlOptions,
  RtnlResult,
} from "./interfaces.ts";
export { addAddress, removeAddress } from "./addresses.ts";
export type { AddressOptions, AddResult, RemoveResult } from "./addresses.ts";
export { watchLinks } from "./links.ts";
export type { LinkEvent, LinkWatcher, WatchLinksOptions } from "./links.ts";
