/**
 * The default pfsync creator id: a hash of the machine's own identity file,
 * so it is the same after every restart and differs between the two
 * firewalls of a pair without anyone configuring it. 0 is never returned,
 * because creatorid 0 is reserved for the bulk request (pfsync.md §8).
 */

/** Linux systemd/dbus, then FreeBSD (where kern.hostuuid is also written to /etc/hostid). */
export const MACHINE_ID_FILES = ["/etc/machine-id", "/var/lib/dbus/machine-id", "/etc/hostid"];

export async function hostidFromMachineId(machineId: string): Promise<number> {
  const data = new TextEncoder().encode(`pfsyncd hostid\n${machineId.trim()}`);
  const digest = new DataView(await crypto.subtle.digest("SHA-256", data));
  for (let offset = 0; offset + 4 <= digest.byteLength; offset += 4) {
    const value = digest.getUint32(offset);
    if (value !== 0) return value;
  }
  return 1;
}

/** Undefined when no identity file is readable; the caller then leaves hostid unset. */
export async function deriveHostid(
  files: readonly string[] = MACHINE_ID_FILES,
  read: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<number | undefined> {
  for (const file of files) {
    try {
      const text = await read(file);
      if (text.trim() !== "") return await hostidFromMachineId(text);
    } catch {
      // Missing or unreadable: try the next candidate.
    }
  }
  return undefined;
}
