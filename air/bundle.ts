/**
 * @module The AIR bundle: a catalog's defs as one canonical blob, the form genesis (`air_ref`)
 * and governance (`bundle_ref`) point at, and back. Loading a bundle checks that it resolves
 * to the manifest hash its entry names.
 */
import { decodeStored } from "./cbor/decode.js";
import { encodeStored } from "./cbor/encode.js";
import { isCborObject, type CborValue } from "./cbor/value.js";
import { AirError } from "./errors.js";
import { buildCatalogOrThrow, type AirCatalog } from "./loader.js";

/** Stores the catalog's defs as one canonical blob (what genesis points at). */
export function bundleOf(catalog: AirCatalog): Uint8Array {
  return encodeStored({ version: 1, defs: catalog.sources as unknown as CborValue });
}

/** Reads the catalog a bundle holds; `expectHash` is the manifest hash the pointing entry names. */
export function catalogFromBundle(bytes: Uint8Array, expectHash: string): AirCatalog {
  const bundle = decodeStored(bytes);
  if (!isCborObject(bundle) || !Array.isArray(bundle.defs))
    throw new AirError("air.bad_bundle", "AIR bundle has an unknown format");
  const catalog = buildCatalogOrThrow([{ file: "<journal>", value: bundle.defs }]);
  if (catalog.manifestHash !== expectHash) {
    throw new AirError(
      "air.manifest_mismatch",
      `AIR bundle resolves to manifest ${catalog.manifestHash}; the entry pointing at it says ${expectHash}`,
      "$",
      undefined,
      { expected: expectHash, actual: catalog.manifestHash },
    );
  }
  return catalog;
}
