import { KibokoError } from '../../common/errors.js';
import type { Journal, JournalEntry, NewEntry } from '../../journal/index.js';
import { runChecked, type NetnsExec } from './exec.js';
import { deleteRule, hasOnlyEmptyTable, hasTable, normalizeSave, ruleTag } from './iptables.js';
import { KIBOKO_HANDLE, parseRootQdisc, rootOwnership, type TcPlan } from './tc.js';

/** A network fault as kernel state: exact iptables rules, or a tc plan under kiboko's handle. */
export type NetFault = { tool: 'iptables'; runId: string; rules: string[][] } | { tool: 'tc'; runId: string; plan: TcPlan };

/** What the journal keeps so teardown (or recovery after a crash) can undo exactly this fault. */
export interface NetFaultRecord {
  fault: NetFault;
  /** `iptables-save` before, normalized, to verify teardown left the namespace as it was. */
  iptablesBefore?: string | undefined;
}

export interface TeardownResult {
  outcome: 'restored' | 'already-restored';
  /** Set when the namespace is not byte-for-byte as before (someone else changed it meanwhile). */
  drift?: string | undefined;
}

/** Checks that the fault can be applied without touching anything kiboko does not own. */
export async function preflight(exec: NetnsExec, fault: NetFault): Promise<NetFaultRecord> {
  if (fault.tool === 'tc') {
    const show = await runChecked(exec, ['tc', 'qdisc', 'show', 'dev', fault.plan.iface]);
    const root = parseRootQdisc(show);
    const owner = rootOwnership(root);
    if (owner === 'kiboko') {
      throw new KibokoError('CONFLICT', `${fault.plan.iface} already carries a kiboko tc fault (root qdisc ${KIBOKO_HANDLE})`, {
        hint: 'wait for the other kiboko run to end (or run `kiboko chaos recover` if it crashed); two tc faults on one interface would clobber each other',
      });
    }
    if (owner === 'foreign') {
      throw new KibokoError('CONFLICT', `${fault.plan.iface} has a root qdisc kiboko does not own (${root!.kind} ${root!.handle})`, {
        hint: 'kiboko never replaces a root qdisc it did not create; remove it first or target another interface',
      });
    }
    return { fault };
  }
  const before = await runChecked(exec, ['iptables-save']);
  return { fault, iptablesBefore: normalizeSave(before) };
}

/** Applies the fault; on a partial failure removes what it added and rethrows. */
export async function applyNetFault(exec: NetnsExec, record: NetFaultRecord): Promise<void> {
  const { fault } = record;
  const steps = fault.tool === 'tc' ? fault.plan.apply : fault.rules.map((r) => ['iptables', ...r]);
  try {
    for (const argv of steps) await runChecked(exec, argv);
  } catch (err) {
    await teardownNetFault(exec, record).catch(() => undefined);
    throw err;
  }
}

const GONE = /does a matching rule exist|No chain\/target\/match by that name|Bad rule|Cannot find specified qdisc|No such file or directory|Invalid handle/i;

/**
 * Removes exactly what kiboko added: its tagged iptables rules (and the empty filter table it
 * created, if the namespace had none), or its root qdisc by handle. Idempotent.
 */
export async function teardownNetFault(exec: NetnsExec, record: NetFaultRecord): Promise<TeardownResult> {
  const { fault } = record;
  if (fault.tool === 'tc') {
    const root = parseRootQdisc(await runChecked(exec, ['tc', 'qdisc', 'show', 'dev', fault.plan.iface]));
    if (rootOwnership(root) !== 'kiboko') return { outcome: 'already-restored' };
    for (const argv of fault.plan.teardown) await runChecked(exec, argv);
    const after = parseRootQdisc(await runChecked(exec, ['tc', 'qdisc', 'show', 'dev', fault.plan.iface]));
    if (rootOwnership(after) === 'kiboko') throw new KibokoError('ACTION_FAILED', `kiboko's qdisc is still on ${fault.plan.iface} after teardown`);
    return { outcome: 'restored' };
  }

  let removed = 0;
  for (const rule of fault.rules) {
    const r = await exec.run(['iptables', ...deleteRule(rule)]);
    if (r.code === 0) removed++;
    else if (!GONE.test(r.stderr + r.stdout)) {
      throw new KibokoError('ACTION_FAILED', `\`iptables ${deleteRule(rule).join(' ')}\` failed: ${(r.stderr || r.stdout).trim()}`);
    }
  }
  let after = await runChecked(exec, ['iptables-save']);
  for (const table of ['filter', 'nat'] as const) {
    if (record.iptablesBefore !== undefined && !hasTable(record.iptablesBefore, table) && hasOnlyEmptyTable(after, table)) {
      // iptables-nft leaves the table it created behind; remove it so the namespace is as before.
      const r = await exec.run(['nft', 'delete', 'table', 'ip', table]);
      if (r.code === 0) after = await runChecked(exec, ['iptables-save']);
    }
  }
  if (after.includes(ruleTag(fault.runId))) {
    throw new KibokoError('ACTION_FAILED', `kiboko's iptables rules (${ruleTag(fault.runId)}) are still present after teardown`);
  }
  const drift = record.iptablesBefore !== undefined && normalizeSave(after) !== record.iptablesBefore ? 'iptables-save differs from before the fault (changed by someone else meanwhile?)' : undefined;
  return { outcome: removed > 0 ? 'restored' : 'already-restored', drift };
}

/**
 * Journals (durably) a network fault's entry, then applies the fault; an apply that fails closes
 * the entry as `not-applied` (applyNetFault rolled back what it had added). `beforeApply` runs
 * between the two (the proxy arms its agent's dead man's switch there).
 */
export async function journalAndApply(journal: Journal, exec: NetnsExec, record: NetFaultRecord, entry: NewEntry<Record<string, unknown>>, beforeApply?: () => void): Promise<JournalEntry> {
  const recorded = await journal.record<Record<string, unknown>>(entry);
  beforeApply?.();
  try {
    await applyNetFault(exec, record);
  } catch (err) {
    await journal.close(recorded, 'not-applied');
    throw err;
  }
  return recorded;
}
