/**
 * The Terraform modules and the AWS example, without a cloud or the terraform binary: every file
 * is parsed with HashiCorp's HCL parser (compiled to WebAssembly, from npm), then the
 * configuration is checked for consistency the way `terraform validate` would see it: every
 * variable used is declared (with a description), every module referenced exists and is called
 * with declared inputs and all required ones, every output read from a module is declared, every
 * template exists and gets the names it uses, and NATS and gRPC are open only inside the VPC;
 * `terraform fmt -check` runs where the binary is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { INFRA, commandWorks, filesUnder, isRecord } from './repo.js';

const TF_ROOT = join(INFRA, 'terraform');
const META_ARGS = new Set(['source', 'version', 'count', 'for_each', 'depends_on', 'providers']);

interface TfDir {
  dir: string;
  name: string;
  text: string;
  blocks: Record<string, unknown>[];
}

type Block = Record<string, unknown>;

function tfDirs(): string[] {
  return [...new Set(filesUnder(TF_ROOT, '.tf').map((f) => dirname(f)))].sort();
}

async function load(dir: string): Promise<TfDir> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.tf')).sort();
  const blocks: Record<string, unknown>[] = [];
  let text = '';
  for (const f of files) {
    const src = readFileSync(join(dir, f), 'utf8');
    text += `${src}\n`;
    blocks.push(await parseHcl(f, src));
  }
  return { dir, name: relative(TF_ROOT, dir), text, blocks };
}

/** `variable "x" {...}` style blocks of one kind across a directory's files: name -> body. */
function named(d: TfDir, kind: 'variable' | 'output' | 'module'): Map<string, Block> {
  const out = new Map<string, Block>();
  for (const b of d.blocks) {
    const group = b[kind];
    if (!isRecord(group)) continue;
    for (const [name, bodies] of Object.entries(group)) {
      assert.ok(!out.has(name), `${d.name}: ${kind} "${name}" is declared once`);
      const body: unknown = Array.isArray(bodies) ? bodies[0] : bodies;
      out.set(name, isRecord(body) ? body : {});
    }
  }
  return out;
}

function locals(d: TfDir): Set<string> {
  const out = new Set<string>();
  for (const b of d.blocks) for (const l of (Array.isArray(b.locals) ? b.locals : [])) if (isRecord(l)) for (const k of Object.keys(l)) out.add(k);
  return out;
}

/** Declared resources (`type.name`) or data sources (`data.type.name`). */
function declared(d: TfDir, kind: 'resource' | 'data'): Set<string> {
  const out = new Set<string>();
  for (const b of d.blocks) {
    const group = b[kind];
    if (!isRecord(group)) continue;
    for (const [type, byName] of Object.entries(group)) if (isRecord(byName)) for (const name of Object.keys(byName)) out.add(`${kind === 'data' ? 'data.' : ''}${type}.${name}`);
  }
  return out;
}

/** Every interpolated expression string of the parsed files. */
function expressions(d: TfDir): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.includes('${')) out.push(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (isRecord(v)) Object.values(v).forEach(walk);
  };
  d.blocks.forEach(walk);
  return out;
}

const dirs = await Promise.all(tfDirs().map(load));
const byPath = new Map(dirs.map((d) => [resolve(d.dir), d]));

test('terraform: the modules and the AWS example are there and parse as HCL', () => {
  const names = dirs.map((d) => d.name);
  for (const m of ['modules/network', 'modules/tls', 'modules/nats', 'modules/cloud-init', 'modules/service', 'modules/verifier-pool', 'examples/aws']) assert.ok(names.includes(m), `${m} exists`);
  for (const d of dirs) {
    assert.ok(d.blocks.length > 0, `${d.name} has .tf files`);
    if (d.name.startsWith('modules/')) for (const f of ['main.tf', 'variables.tf', 'outputs.tf']) assert.ok(existsSync(join(d.dir, f)), `${d.name}/${f}`);
  }
});

