/** How a writer approves a fork pull request's head commit: the one definition the router and the comment share. */
export const APPROVAL_LABEL = "deploy-bot:approved";
export const APPROVAL_COMMAND = "/deploy-bot approve";
