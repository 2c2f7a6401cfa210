/**
 * A cap grant's `secrets` (worldkernel extension): `wk air check` refuses a grant that names a
 * secret the manifest does not declare, or one whose `allowed_caps` leave the grant out, with
 * the JSON path of the name; a grant without `secrets` hashes as before.
 */
import { describe, expect, it } from "vitest";
import { buildCatalog } from "../../air/index.js";

function manifest(secrets: object | undefined, defsecret: object = { name: "t/api@1", binding_id: "env:T_API" }) {
  return [
    { $kind: "defsecret", ...defsecret },
    {
      $kind: "manifest",
      air_version: "1",
      schemas: [],
      modules: [],
      effects: [{ name: "sys/http.request@1" }],
      caps: [{ name: "sys/http.out@1" }],
      policies: [],
      secrets: [{ name: "t/api@1" }],
      defaults: {
        cap_grants: [{ name: "net", cap: "sys/http.out@1", params: {}, ...(secrets ? { secrets } : {}) }],
      },
    },
  ];
}

const load = (value: unknown) => buildCatalog([{ file: "m.air.json", value }]);

describe("cap grant secrets", () => {
  it("accepts declared secrets and keeps them on the resolved grant", () => {
    const r = load(manifest({ headers: { Authorization: ["t/api@1"] }, api_key: "t/api@1" }));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.catalog.grants.get("net")!.grant.secrets?.headers?.Authorization).toEqual(["t/api@1"]);
  });

  it("refuses an undeclared secret and one whose allowed_caps leave the grant out, naming the path", () => {
    const unknown = load(manifest({ headers: { Authorization: ["t/nope@1"] } }));
    expect(unknown).toMatchObject({
      ok: false,
      issues: [{ code: "air.unknown_ref", path: "$[1].defaults.cap_grants[0].secrets.headers.Authorization[0]" }],
    });
    const narrow = load(
      manifest({ api_key: "t/api@1" }, { name: "t/api@1", binding_id: "env:T_API", allowed_caps: ["llm"] }),
    );
    expect(narrow).toMatchObject({
      ok: false,
      issues: [{ code: "air.schema_violation", path: "$[1].defaults.cap_grants[0].secrets.api_key" }],
    });
  });

  it("refuses a header name that is not an HTTP token", () => {
    const r = load(manifest({ headers: { "Bad Header": ["t/api@1"] } }));
    expect(r.ok).toBe(false);
  });

  it("a grant's secrets are part of the manifest hash: changing them is a governed change", () => {
    const a = load(manifest(undefined));
    expect(a.ok).toBe(true);
    const b = load(manifest({ headers: { Authorization: ["t/api@1"] } }));
    if (a.ok && b.ok) expect(a.catalog.manifestHash).not.toBe(b.catalog.manifestHash);
  });
});
