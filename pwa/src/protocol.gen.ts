// Generated from sync_protocol/schema by scripts/gen-protocol-types.mjs. Do not edit.
/* eslint-disable */

/**
 * Typed refusal: ``error`` is the code a program acts on (RFC 9457 members may accompany it).
 */
export interface ErrorBody {
  detail?: string | null;
  error: string;
  expectedId?: number | null;
  status?: number | null;
}

export interface PullRequest {
  clientId: string;
  cookie: string | null;
  protocolVersion: number;
  schemaVersion: number;
}

export interface PullResponse {
  cookie: string;
  lastMutationIds: Lastmutationids;
  more: boolean;
  patch: (PutOp | DelOp | ClearOp)[];
  progress: Progress;
  rejections: Rejection[];
}
export interface Lastmutationids {
  [k: string]: number | undefined;
}
export interface PutOp {
  entity: string;
  id: string;
  op: "put";
  value: Value;
}
export interface Value {
  [k: string]: unknown | undefined;
}
export interface DelOp {
  entity: string;
  id: string;
  op: "del";
}
export interface ClearOp {
  op: "clear";
}
export interface Progress {
  done: number;
  total: number;
}
export interface Rejection {
  clientId: string;
  code: string;
  message: string;
  mutationId: number;
  params?: Params;
}
export interface Params {
  [k: string]: unknown | undefined;
}

export interface PushRequest {
  clientId: string;
  /**
   * @maxItems 1000
   */
  mutations: Mutation[];
  protocolVersion: number;
  schemaVersion: number;
}
export interface Mutation {
  args: Args;
  clientId?: string | null;
  hlc: string;
  id: number;
  name: string;
}
export interface Args {
  [k: string]: unknown | undefined;
}

export interface PushResponse {
  lastMutationId: number;
  ok: boolean;
}

/**
 * An asset of the book. Money is a decimal string (two places).
 */
export interface EntityAsset {
  acquiredOn: string | null;
  categoryCode: string;
  createdAt: string;
  custodianId: string | null;
  id: string;
  lifecycle: "construction" | "provisional" | "fixed";
  locationId: string | null;
  model: string | null;
  name: string;
  netValue: string | null;
  orgUnitId: string;
  originalValue: string | null;
  serial: string | null;
  status: "in_use" | "idle" | "under_repair" | "in_transfer" | "disposed" | "lost";
  tag: string;
  updatedAt: string;
  version: number;
}

/**
 * Two edits of the same field: the later by HLC won (``kept``), the other is kept here.
 */
export interface EntityConflict {
  createdAt: string;
  customerId: string;
  entity: string;
  entityId: string;
  field: string;
  id: string;
  keptBy: string | null;
  keptHlc: string | null;
  keptValue: unknown;
  lostBy: string | null;
  lostDeviceId: string | null;
  lostHlc: string;
  lostValue: unknown;
  version: number;
}

export interface EntityContact {
  birthday: string | null;
  createdAt: string;
  customerId: string;
  id: string;
  name: string;
  phone: string | null;
  updatedAt: string;
  version: number;
}

export interface EntityCustomer {
  address: string | null;
  assignedRepId: string | null;
  createdAt: string;
  id: string;
  kind: "enterprise" | "individual" | "guest" | "partner";
  name: string;
  orgUnitId: string;
  phone: string | null;
  status: "potential" | "active" | "at_risk" | "churned";
  tags: string[];
  tier: ("A" | "B" | "C") | null;
  updatedAt: string;
  version: number;
}

/**
 * A place assets stand in, with its own label (``code``).
 */
export interface EntityLocation {
  code: string;
  id: string;
  name: string;
  orgUnitId: string;
  version: number;
}

/**
 * A stocktake campaign with its frozen locations, its stocktakers and the label formats.
 */
export interface EntityStocktake {
  assignees: StocktakeAssigneeValue[];
  closeReason: string | null;
  closedAt: string | null;
  codes: StocktakeCodes;
  id: string;
  locations: StocktakeLocation[];
  name: string;
  orgUnitId: string;
  startedAt: string | null;
  state: "draft" | "open" | "closed";
  version: number;
}
export interface StocktakeAssigneeValue {
  finishedAt: string | null;
  name: string;
  userId: string;
}
/**
 * How this installation's labels look, so a phone checks reads offline.
 */
