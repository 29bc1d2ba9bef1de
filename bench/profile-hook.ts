/**
 * Preloaded (`--require`) into every Node process of a profiled run: the engine stops the dynamic-provider process
 * with SIGINT (then SIGKILL after 5 s), whose default action ends Node without writing its `--cpu-prof` profile. An
 * orderly exit on SIGINT lets the profile be written.
 */
process.on("SIGINT", () => process.exit(130));
