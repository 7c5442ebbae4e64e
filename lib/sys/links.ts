/**
 * Link state events (admin up/down, carrier up/down, interface removed) from
 * a NETLINK_ROUTE socket bound to RTMGRP_LINK and watched by the reactor, so
 * an event reaches the subscriber as soon as the kernel sends it.
 *
 * The kernel sends RTM_NEWLINK for many reasons (MTU, statistics, a peer's
 * change); only changes of (up, running, lowerUp, operState) are passed on,
 * unless `everyMessage` is set. When the socket overflows (ENOBUFS) events
 * were lost, so the watcher re-reads every link with a dump and reports what
 * changed meanwhile.
 */
import { DecodeError } from "../bytes/errors.ts";
import {
  decodeLinkMessage,
  NETLINK_ROUTE,
  NLMSG_HDRLEN,
  RTM_DELLINK,
  RTM_NEWLINK,
  RTMGRP_LINK,
  splitNlMessages,
} from "../netlink/mod.ts";
import { SysError } from "./errors.ts";
import {
  type Interface,
  interfaceFromLink,
  listInterfaces,
  type NetlinkPort,
} from "./interfaces.ts";
import { NetlinkSocket } from "./netlink_socket.ts";
import { Reactor } from "./reactor.ts";

export interface LinkEvent {
  readonly ifindex: number;
  readonly name: string;
  readonly up: boolean;
  readonly running: boolean;
  readonly lowerUp: boolean;
  readonly operState: string;
  readonly flags: number;
  /** RTM_DELLINK: the interface is gone. */
  readonly removed: boolean;
}

export interface WatchLinksOptions {
  /** The agent's reactor; without one the watcher runs a private reactor. */
  readonly reactor?: Pick<Reactor, "add" | "remove">;
  /** Opens the subscribed socket; default NETLINK_ROUTE bound to RTMGRP_LINK. */
  readonly open?: () => NetlinkPort & { readonly fd: number };
  /** Resync source after an overflow; default listInterfaces(). */
  readonly list?: () => Promise<readonly Interface[]>;
  /** Pass on every RTM_NEWLINK, not only state changes. */
  readonly everyMessage?: boolean;
  /** Malformed messages (counted and dropped) and failed resyncs are reported here. */
  readonly onError?: (error: unknown) => void;
}

export interface LinkWatcher {
  /** Messages dropped as malformed, overflows seen. */
  readonly stats: { malformed: number; overruns: number };
  close(): Promise<void>;
}

function eventOf(iface: Interface, removed: boolean): LinkEvent {
  return {
    ifindex: iface.index,
    name: iface.name,
    up: iface.up,
    running: iface.running,
    lowerUp: iface.lowerUp,
    operState: iface.operState,
    flags: iface.flags,
    removed,
  };
}

const stateKey = (e: LinkEvent) => `${e.up}|${e.running}|${e.lowerUp}|${e.operState}`;

/** Subscribes to link events; `onEvent` runs on the JS thread for each change. */
export function watchLinks(
  onEvent: (event: LinkEvent) => void,
  options: WatchLinksOptions = {},
): LinkWatcher {
  const socket = (options.open ?? (() => NetlinkSocket.open(NETLINK_ROUTE, RTMGRP_LINK)))();
  const own = options.reactor === undefined ? new Reactor() : undefined;
  const reactor = options.reactor ?? own!;
  const last = new Map<number, string>();
  const stats = { malformed: 0, overruns: 0 };
  const report = options.onError ?? (() => {});
  let closed = false;
  let resyncing = false;

  const deliver = (event: LinkEvent) => {
    if (event.removed) {
      last.delete(event.ifindex);
    } else {
      const key = stateKey(event);
      if (!options.everyMessage && last.get(event.ifindex) === key) return;
      last.set(event.ifindex, key);
    }
    onEvent(event);
  };

  const handleDatagram = (datagram: Uint8Array) => {
    for (const message of splitNlMessages(datagram)) {
      const type = message.header.type;
      if (type !== RTM_NEWLINK && type !== RTM_DELLINK) continue;
      const link = decodeLinkMessage(message.payload, undefined, message.offset + NLMSG_HDRLEN);
      deliver(eventOf(interfaceFromLink(link), type === RTM_DELLINK));
    }
  };

  const resync = async () => {
    if (resyncing) return;
    resyncing = true;
    try {
      const interfaces = await (options.list ?? listInterfaces)();
      if (!closed) { for (const iface of interfaces) deliver(eventOf(iface, false)); }
    } catch (error) {
      report(error);
    } finally {
      resyncing = false;
    }
  };

  const onReadable = () => {
    for (;;) {
      let datagram: Uint8Array | undefined;
      try {
        datagram = socket.receive();
      } catch (error) {
        if (!(error instanceof SysError) || error.code !== "ENOBUFS") throw error;
        stats.overruns++;
        void resync();
        continue;
      }
      if (datagram === undefined) return;
      try {
        handleDatagram(datagram);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        stats.malformed++;
        report(error);
      }
    }
  };

  reactor.add(socket, onReadable);
  // A throwing callback is a bug (DESIGN rule 4): the private loop rejects loudly.
  if (own) void own.run();

  return {
    stats,
    async close() {
      if (closed) return;
      closed = true;
      reactor.remove(socket.fd);
      socket.close();
      if (own) await own.close();
    },
  };
}
