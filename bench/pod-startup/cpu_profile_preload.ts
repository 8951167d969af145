/**
 * Preloaded into the server (`NODE_OPTIONS=--import …`, since `--cpu-prof` itself is not allowed in
 * NODE_OPTIONS): profiles the whole process and writes `CPU.<pid>.cpuprofile` into TK8S_CPU_PROF_DIR
 * when it exits. The inspector session of the main thread answers synchronously, so this works from
 * an `exit` handler.
 */
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env["TK8S_CPU_PROF_DIR"];
if (dir !== undefined && dir !== "") {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 1000 });
  session.post("Profiler.start");
  process.on("exit", () => {
    session.post("Profiler.stop", (err, res) => {
      if (err === null) writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
