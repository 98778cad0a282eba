/**
 * What a long-lived deploy-bot needs to run real steps in the bench, on 127.0.0.1: a GitHub API stand-in
 * (installation tokens, commit statuses; reached through GHE_HOST) and a small repository served over
 * smart HTTP, whose clone URL the bench's payloads carry.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createBareRemote, createRepo, serveGitHttp, type WorkRepo } from "../test/helpers/git-remote.ts";

export const BENCH_TOKEN = "ghs_benchInstallationToken000000000000";

export interface FakeGitHub {
  /** `GHE_HOST` for the server: `127.0.0.1:<port>` (with `GHE_PROTOCOL=http`). */
  readonly gheHost: string;
  readonly cloneUrl: string;
  readonly work: WorkRepo;
  /** Commits a change on `branch`, pushes it, returns its sha. */
  newCommit(branch: string): Promise<string>;
  close(): Promise<void>;
}

export async function startFakeGitHub(repoName: string): Promise<FakeGitHub> {
  const api = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const url = req.url ?? "";
      res.setHeader("content-type", "application/json");
      if (req.method === "POST" && /\/app\/installations\/\d+\/access_tokens$/.test(url)) {
        res.writeHead(201).end(
          JSON.stringify({
            token: BENCH_TOKEN,
            expires_at: new Date(Date.now() + 3_600_000).toISOString(),
          }),
        );
      } else if (req.method === "GET") res.writeHead(200).end("[]");
      else res.writeHead(201).end(JSON.stringify({ id: 1 }));
    });
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const work = await createRepo({ "README.md": "bench\n" });
  const remote = await createBareRemote(work, repoName);
  const gitServer = await serveGitHttp({
    root: remote.dir.slice(0, remote.dir.lastIndexOf("/")),
    token: BENCH_TOKEN,
  });
  let counter = 0;
  return {
    gheHost: `127.0.0.1:${(api.address() as AddressInfo).port}`,
    cloneUrl: gitServer.url(remote.dir),
    work,
    async newCommit(branch) {
      const sha = await work.commit({ "change.txt": `${++counter}\n` }, `change ${counter}`);
      await work.push(`HEAD:refs/heads/${branch}`);
      return sha;
    },
    async close() {
      await new Promise<void>((resolve) => api.close(() => resolve()));
      await gitServer.close();
    },
  };
}
