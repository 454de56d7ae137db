// Exit 0 when Postgres at the URL answers; with --create, create the URL's database if it is missing.
import pg from "pg";

const [url, flag] = process.argv.slice(2);
const target = new URL(url);
const dbName = decodeURIComponent(target.pathname.slice(1));
const admin = new URL(url);
admin.pathname = "/postgres";
const client = new pg.Client({ connectionString: flag === "--create" ? admin.toString() : url, connectionTimeoutMillis: 2000 });
try {
  await client.connect();
  if (flag === "--create") {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [dbName]);
    if (!rowCount) await client.query(`CREATE DATABASE "${dbName.replaceAll('"', '""')}"`);
  }
  await client.end();
} catch (error) {
  if (flag === "--create") console.error(`cannot reach Postgres at ${target.host}: ${error.message}`);
  process.exit(1);
}
