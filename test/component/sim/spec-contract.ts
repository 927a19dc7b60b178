// Contract checks against the official VCD CloudAPI spec (API 37.2, Swagger 2.0): response bodies
// against a definition, request bodies against an operation's body parameter. Swagger's allOf
// chains are flattened into closed objects, so a misspelt or invented field fails the check
// instead of passing as an "additional property".
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

export const SPEC_PATH = process.env['VCD_SPEC'] ?? fileURLToPath(new URL('../../../../shared/specs/vcd-cloudapi-37.2.swagger.yaml', import.meta.url));

type Schema = Record<string, unknown>;
interface Operation {
  method: string;
  /** Path with the spec's basePath, e.g. /cloudapi/1.0.0/ipSpaces/{ipSpaceId}/allocate. */
  path: string;
  operationId: string;
  bodySchema?: Schema;
  responses: Record<string, Schema | undefined>;
}

interface Spec {
  definitions: Record<string, Schema>;
  operations: Operation[];
}

let loaded: { spec: Spec; ajv: Ajv; cache: Map<string, ValidateFunction> } | undefined;
let rawSpec: { basePath: string; definitions: Record<string, Schema>; paths: Record<string, Record<string, unknown>> } | undefined;

function readSpec(): NonNullable<typeof rawSpec> {
  rawSpec ??= parse(readFileSync(SPEC_PATH, 'utf8')) as NonNullable<typeof rawSpec>;
  return rawSpec;
}

function load(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const raw = readSpec();
  const definitions: Record<string, Schema> = {};
  for (const name of Object.keys(raw.definitions)) definitions[name] = flatten(raw.definitions, name, new Set());
  // The published spec refers to a few definitions it does not contain; they stay unconstrained.
  for (const target of JSON.stringify(raw).matchAll(/"#\/definitions\/([^"]+)"/g)) definitions[target[1] as string] ??= {};
  const operations: Operation[] = [];
  for (const [p, ops] of Object.entries(raw.paths)) {
    for (const [method, opRaw] of Object.entries(ops)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
      const op = opRaw as { operationId: string; parameters?: Array<{ in: string; schema?: Schema }>; responses: Record<string, { schema?: Schema }> };
      const body = op.parameters?.find((x) => x.in === 'body')?.schema;
      const responses: Record<string, Schema | undefined> = {};
      for (const [code, r] of Object.entries(op.responses)) responses[code] = r.schema ? convert(r.schema) : undefined;
      operations.push({
        method: method.toUpperCase(),
        path: `${raw.basePath}${p}`,
        operationId: op.operationId,
        ...(body ? { bodySchema: convert(body) } : {}),
        responses,
      });
    }
  }
  // Some patterns need unicode mode (\p{..}), others are invalid in it (needless escapes).
  const regExp = Object.assign(
    (pattern: string, flags: string): RegExp => {
      try {
        return new RegExp(pattern, flags);
      } catch {
        return new RegExp(pattern, flags.replace('u', ''));
      }
    },
    { code: 'new RegExp' },
  );
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, code: { regExp } });
  (addFormatsModule as unknown as (a: Ajv) => void)(ajv);
  for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) ajv.addFormat(f, true);
  ajv.addSchema({ $id: 'vcd', definitions });
  loaded = { spec: { definitions, operations }, ajv, cache: new Map() };
  return loaded;
}

/** Drops Swagger-only keywords and points refs at the shared schema. */
function convert(s: unknown): Schema {
  if (Array.isArray(s)) return s.map(convert) as unknown as Schema;
  if (s === null || typeof s !== 'object') return s as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-') || k === 'example' || k === 'discriminator' || k === 'readOnly') continue;
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace('#/definitions/', 'vcd#/definitions/');
    else if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Schema).map(([pk, pv]) => [pk, convert(pv)]));
    else out[k] = convert(v);
  }
  // The spec declares its string enums (NetworkingObjectStatusType ...) as type "object".
  if (out['type'] === 'object' && Array.isArray(out['enum']) && (out['enum'] as unknown[]).every((e) => typeof e === 'string')) out['type'] = 'string';
  // Draft-04 booleans (Swagger 2.0) become draft-07 numbers.
  for (const [flag, bound] of [
    ['exclusiveMaximum', 'maximum'],
    ['exclusiveMinimum', 'minimum'],
  ] as const) {
    if (typeof out[flag] !== 'boolean') continue;
    if (out[flag] === true && typeof out[bound] === 'number') {
      out[flag] = out[bound];
      delete out[bound];
    } else delete out[flag];
  }
  return out;
}

