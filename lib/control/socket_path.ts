/**
 * Deciding whether a control socket path may be (re)used. A socket file left
 * behind by a crashed agent must not stop the next start, but a live agent's
 * socket must never be stolen: unlinking it would leave that agent running
 * with no way to reach it. Connecting tells the two apart.
 */

export class ControlSocketInUseError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(
      `another pfsyncd is already answering on ${path}; stop it first ` +
        `(pfsyncd status --control ${path}) or use another --control path`,
    );
    this.name = "ControlSocketInUseError";
    this.path = path;
  }
}

/** Whether something accepts connections on `path` right now. */
export async function socketIsLive(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.NotFound) {
      return false;
    }
    throw error;
  }
}

/**
 * Makes `path` free for listen(): throws ControlSocketInUseError when a live
 * agent answers there, refuses to touch a non-socket file, removes a stale
 * socket.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isSocket) {
    throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  }
  if (await socketIsLive(path)) throw new ControlSocketInUseError(path);
  await Deno.remove(path);
}
