// The shared protocol test vectors (sync_protocol/vectors), as pytest runs them too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { PullResponse } from '../src/protocol.gen';
import { clamp, compare, format, isValid, parse } from '../src/sync/hlc';
import { engine } from './helpers';

const dir = join(__dirname, '..', '..', 'sync_protocol', 'vectors');
const load = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
const HLC = load('hlc.json');
const CLIENT = load('client.json');
const ENV = load('envelopes.json');
const MUT = load('mutations.json');

// Envelopes and mutation arguments are checked against the protocol's JSON Schema
// (sync_protocol/schema: what src/protocol.gen.ts is generated from), with a real validator: what
// the server accepts and refuses, the schema the PWA is built on must accept and refuse too.
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const schemaDir = join(__dirname, '..', '..', 'sync_protocol', 'schema');
const schema = (name: string) => ajv.compile(JSON.parse(readFileSync(join(schemaDir, `${name}.json`), 'utf8')));

describe('HLC vectors', () => {
  it.each(HLC.valid as string[])('parses %s', (s) => {
    expect(isValid(s)).toBe(true);
    expect(format(parse(s))).toBe(s);
  });
  it.each(HLC.invalid as string[])('refuses %s', (s) => {
    expect(isValid(s)).toBe(false);
    expect(() => parse(s)).toThrow();
  });
  it('the schema carries the stamp format: a client written from it alone makes stamps the server takes', () => {
    const push = JSON.parse(readFileSync(join(schemaDir, 'PushRequest.json'), 'utf8'));
    const pattern = new RegExp(push.$defs.Mutation.properties.hlc.pattern);
    for (const s of HLC.valid as string[]) expect(pattern.test(s), s).toBe(true);
    for (const s of HLC.invalid as string[]) expect(pattern.test(s), s).toBe(false);
    const mutation = schema('PushRequest');
    const body = (hlc: string) => ({
      protocolVersion: 1,
      schemaVersion: 1,
      clientId: 'c',
      mutations: [{ id: 1, name: 'x', args: {}, hlc }],
    });
    expect(mutation(body('001700000000000:00000:c'))).toBe(true);
    expect(mutation(body('1700000000000'))).toBe(false);
  });
  it.each(HLC.order as Array<{ a: string; b: string; cmp: number }>)('orders $a vs $b', ({ a, b, cmp }) => {
    expect(compare(a, b)).toBe(cmp);
  });
  it.each(HLC.clamp as Array<{ stamp: string; serverMs: number; expected: string }>)('clamps $stamp', (c) => {
    expect(clamp(c.stamp, c.serverMs)).toBe(c.expected);
  });
});

/** One scenario of client.json: a base and an outbox, a pull page applied to them, what follows. */
interface ClientScenario {
  name: string;
  base: Record<string, unknown>;
  pending: Array<{ id: number; name: string; args: unknown }>;
  page: PullResponse;
  expect: { cookie: string; pendingIds: number[]; rejected: unknown[]; base: Record<string, unknown>; view: Record<string, unknown> };
}

describe('client page vectors', () => {
  it.each(CLIENT.scenarios as ClientScenario[])('$name', async (sc) => {
    const { db, e } = await engine([], CLIENT.clientId);
    db.tx(() => {
      for (const [k, v] of Object.entries(sc.base)) {
        const [entity, id] = k.split('/');
        db.run('INSERT INTO synced (entity, id, value) VALUES (?, ?, ?)', [entity, id, JSON.stringify(v)]);
      }
      for (const m of sc.pending) {
        db.run('INSERT INTO outbox (id, name, args, hlc, created_at) VALUES (?, ?, ?, ?, 0)', [
          m.id,
          m.name,
          JSON.stringify(m.args),
          '001700000000000:00000:dev-1',
        ]);
      }
    });
    e.applyPage(sc.page);
    expect(e.cookie).toBe(sc.expect.cookie);
    expect(e.outbox('pending').map((m) => m.id)).toEqual(sc.expect.pendingIds);
    expect(e.outbox('rejected').map((m) => ({ mutationId: m.id, code: m.code }))).toEqual(sc.expect.rejected);
    const base = Object.fromEntries(
      db
        .all<{ entity: string; id: string; value: string }>('SELECT * FROM synced')
        .map((r) => [`${r.entity}/${r.id}`, JSON.parse(r.value)]),
    );
    expect(base).toEqual(sc.expect.base);
    const view: Record<string, unknown> = {};
    for (const k of new Set([...Object.keys(sc.expect.view), ...Object.keys(base)])) {
      const [entity, id] = k.split('/');
      const v = e.view(entity, id);
      if (v) view[k] = v;
    }
    const pendingCreated = e.outbox('pending').filter((m) => m.name.endsWith('.create'));
    for (const m of pendingCreated) view[`${m.name.split('.')[0]}/${m.args.id}`] = e.view(m.name.split('.')[0], m.args.id);
    expect(view).toEqual(sc.expect.view);
  });
});

describe('envelope vectors, against the protocol schema', () => {
  for (const [kind, name] of [
    ['push', 'PushRequest'],
    ['pull', 'PullRequest'],
  ] as const) {
    const validate = schema(name);
    it.each(ENV[kind].valid as unknown[])(`${name} accepts %j`, (body) => {
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    });
    it.each(ENV[kind].invalid as unknown[])(`${name} refuses %j`, (body) => {
      expect(validate(body)).toBe(false);
    });
  }
});

describe('mutation vectors, against the protocol schema', () => {
  type Case = { name: string; args: unknown; field?: string };
  it.each(MUT.valid as Case[])('$name accepts its arguments', (c) => {
    const validate = schema(`mutation.${c.name}`);
    expect(validate(c.args), JSON.stringify(validate.errors)).toBe(true);
  });
  it.each(MUT.invalid as Case[])('$name refuses a bad $field, naming it', (c) => {
    const validate = schema(`mutation.${c.name}`);
    expect(validate(c.args)).toBe(false);
    const fields = (validate.errors ?? []).map(
      (e) =>
        e.instancePath.split('/')[1] ||
        (e.params as Record<string, string>).missingProperty ||
        (e.params as Record<string, string>).additionalProperty,
    );
    expect(fields).toContain(c.field);
  });
});
