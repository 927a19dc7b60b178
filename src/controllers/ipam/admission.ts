// Which claims of a group may touch VCD, one check after another (cert-manager's policy chain):
// a valid spec (the engine's validSpec), then a connection the claim's namespace may use. A claim
// that fails a check gets its reason and nothing is sent for it; its neighbours go on.
import type { VcdClient } from '../../clients/vcd/index.ts';
import { Problem, type AdmissionCheck } from '../../reconcile/index.ts';
import type { Connection } from '../../reconcile/connections/index.ts';
import type { ControllerDeps } from '../deps.ts';
import type { Claim } from './group.ts';

export interface Admitted {
  client: VcdClient;
  connection: Connection;
}

/** The connection, resolved once per namespace per reconcile; `admitted` keeps the first one that worked. */
export function connectionAllowed(deps: ControllerDeps, admitted: (a: Admitted, namespace: string) => void): AdmissionCheck<Claim> {
  return async (c, a) => {
    const ns = c.metadata?.namespace ?? '';
    // Through a provider connection a namespace may act only for the orgs it is bound to.
    const org = c.spec.org;
    const res = await a.memo(`connection|${ns}`, () => deps.pool.resolve(c.spec.connectionRef, ns, org ? { org } : {}));
    if (!res.ok) return new Problem(res.reason, res.message);
    admitted({ client: res.client, connection: res.connection }, ns);
    return undefined;
  };
}
