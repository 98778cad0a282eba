import { PGlite } from "@electric-sql/pglite";
import fs from "node:fs";
const params = process.argv[2] ? JSON.parse(process.argv[2]) : undefined;
const dir = fs.mkdtempSync("/tmp/pgl-");
const rss0 = process.memoryUsage().rss;
const db = await PGlite.create(dir, params ? { startParams: params } : {});
await db.query("select 1");
const sb = await db.query("show shared_buffers"); const wm = await db.query("show work_mem");
console.log(JSON.stringify(params), sb.rows[0], wm.rows[0], "rss MB", Math.round(process.memoryUsage().rss/1e6), "before", Math.round(rss0/1e6));
