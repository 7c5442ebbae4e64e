/**
 * The pid file, guarded by an exclusive flock(2) held for the agent's life.
 *
 * Why a lock rather than "read the pid and see if it is alive": the kernel
 * drops the lock the moment the holder dies, however it dies, so a stale file
 * can never block a start, and a recycled pid (some other process now owning
 * the number in a stale file) can never be mistaken for a running agent. The
 * pid in the file is for people and rc scripts; the lock is the truth. When
 * the lock is taken, the refusal names the holder's pid from the file and
 * whether that pid answers kill(pid, 0).
 */

export class PidFileLockedError extends Error {
  readonly path: string;
  readonly pid: number | undefined;
  constructor(path: string, pid: number | undefined) {
    const who = pid === undefined
      ? "another pfsyncd (pid not yet written)"
      : `pfsyncd pid ${pid}${
        processIsAlive(pid) ? "" : " (not visible here: another pid namespace?)"
      }`;
    super(`${path} is locked by ${who}; another agent is already running`);
    this.name = "PidFileLockedError";
    this.path = path;
    this.pid = pid;
  }
}

export interface PidFile {
  readonly path: string;
  readonly pid: number;
  /** Removes the file and drops the lock; safe to call twice. */
  release(): void;
}

/** kill(pid, 0): true when the process exists (EPERM also means it exists). */
export function processIsAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (error) {
    return error instanceof Deno.errors.PermissionDenied;
  }
}

export function readPid(text: string): number | undefined {
  const match = /^\s*(\d+)\s*$/.exec(text);
  if (!match) return undefined;
  const pid = Number(match[1]);
  return pid > 0 ? pid : undefined;
}

/**
 * Takes the pid file at `path` for process `pid` (default: this process), or
 * throws PidFileLockedError naming the running agent's pid.
 */
export function acquirePidFile(path: string, pid = Deno.pid): PidFile {
  // A releasing agent unlinks the file while we may hold it open: if the
  // locked file is no longer the one at `path`, lock the new one instead.
  for (let attempt = 0; attempt < 5; attempt++) {
    const file = lockPath(path);
    if (sameFile(file, path)) return writePid(file, path, pid);
    file.close();
  }
  throw new Error(`${path} keeps being replaced while locking it`);
}

function sameFile(file: Deno.FsFile, path: string): boolean {
  try {
    return file.statSync().ino === Deno.statSync(path).ino;
  } catch {
    return false;
  }
}

function lockPath(path: string): Deno.FsFile {
  // No truncate on open: the file may be the running agent's, still locked.
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o644 });
  let locked = false;
  try {
    locked = file.tryLockSync(true);
  } catch (error) {
    file.close();
    throw new Error(`flock ${path}: ${(error as Error).message}`);
  }
  if (!locked) {
    file.close();
    let holder: number | undefined;
    try {
      holder = readPid(Deno.readTextFileSync(path));
    } catch {
      holder = undefined;
    }
    throw new PidFileLockedError(path, holder);
  }
  return file;
}

function writePid(file: Deno.FsFile, path: string, pid: number): PidFile {
  try {
    // Whatever was there (a dead agent's pid) is replaced.
    file.truncateSync(0);
    file.seekSync(0, Deno.SeekMode.Start);
    file.writeSync(new TextEncoder().encode(`${pid}\n`));
  } catch (error) {
    file.close();
    throw new Error(`write ${path}: ${(error as Error).message}`);
  }
  let released = false;
  return {
    path,
    pid,
    release() {
      if (released) return;
      released = true;
      // Unlink while still holding the lock, so a starting agent never sees
      // our file unlocked with our pid in it.
      try {
        Deno.removeSync(path);
      } catch {
        // Already removed by an operator; the lock still goes with close.
      }
      file.close();
    },
  };
}