/** Merges an allOf chain into one object schema with all properties, closed to others. */
function flatten(defs: Record<string, Schema>, name: string, seen: Set<string>): Schema {
  const d = defs[name];
  if (!d) return {};
  if (seen.has(name)) throw new Error(`allOf cycle at ${name}`);
  const parts = (d['allOf'] as Schema[] | undefined) ?? [d];
  const properties: Schema = {};
  const required = new Set<string>();
  let isObject = false;
  for (const part of parts) {
    const src = typeof part['$ref'] === 'string' ? flatten(defs, part['$ref'].split('/').pop() as string, new Set([...seen, name])) : convert(part);
    if (src['properties'] || (src['type'] === 'object' && !src['enum'])) isObject = true;
    Object.assign(properties, src['properties'] ?? {});
    for (const r of (src['required'] as string[] | undefined) ?? []) required.add(r);
  }
  if (!isObject) return convert(d);
  const out: Schema = { type: 'object', properties, additionalProperties: false };
  if (required.size > 0) out['required'] = [...required];
  return out;
}

function validator(key: string, schema: Schema): ValidateFunction {
  const l = load();
  let v = l.cache.get(key);
  if (!v) {
    v = l.ajv.compile(schema);
    l.cache.set(key, v);
  }
  return v;
}

function explain(v: ValidateFunction): string {
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('; ');
}

/** Fails unless `body` is a valid instance of the spec definition (no unknown fields). */
export function assertMatchesSpec(definitionName: string, body: unknown): void {
  const l = load();
  assert.ok(l.spec.definitions[definitionName], `the spec has no definition ${definitionName}`);
  const v = validator(`def:${definitionName}`, { $ref: `vcd#/definitions/${definitionName}` });
  assert.ok(v(body), `${definitionName} does not match the spec: ${explain(v)}\n${JSON.stringify(body).slice(0, 2000)}`);
}

/** The spec operation a request goes to: literal segments beat `{param}` ones. */
export function findOperation(method: string, path: string): Operation | undefined {
  const parts = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  let best: { op: Operation; score: number } | undefined;
  for (const op of load().spec.operations) {
    if (op.method !== method.toUpperCase()) continue;
    const segs = op.path.split('/').filter(Boolean);
    if (segs.length !== parts.length) continue;
    let score = 0;
    let ok = true;
    for (let i = 0; i < segs.length && ok; i++) {
      const s = segs[i] as string;
      if (s.startsWith('{')) continue;
      if (s === parts[i]) score++;
      else ok = false;
    }
    if (ok && (!best || score > best.score)) best = { op, score };
  }
  return best?.op;
}

/** Fails unless `body` is valid for the body parameter of the operation at METHOD path. */
export function assertRequestMatchesSpec(method: string, path: string, body: unknown): void {
  const op = findOperation(method, path);
  assert.ok(op, `the spec has no operation ${method} ${path}`);
  assert.ok(op.bodySchema, `${method} ${op.path} takes no body in the spec`);
  const v = validator(`req:${op.method} ${op.path}`, op.bodySchema);
  assert.ok(v(body), `request body for ${op.operationId} does not match the spec: ${explain(v)}\n${JSON.stringify(body).slice(0, 2000)}`);
}

/** Fails unless a response body is what the operation declares for that status (Error for 4xx/5xx). */
export function assertResponseMatchesSpec(method: string, path: string, status: number, body: unknown): void {
  const op = findOperation(method, path);
  assert.ok(op, `the spec has no operation ${method} ${path}`);
  const schema = op.responses[String(status)] ?? (status >= 400 ? { $ref: 'vcd#/definitions/Error' } : undefined);
  if (!schema) {
    assert.ok(body === undefined || body === '', `${op.operationId} declares no body for ${status}, got ${String(JSON.stringify(body)).slice(0, 200)}`);
    return;
  }
  const v = validator(`res:${op.method} ${op.path} ${status}`, schema);
  assert.ok(v(body), `${op.operationId} ${status} response does not match the spec: ${explain(v)}\n${JSON.stringify(body).slice(0, 2000)}`);
}

/** Every operation of the spec as `METHOD /cloudapi/...`. */
export function specOperations(): Array<{ method: string; path: string; operationId: string }> {
  return load().spec.operations.map(({ method, path, operationId }) => ({ method, path, operationId }));
}

/** The `x-vcloud-added-in` version of each property of a definition, from the raw spec. */
export function propertyAddedIn(definitionName: string): Record<string, string> {
  const ann = (readSpec().definitions[definitionName]?.['x-vcloud-property-annotations'] ?? {}) as Record<string, Record<string, unknown>>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ann)) if (typeof v['x-vcloud-added-in'] === 'string') out[k] = v['x-vcloud-added-in'];
  return out;
}
