/** `npm start`: the webhook server, run pages and a queue worker in one process. */
import { boot } from "./app/boot.ts";

process.exitCode = await boot("server");
process.exit();
