/**
 * @module The AIR patch document: the only way a world's definitions change
 * (propose → shadow-run → approve → apply). Shape follows AgentOS AIR v1 `patch.schema.json`.
 */
import { z } from "zod";
import { DefKindSchema, HashTextSchema, IdentSchema, NameSchema } from "./common.js";
import { CapGrantSchema, SubscriptionSchema } from "./defs.js";

const nodeJson = z
  .record(z.string(), z.unknown())
  .refine((o) => Object.keys(o).length > 0, "a def node cannot be empty");

/** One patch operation (add/replace/remove a def, or set manifest refs, defaults, routing, bindings, secrets). */
export const PatchOpSchema = z.union([
  z.strictObject({ add_def: z.strictObject({ kind: DefKindSchema, node: nodeJson }) }),
  z.strictObject({
    replace_def: z.strictObject({
      kind: DefKindSchema,
      name: NameSchema,
      new_node: nodeJson,
      pre_hash: HashTextSchema,
    }),
  }),
  z.strictObject({ remove_def: z.strictObject({ kind: DefKindSchema, name: NameSchema, pre_hash: HashTextSchema }) }),
  z.strictObject({
    set_manifest_refs: z
      .strictObject({
        add: z.array(z.strictObject({ kind: DefKindSchema, name: NameSchema, hash: HashTextSchema })).optional(),
        remove: z.array(z.strictObject({ kind: DefKindSchema, name: NameSchema })).optional(),
      })
      .refine((o) => o.add !== undefined || o.remove !== undefined, "set_manifest_refs needs add or remove"),
  }),
  z.strictObject({
    set_defaults: z.strictObject({
      policy: NameSchema.nullable().optional(),
      cap_grants: z.array(CapGrantSchema).optional(),
    }),
  }),
  z.strictObject({
    set_routing_events: z.strictObject({ pre_hash: HashTextSchema, subscriptions: z.array(SubscriptionSchema) }),
  }),
  z.strictObject({
    set_routing_inboxes: z.strictObject({
      pre_hash: HashTextSchema,
      inboxes: z.array(z.strictObject({ source: z.string(), workflow: NameSchema })),
    }),
  }),
  z.strictObject({
    set_module_bindings: z.strictObject({
      pre_hash: HashTextSchema,
      bindings: z.record(NameSchema, z.strictObject({ slots: z.record(IdentSchema, IdentSchema) })),
    }),
  }),
  z.strictObject({
    set_secrets: z.strictObject({
      pre_hash: HashTextSchema,
      secrets: z.array(z.strictObject({ name: NameSchema, hash: HashTextSchema })),
    }),
  }),
]);

/**
 * A state migration: the workflow whose cells it rewrites when the patch changes that workflow's
 * state schema, and the pure module (in the patched manifest, `abi.pure` from the old state schema
 * to the new one) that turns each old state into the new one.
 */
export const MigrationSchema = z.strictObject({ module: NameSchema, migration: NameSchema });

/** A patch document against a base manifest hash. */
export const PatchDocumentSchema = z.strictObject({
  version: z.literal("1").default("1"),
  base_manifest_hash: HashTextSchema,
  patches: z.array(PatchOpSchema).min(1),
  /** State migrations run over every cell of their workflow at apply (and in the shadow run first). */
  migrations: z.array(MigrationSchema).optional(),
  description: z.string().optional(),
});

export type PatchOp = z.infer<typeof PatchOpSchema>;
export type PatchDocument = z.infer<typeof PatchDocumentSchema>;
export type Migration = z.infer<typeof MigrationSchema>;
