/** Kept in step with deno.json and package.json by the release checklist. */
export const VERSION = "0.1.0";
