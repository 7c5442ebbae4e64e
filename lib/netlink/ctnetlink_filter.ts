/**
 * A classic BPF socket filter for the conntrack event socket that drops, in
 * the kernel, the events our own requests caused (spec rule 12: their
 * nlmsg_pid is the requesting socket's port id). A backup applying a bulk
 * update would otherwise have one event per injected state queued on its
 * event socket — each charged ≈1.3 KB of receive buffer (§1.11) — only to
 * read and discard it.
 *
 *   struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }   (8 bytes, host order)
 *
 *   0  ld  [12]            A = nlmsg_pid, read big-endian (BPF_ABS loads are network order)
 *   1  jeq #port₁, drop    one jeq per port id, k = the port id byte-swapped
 *   …
 *   n  ret #0xffffffff     keep the whole message
 *   n+1 ret #0             drop
 *
 * Each event is one netlink message in its own skb (§2.9), so the header is
 * at offset 0 of the filtered data. Port id 0 (the packet path, timers) is
 * never dropped.
 */
import { HOST_LITTLE_ENDIAN } from "./nlattr.ts";

const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const NLMSG_PID_OFFSET = 12;
/** A filter program may hold up to BPF_MAXINSNS (4096) instructions. */
const MAX_PORTS = 64;

/** The 32-bit value a big-endian load of the host-order `pid` at NLMSG_PID_OFFSET gives. */
function asLoaded(pid: number): number {
  if (!HOST_LITTLE_ENDIAN) return pid >>> 0;
  return (((pid & 0xff) << 24) | ((pid & 0xff00) << 8) | ((pid >>> 8) & 0xff00) | (pid >>> 24)) >>>
    0;
}

/** The instructions (8 bytes each) of a filter dropping messages from `ports`. */
export function ownPortFilter(ports: readonly number[]): Uint8Array {
  const list = [...new Set(ports.filter((p) => p !== 0).map((p) => p >>> 0))];
  if (list.length > MAX_PORTS) throw new RangeError(`at most ${MAX_PORTS} port ids`);
  const count = list.length + 3;
  const out = new Uint8Array(count * 8);
  const view = new DataView(out.buffer);
  const put = (i: number, code: number, jt: number, jf: number, k: number) => {
    view.setUint16(i * 8, code, HOST_LITTLE_ENDIAN);
    out[i * 8 + 2] = jt;
    out[i * 8 + 3] = jf;
    view.setUint32(i * 8 + 4, k >>> 0, HOST_LITTLE_ENDIAN);
  };
  put(0, BPF_LD_W_ABS, 0, 0, NLMSG_PID_OFFSET);
  const drop = count - 1;
  list.forEach((port, j) => {
    const i = j + 1;
    put(i, BPF_JMP_JEQ_K, drop - (i + 1), 0, asLoaded(port));
  });
  put(count - 2, BPF_RET_K, 0, 0, 0xffffffff);
  put(count - 1, BPF_RET_K, 0, 0, 0);
  return out;
}

/**
 * Runs a filter made by `ownPortFilter` over one message the way the
 * kernel's interpreter would (for tests): the number of bytes kept, 0 = dropped.
 */
export function runPortFilter(program: Uint8Array, message: Uint8Array): number {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const data = new DataView(message.buffer, message.byteOffset, message.byteLength);
  let a = 0;
  for (let pc = 0; pc < program.length / 8;) {
    const code = view.getUint16(pc * 8, HOST_LITTLE_ENDIAN);
    const jt = program[pc * 8 + 2];
    const jf = program[pc * 8 + 3];
    const k = view.getUint32(pc * 8 + 4, HOST_LITTLE_ENDIAN);
    if (code === BPF_LD_W_ABS) {
      if (k + 4 > message.length) return 0;
      a = data.getUint32(k, false);
      pc++;
    } else if (code === BPF_JMP_JEQ_K) {
      pc += 1 + (a === k ? jt : jf);
    } else if (code === BPF_RET_K) {
      return k === 0 ? 0 : Math.min(k, message.length);
    } else {
      throw new RangeError(`instruction 0x${code.toString(16)} not in ownPortFilter's set`);
    }
  }
  return 0;
}