test('terraform: every variable is declared with a description, and validations are complete', () => {
  for (const d of dirs) {
    const vars = named(d, 'variable');
    for (const [name, body] of vars) {
      assert.ok(typeof body.description === 'string' && body.description.length > 10, `${d.name}: variable ${name} has a description`);
      assert.ok(typeof body.type === 'string', `${d.name}: variable ${name} has a type`);
      for (const v of Array.isArray(body.validation) ? body.validation : []) {
        assert.ok(isRecord(v) && typeof v.condition === 'string' && typeof v.error_message === 'string', `${d.name}: variable ${name}'s validation has a condition and a message`);
        assert.ok(String(v.condition).includes(`var.${name}`), `${d.name}: variable ${name}'s validation tests it`);
      }
    }
    for (const e of expressions(d)) {
      for (const m of e.matchAll(/\bvar\.([A-Za-z_][\w-]*)/g)) assert.ok(vars.has(m[1] ?? ''), `${d.name}: var.${m[1]} is declared`);
    }
  }
  const example = dirs.find((d) => d.name === 'examples/aws');
  assert.ok(example);
  const validated = [...named(example, 'variable')].filter(([, b]) => Array.isArray(b.validation)).map(([n]) => n);
  assert.ok(validated.length >= 8, `the example validates its inputs (${validated.join(', ')})`);
});

test('terraform: every local, resource and data source referenced is declared', () => {
  for (const d of dirs) {
    const loc = locals(d);
    const resources = declared(d, 'resource');
    const data = declared(d, 'data');
    for (const e of expressions(d)) {
      for (const m of e.matchAll(/\blocal\.(\w+)/g)) assert.ok(loc.has(m[1] ?? ''), `${d.name}: local.${m[1]} is declared`);
      for (const m of e.matchAll(/(?<![\w.])((?:aws|tls)_[a-z0-9_]+)\.([a-z0-9_]+)/g)) assert.ok(resources.has(`${m[1]}.${m[2]}`), `${d.name}: resource ${m[1]}.${m[2]} is declared`);
      for (const m of e.matchAll(/\bdata\.([a-z0-9_]+)\.([a-z0-9_]+)/g)) assert.ok(data.has(`data.${m[1]}.${m[2]}`), `${d.name}: data.${m[1]}.${m[2]} is declared`);
    }
  }
});

test('terraform: every module referenced exists, gets declared inputs and all required ones, and exposes what is read', () => {
  let calls = 0;
  for (const d of dirs) {
    const modules = named(d, 'module');
    for (const [name, body] of modules) {
      calls++;
      const source = String(body.source);
      assert.ok(source.startsWith('../'), `${d.name}: module ${name} uses a local source`);
      const child = byPath.get(resolve(d.dir, source));
      assert.ok(child && statSync(child.dir).isDirectory(), `${d.name}: module ${name}'s source ${source} exists and holds .tf files`);
      const childVars = named(child, 'variable');
      const given = Object.keys(body).filter((k) => !META_ARGS.has(k));
      for (const k of given) assert.ok(childVars.has(k), `${d.name}: module ${name} passes ${k}, which ${child.name} declares`);
      for (const [v, vb] of childVars) if (!('default' in vb)) assert.ok(given.includes(v), `${d.name}: module ${name} passes the required input ${v}`);
    }
    for (const e of expressions(d)) {
      for (const m of e.matchAll(/\bmodule\.([\w-]+)(?:\[[^\]]*\])?\.([\w-]+)/g)) {
        const callee = modules.get(m[1] ?? '');
        assert.ok(callee, `${d.name}: module.${m[1]} is declared`);
        const child = byPath.get(resolve(d.dir, String(callee.source)));
        assert.ok(child && named(child, 'output').has(m[2] ?? ''), `${d.name}: module.${m[1]}.${m[2]} is an output of ${String(callee.source)}`);
      }
    }
  }
  assert.ok(calls >= 8, `the example wires the modules (${calls} calls)`);
});

test('terraform: outputs are described; the example prints the addresses and the acereason status command', () => {
  for (const d of dirs) for (const [name, body] of named(d, 'output')) assert.ok(typeof body.description === 'string' && body.description.length > 5, `${d.name}: output ${name} has a description`);
  const example = dirs.find((d) => d.name === 'examples/aws');
  assert.ok(example);
  const outputs = named(example, 'output');
  for (const o of ['nats_urls', 'learner_address', 'actor_ips', 'status_command']) assert.ok(outputs.has(o), `output ${o}`);
  assert.match(String(outputs.get('status_command')?.value), /^acereason status --nats .* --run .* --learner /);
  assert.ok(existsSync(join(example.dir, 'terraform.tfvars.example')), 'a tfvars example');
});

