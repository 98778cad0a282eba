// Plain JavaScript that any Node can parse: deploy-bot is TypeScript run by Node's own type stripping, which
// older Nodes do not have. Without this check they die with ERR_UNKNOWN_FILE_EXTENSION and a stack trace.
const [major, minor] = process.versions.node.split(".").map(Number);
if (!(major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 20))) {
  console.error(
    `deploy-bot needs Node.js 24 LTS (or 22.20+), this is ${process.version}: install it from https://nodejs.org or with \`nvm install 24\`.`,
  );
  process.exit(1);
}
