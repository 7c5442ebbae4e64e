import { NetlinkSocket } from "../../lib/sys/netlink_socket.ts";
import { Reactor } from "../../lib/sys/reactor.ts";
import { SysError } from "../../lib/sys/errors.ts";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";

const NETLINK_ROUTE = 0;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const IFLA_IFNAME = 3;

/** RTM_GETLINK dump request: nlmsghdr (16) + ifinfomsg (16), host order. */
function getLinkDump(seq: number): Uint8Array {
  const out = new Uint8Array(32);
  const v = new DataView(out.buffer);
  v.setUint32(0, 32, true); // nlmsg_len
  v.setUint16(4, RTM_GETLINK, true); // nlmsg_type
  v.setUint16(6, 0x0001 | 0x0300, true); // NLM_F_REQUEST | NLM_F_DUMP
  v.setUint32(8, seq, true); // nlmsg_seq
  // nlmsg_pid 0, ifinfomsg all zero: every family, every link
  return out;
}

interface Message {
  type: number;
  seq: number;
  body: Uint8Array;
}

function splitMessages(datagram: Uint8Array): Message[] {
  const v = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const out: Message[] = [];
  for (let at = 0; at + 16 <= datagram.length;) {
    const length = v.getUint32(at, true);
    assert(length >= 16 && at + length <= datagram.length, `sane nlmsg_len ${length}`);
    out.push({
      type: v.getUint16(at + 4, true),
      seq: v.getUint32(at + 8, true),
      body: datagram.subarray(at + 16, at + length),
    });
    at += (length + 3) & ~3;
  }
  return out;
}

function linkName(body: Uint8Array): string | undefined {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let at = 16; at + 4 <= body.length;) {
    const length = v.getUint16(at, true);
    if (length < 4) return undefined;
    if (v.getUint16(at + 2, true) === IFLA_IFNAME) {
      return new TextDecoder().decode(body.subarray(at + 4, at + length)).replace(/\0+$/, "");
    }
    at += (length + 3) & ~3;
  }
  return undefined;
}

/** Runs a dump through the reactor and collects the link names until NLMSG_DONE. */
async function dumpLinkNames(socket: NetlinkSocket, seq: number): Promise<string[]> {
  const reactor = new Reactor();
  const names: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    reactor.add(socket.fd, () => {
      for (let datagram; (datagram = socket.receive());) {
        for (const message of splitMessages(datagram)) {
          if (message.seq !== seq) continue;
          if (message.type === NLMSG_DONE) resolve();
          else if (message.type === NLMSG_ERROR) reject(new Error("NLMSG_ERROR"));
          else if (message.type === RTM_NEWLINK) names.push(linkName(message.body) ?? "?");
        }
      }
    });
  });
  const loop = reactor.run();
  try {
    socket.send(getLinkDump(seq));
    await done;
  } finally {
    reactor.remove(socket.fd);
    await reactor.close();
    await loop;
  }
  return names;
}

Deno.test("NetlinkSocket.open() binds and reads back a port id unique per socket", () => {
  const a = NetlinkSocket.open(NETLINK_ROUTE);
  const b = NetlinkSocket.open(NETLINK_ROUTE);
  try {
    assert(a.portId > 0 && b.portId > 0, "kernel assigned port ids");
    assert(a.portId !== b.portId, "distinct port ids");
    assert(a.fd >= 0 && a.fd !== b.fd);
    assertEquals(a.protocol, NETLINK_ROUTE);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("NetlinkSocket.receive() returns undefined when nothing is queued", () => {
  const socket = NetlinkSocket.open(NETLINK_ROUTE);
  try {
    assertEquals(socket.receive(), undefined);
  } finally {
    socket.close();
  }
});

Deno.test("NetlinkSocket.send()/receive() complete an RTM_GETLINK dump through the reactor", async () => {
  const socket = NetlinkSocket.open(NETLINK_ROUTE);
  try {
    const names = await dumpLinkNames(socket, 4242);
    assert(names.includes("lo"), `lo in ${names.join(",")}`);
  } finally {
    socket.close();
  }
});

Deno.test("NetlinkSocket.setReceiveBuffer() reports the kernel's doubled size", () => {
  const socket = NetlinkSocket.open(NETLINK_ROUTE, 0, { rcvbuf: 65536 });
  try {
    const effective = socket.setReceiveBuffer(100_000);
    assertEquals(effective, 200_000, "SO_RCVBUFFORCE as root, or under rmem_max");
  } finally {
    socket.close();
  }
});

Deno.test("NetlinkSocket.joinGroup()/leaveGroup() accept RTNLGRP_LINK and reject nonsense", () => {
  const socket = NetlinkSocket.open(NETLINK_ROUTE);
  try {
    socket.joinGroup(1);
    socket.leaveGroup(1);
    const error = assertThrows(() => socket.joinGroup(100_000), SysError);
    assertEquals(error.code, "EINVAL");
    assert(error.message.startsWith("setsockopt(NETLINK_ADD_MEMBERSHIP, 100000): EINVAL ("));
  } finally {
    socket.close();
  }
});

Deno.test("NetlinkSocket.close() is idempotent and later calls name the closed socket", () => {
  const socket = NetlinkSocket.open(NETLINK_ROUTE);
  socket.close();
  socket.close();
  assert(socket.closed);
  assertThrows(() => socket.receive(), Error, "is closed");
  assertThrows(() => socket.send(new Uint8Array(16)), Error, "is closed");
});

Deno.test("NetlinkSocket.open() on an unknown netlink protocol throws a SysError", () => {
  const error = assertThrows(() => NetlinkSocket.open(31), SysError);
  assertEquals(error.code, "EPROTONOSUPPORT");
  assert(
    error.message.startsWith("socket(AF_NETLINK, SOCK_RAW, 31): EPROTONOSUPPORT"),
    error.message,
  );
});
