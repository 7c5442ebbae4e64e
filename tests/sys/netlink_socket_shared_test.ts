/**
 * NetlinkSocket.receiveShared(): datagrams read in batches (recvmmsg) into
 * arenas must be the ones receive() gets, in order, and must stay intact
 * while later datagrams are read. Runs an rtnetlink link dump (no root needed).
 */
import { NetlinkSocket } from "../../lib/sys/netlink_socket.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const NETLINK_ROUTE = 0;
const NLMSG_DONE = 3;
const RTM_GETADDR = 22;

/** RTM_GETADDR dump: nlmsghdr (16) + ifaddrmsg (8). */
function getAddrDump(seq: number): Uint8Array {
  const out = new Uint8Array(24);
  const v = new DataView(out.buffer);
  v.setUint32(0, 24, true);
  v.setUint16(4, RTM_GETADDR, true);
  v.setUint16(6, 0x0001 | 0x0300, true);
  v.setUint32(8, seq, true);
  return out;
}

function isDone(datagram: Uint8Array): boolean {
  const v = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  for (let at = 0; at + 16 <= datagram.length;) {
    if (v.getUint16(at + 4, true) === NLMSG_DONE) return true;
    at += (v.getUint32(at, true) + 3) & ~3;
  }
  return false;
}

async function dump(
  read: (s: NetlinkSocket) => Uint8Array | undefined,
  atRead: Uint8Array[] = [],
): Promise<Uint8Array[]> {
  const socket = NetlinkSocket.open(NETLINK_ROUTE);
  try {
    socket.send(getAddrDump(7));
    const out: Uint8Array[] = [];
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const datagram = read(socket);
      if (!datagram) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      out.push(datagram);
      atRead.push(datagram.slice());
      if (isDone(datagram)) return out;
    }
    throw new Error("no NLMSG_DONE");
  } finally {
    socket.close();
  }
}

/** The dump with the per-process port id and sequence-independent bytes (pid at 12 differs). */
function normalised(datagrams: Uint8Array[]): number[][] {
  return datagrams.map((d) => {
    const copy = d.slice();
    const v = new DataView(copy.buffer);
    for (let at = 0; at + 16 <= copy.length;) {
      v.setUint32(at + 12, 0, true);
      at += (v.getUint32(at, true) + 3) & ~3;
    }
    return [...copy];
  });
}

Deno.test({
  name: "NetlinkSocket.receiveShared() reads the datagrams receive() reads, and keeps them intact",
  permissions: { ffi: true, read: true },
  async fn() {
    const copied = await dump((s) => s.receive());
    const snapshot: Uint8Array[] = [];
    const shared = await dump((s) => s.receiveShared(), snapshot);
    assert(shared.length >= 1);
    assertEquals(normalised(shared), normalised(copied));
    // The views still hold what they held when read: later reads did not overwrite them.
    assertEquals(shared.map((d) => [...d]), snapshot.map((d) => [...d]));
  },
});