test('terraform: every template exists and is given every name it uses', () => {
  let templates = 0;
  for (const d of dirs) {
    for (const m of d.text.matchAll(/templatefile\("\$\{path\.module\}\/([^"]+)",\s*\{/g)) {
      templates++;
      const file = join(d.dir, m[1] ?? '');
      assert.ok(existsSync(file), `${d.name}: template ${m[1]} exists`);
      // The object literal passed to templatefile: its top-level keys.
      let depth = 0;
      let end = (m.index ?? 0) + m[0].length - 1;
      for (; end < d.text.length; end++) {
        const c = d.text[end];
        if (c === '{' || c === '(' || c === '[') depth++;
        else if (c === '}' || c === ')' || c === ']') depth--;
        if (depth === 0) break;
      }
      const literal = d.text.slice((m.index ?? 0) + m[0].length, end);
      const keys = new Set([...literal.matchAll(/(?:^|\n|,)\s*(\w+)\s*=(?!=)/g)].map((k) => k[1] ?? ''));
      const tpl = readFileSync(file, 'utf8');
      const loopVars = new Set([...tpl.matchAll(/%\{\s*for\s+(\w+)(?:\s*,\s*(\w+))?\s+in\s/g)].flatMap((f) => [f[1] ?? '', f[2] ?? '']));
      const used = [...tpl.matchAll(/[$%]\{~?\s*(?:if\s+|for\s+[\w, ]+\s+in\s+)?([a-z_]\w*)\b(?!\s*\()/g)].map((u) => u[1] ?? '').filter((u) => !['for', 'if', 'else', 'endif', 'endfor'].includes(u));
      for (const u of used) assert.ok(keys.has(u) || loopVars.has(u), `${d.name}: ${basename(file)} uses "${u}", which templatefile passes`);
    }
  }
  assert.ok(templates >= 2, 'the cloud-init and NATS templates are checked');
});

test('terraform: NATS, gRPC, weight bulk transfer and metrics are open only inside the VPC; SSH only to listed networks', async () => {
  const net = byPath.get(resolve(TF_ROOT, 'modules/network'));
  assert.ok(net);
  const rules: Block[] = [];
  for (const b of net.blocks) {
    const res = b.resource;
    if (!isRecord(res)) continue;
    const ingress = res.aws_vpc_security_group_ingress_rule;
    if (!isRecord(ingress)) continue;
    for (const [name, bodies] of Object.entries(ingress)) for (const body of Array.isArray(bodies) ? bodies : []) if (isRecord(body)) rules.push({ name, ...body });
  }
  const inside = rules.find((r) => r.name === 'inside');
  assert.ok(inside, 'one rule for the in-VPC ports');
  assert.equal(inside.cidr_ipv4, '${var.vpc_cidr}');
  const ports = inside.for_each;
  assert.ok(isRecord(ports));
  for (const p of [4222, 6222, '${var.grpc_port}', '${var.grpc_port + 1}', 9464]) assert.ok(Object.values(ports).includes(p), `port ${String(p)} opened inside the VPC`);
  for (const r of rules) {
    assert.notEqual(r.cidr_ipv4, '0.0.0.0/0', `ingress ${String(r.name)} is not open to the world`);
    if (r.name !== 'inside') assert.equal(r.from_port, 22, 'the only other ingress is SSH');
  }
  // The example refuses an SSH rule for the whole internet.
  const example = dirs.find((d) => d.name === 'examples/aws');
  assert.ok(example);
  assert.match(JSON.stringify(named(example, 'variable').get('ssh_cidrs')?.validation), /0\.0\.0\.0\/0/);
});

const noTerraform = commandWorks('terraform', ['version']) ? false : 'the terraform binary is not installed (Debian does not package it)';

test('terraform: fmt -check is clean', { skip: noTerraform }, () => {
  const r = spawnSync('terraform', ['fmt', '-check', '-recursive', '-diff', TF_ROOT], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `terraform fmt -check:\n${r.stdout}${r.stderr}`);
});
