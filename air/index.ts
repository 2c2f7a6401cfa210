/**
 * @module Public surface of the AIR layer: canonical CBOR, hashing, def schemas, typed
 * values and the loader. Named re-exports only.
 */
export { encodeCanonical, encodeStored, compareBytes } from "./cbor/encode.js";
export { decodeCanonical, decodeStored } from "./cbor/decode.js";
export { CborRaw, CborTag, DEC128_TAG, SELF_DESCRIBE_PREFIX, isCborObject } from "./cbor/value.js";
export type { CborValue, CborObject, CborMap } from "./cbor/value.js";
export { encodeDec128, decodeDec128, parseDecimal } from "./cbor/dec128.js";
export {
  sha256,
  hashBytes,
  hashCanonical,
  hashValue,
  hashTypedValue,
  hashToBytes,
  bytesToHash,
  toHex,
  fromHex,
  HASH_PATTERN,
} from "./hash.js";
export type { HashText } from "./hash.js";
export { AirError, WorldkernelError, hasCode, jsonPath } from "./errors.js";
export type { AirErrorCode, AirIssue, ErrorData, ErrorFields } from "./errors.js";
export { parseJsonLossless, jsonToCbor } from "./json.js";
export { parseDef, hashDef, hashDefJson, defToCbor, stripComments, zodIssues } from "./defs.js";
export type { DefParse } from "./defs.js";
export { buildCatalog, buildCatalogOrThrow, keyFieldType } from "./loader.js";
export type { AirCatalog, LoadResult, SchemaEntry, ResolvedGrant, Entry } from "./loader.js";
export { bundleOf, catalogFromBundle } from "./bundle.js";
export { expandType, schemaHash } from "./values/types.js";
export type { SchemaResolver } from "./values/types.js";
export { canonicalizeJson, sortedSet } from "./values/canonicalize.js";
export { conformCbor, toSugarJson } from "./values/conform.js";
export { typeJsonSchema } from "./values/type-json-schema.js";
export type { JsonSchema } from "./values/type-json-schema.js";
export { TypeExprSchema, NameSchema, HashTextSchema, DefKindSchema, PRIMITIVES } from "./schemas/common.js";
export type { TypeExpr, DefKind } from "./schemas/common.js";
export {
  DefSchemaSchema,
  DefModuleSchema,
  DefEffectSchema,
  DefCapSchema,
  DefPolicySchema,
  DefSecretSchema,
  ManifestSchema,
  CapGrantSchema,
  GrantSecretsSchema,
  PolicyRuleSchema,
  PolicyMatchSchema,
  DEF_SCHEMAS,
} from "./schemas/defs.js";
export type {
  DefSchema,
  DefModule,
  DefEffect,
  DefCap,
  DefPolicy,
  DefSecret,
  Manifest,
  CapGrant,
  GrantSecrets,
  PolicyRule,
  PolicyMatch,
  Subscription,
  ModuleLimits,
  Def,
  AnyDef,
} from "./schemas/defs.js";
export { PatchDocumentSchema, PatchOpSchema } from "./schemas/patch.js";
export type { PatchDocument, PatchOp } from "./schemas/patch.js";
export { airJsonSchema } from "./json-schema.js";
export { compilePatch, blockHash } from "./patch.js";
export { diffCatalogs, diffDefs } from "./patch-diff.js";
export type { DiffSide, PatchDiff } from "./patch-diff.js";
export type { PatchResult } from "./patch.js";
