/**
 * Maintenance mode survives restarts: it is a file in the agent's state
 * directory, so an agent restarted (or a box rebooted) during maintenance
 * does not grab the MASTER role back before the operator says so.
 */
export class MaintenanceStore {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = `${stateDir.replace(/\/+$/, "")}/maintenance`;
  }

  async isOn(): Promise<boolean> {
    try {
      await Deno.stat(this.path);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  async set(on: boolean): Promise<void> {
    if (on) {
      const dir = this.path.slice(0, this.path.lastIndexOf("/"));
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(this.path, `maintenance since ${new Date().toISOString()}\n`);
    } else {
      await Deno.remove(this.path).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
  }
}
