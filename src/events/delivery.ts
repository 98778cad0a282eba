/** A webhook delivery: what the flow decides on. */
export interface Delivery {
  /** `X-GitHub-Delivery` */
  readonly id: string;
  /** `X-GitHub-Event` */
  readonly name: string;
  readonly payload: unknown;
}

/** A delivery whose signature has been verified and whose body parsed as JSON. */
export interface VerifiedDelivery extends Delivery {
  /** The exact bytes the signature covers. */
  readonly rawBody: Buffer;
}

/** What to answer GitHub with; the status is the ack (2xx) or the refusal. */
export interface DeliveryResponse {
  readonly status: number;
  readonly body: string;
}
