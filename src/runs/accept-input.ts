/** What is recorded for a delivery and each run it starts: the output of planning, the input of the store. */
import type { DeployEvent } from "../events/deploy-event.ts";

export interface AcceptRunInput {
  readonly pipeline: string;
  readonly needs: readonly string[];
  readonly environment: string | null | undefined;
  readonly stepNames: readonly string[];
  readonly initialState: "queued" | "awaiting_approval" | "waiting";
  /** `manual: true`: once its needs pass it waits for a deploy command instead of starting. */
  readonly manual?: boolean;
}

/** A delivery as recorded: what it was and what became of it. */
export interface DeliveryFields {
  readonly deliveryId: string;
  readonly eventName: string;
  readonly event: DeployEvent | null;
  readonly repo: string | null;
  readonly sha: string | null;
  readonly outcome: "planned" | "ignored";
  readonly reason: string | null;
}

export interface AcceptDeliveryInput extends DeliveryFields {
  /** In plan order; ignored unless `outcome` is `planned` and `event` is set. */
  readonly runs: readonly AcceptRunInput[];
}