export interface StocktakeCodes {
  asset: TagFormatValue;
  location: TagFormatValue;
}
export interface TagFormatValue {
  digits: number;
  prefix: string;
}
export interface StocktakeLocation {
  code: string;
  id: string;
  name: string;
}

/**
 * A line of a campaign's expected list, frozen when it started.
 */
export interface EntityStocktakeItem {
  assetId: string;
  categoryCode: string;
  id: string;
  locationId: string | null;
  model: string | null;
  name: string;
  serial: string | null;
  status: "in_use" | "idle" | "under_repair" | "in_transfer" | "disposed" | "lost";
  stocktakeId: string;
  tag: string;
  version: number;
}

/**
 * A scan as the server recorded it; ``asset_id`` null when the tag is not in the book.
 */
export interface EntityStocktakeScan {
  assetId: string | null;
  condition: "ok" | "damaged" | "worn" | "missing_parts" | "other";
  deviceId: string | null;
  id: string;
  late: boolean;
  locationId: string | null;
  note: string | null;
  photo: string | null;
  scannedAt: string;
  scannedBy: string;
  stocktakeId: string;
  tag: string;
  undone: boolean;
  version: number;
}

export interface MutationContactCreate {
  birthday?: string | null;
  customerId: string;
  id: string;
  name: string;
  phone?: string | null;
}

export interface MutationContactUpdate {
  base: number;
  birthday?: string | null;
  id: string;
  name?: string | null;
  phone?: string | null;
}

export interface MutationCustomerCreate {
  address?: string | null;
  assignedRepId?: string | null;
  id: string;
  kind?: "enterprise" | "individual" | "guest" | "partner";
  name: string;
  orgUnitId?: string | null;
  phone?: string | null;
  status?: "potential" | "active" | "at_risk" | "churned";
  /**
   * @maxItems 30
   */
  tags?: string[];
  tier?: ("A" | "B" | "C") | null;
}

export interface MutationCustomerUpdate {
  address?: string | null;
  base: number;
  id: string;
  kind?: ("enterprise" | "individual" | "guest" | "partner") | null;
  name?: string | null;
  phone?: string | null;
  status?: ("potential" | "active" | "at_risk" | "churned") | null;
  tags?: string[] | null;
  tier?: ("A" | "B" | "C") | null;
}

/**
 * Close a campaign (manager). Before every stocktaker has finished, only with a reason.
 */
export interface MutationStocktakeClose {
  reason?: string | null;
  stocktakeId: string;
}

/**
 * This stocktaker's part is done (sent after their scans).
 */
export interface MutationStocktakeFinish {
  stocktakeId: string;
}

/**
 * One scan of an asset label during a stocktake (an append-only fact). ``tag`` is the tag the
 * phone read (already checked there); ``location_id`` the location label scanned before it.
 */
export interface MutationStocktakeScan {
  condition?: "ok" | "damaged" | "worn" | "missing_parts" | "other";
  id: string;
  locationId?: string | null;
  note?: string | null;
  photo?: string | null;
  scannedAt: string;
  stocktakeId: string;
  tag: string;
}

/**
 * Take back one's own scan (undo the last scan).
 */
export interface MutationStocktakeUndo {
  id: string;
}

export const PROTOCOL = {
  "entities": [
    "asset",
    "conflict",
    "contact",
    "customer",
    "location",
    "stocktake",
    "stocktake_item",
    "stocktake_scan"
  ],
  "maxArgsBytes": 65536,
  "maxArgsDepth": 16,
  "maxMutationsPerPush": 1000,
  "maxPushBytes": 2097152,
  "minSchemaVersion": 1,
  "mutations": [
    "contact.create",
    "contact.update",
    "customer.create",
    "customer.update",
    "stocktake.close",
    "stocktake.finish",
    "stocktake.scan",
    "stocktake.undo"
  ],
  "protocolVersion": 1,
  "refusals": {
    "bad-request": 400,
    "client-mismatch": 403,
    "device-revoked": 401,
    "mutation-gap": 409,
    "not-authenticated": 401,
    "payload-too-large": 413,
    "rate-limited": 429,
    "reset-required": 409,
    "token-expired": 401,
    "unsupported-protocol-version": 400,
    "unsupported-schema-version": 400,
    "update-required": 426,
    "user-disabled": 401
  },
  "schemaVersion": 1
} as const;
