// IP Spaces (API 37.1+): spaces, uplinks, org assignments (quotas), allocations and suggestions.
// Writes to one IP Space are serialised inside the client; allocate is never retried blindly
// (a lost answer is resolved by the caller through its ownership markers).
import type { TaskOptions } from './transport.ts';
import { andFilter, createEntity, deleteEntity, needsClientSideMatch, requireVersion, updateEntity, type VcdContext } from './context.ts';
import { VcdAmbiguousNameError, VcdApiError, VcdBusyError, VcdInvalidRequestError, VcdQuotaExceededError, VcdTaskError } from './errors.ts';
import { isQuotaMessage } from './errorMapping.ts';
import type {
  AllocationResult,
  AllocationType,
  IpSpace,
  IpSpaceFloatingIpSuggestion,
  IpSpaceIpAllocation,
  IpSpaceIpAllocationRequest,
  IpSpaceIpQuota,
  IpSpaceOrgAssignment,
  IpSpaceSummary,
  IpSpaceType,
  IpSpaceUplink,
  IpSpaceUtilizationSummary,
} from './types.ts';

const BASE = '/cloudapi/1.0.0';
/** Quick asks of an IP Space that answered BUSY while the allocate before ran late. */
const BUSY_QUICK_RETRIES = 3;
const enc = encodeURIComponent;

function spaceLock(id: string): string {
  return `ipSpace:${id}`;
}

/**
 * Marking or releasing one allocation holds that allocation, not its IP Space: the marks of one
 * batch then run side by side and beside the next allocate. Where VCD does hold the IP Space for
 * them, its BUSY_ENTITY answer is retried like any other.
 */
function allocationLock(id: string): string {
  return `ipSpaceAllocation:${id}`;
}

export class IpSpacesApi {
  readonly #ctx: VcdContext;
  readonly uplinks: IpSpaceUplinksApi;
  readonly orgAssignments: IpSpaceOrgAssignmentsApi;
  readonly allocations: IpSpaceAllocationsApi;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
    this.uplinks = new IpSpaceUplinksApi(ctx);
    this.orgAssignments = new IpSpaceOrgAssignmentsApi(ctx);
    this.allocations = new IpSpaceAllocationsApi(ctx);
  }

  /** All IP Space summaries (the only list VCD offers; GET one by id for ranges and prefixes). */
  async list(opts: { filter?: string } = {}): Promise<IpSpaceSummary[]> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaces.list');
    return this.#ctx.transport.listAll<IpSpaceSummary>({
      operation: 'ipSpaces.list',
      path: `${BASE}/ipSpaces/summaries`,
      query: { filter: opts.filter },
      tenant: await this.#ctx.tenant(),
    });
  }

  /** Same as list(): named after the endpoint for callers that think in its terms. */
  summaries(opts: { filter?: string } = {}): Promise<IpSpaceSummary[]> {
    return this.list(opts);
  }

  async get(id: string): Promise<IpSpace> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaces.get');
    return this.#ctx.transport.getJson<IpSpace>({ operation: 'ipSpaces.get', path: `${BASE}/ipSpaces/${enc(id)}`, tenant: await this.#ctx.tenant() });
  }

  /**
   * The IP Space with this name (names are unique per type and org), or undefined. Throws
   * VcdAmbiguousNameError when several match and no type/org narrows it down.
   */
  async findByName(name: string, opts: { type?: IpSpaceType; orgId?: string } = {}): Promise<IpSpace | undefined> {
    const summary = await this.findSummaryByName(name, opts);
    return summary?.id ? this.get(summary.id) : undefined;
  }

  /** The IP Space of that name as the summaries list gives it (id, name, type): one call, where findByName makes two. */
  async findSummaryByName(name: string, opts: { type?: IpSpaceType; orgId?: string } = {}): Promise<IpSpaceSummary | undefined> {
    const clientSide = needsClientSideMatch(name);
    const filter = andFilter(clientSide ? undefined : `name==${name}`, opts.type && `type==${opts.type}`, opts.orgId && `orgRef.id==${opts.orgId}`);
    const found = (await this.list(filter ? { filter } : {})).filter((s) => s.name === name && s.id);
    if (found.length > 1)
      throw new VcdAmbiguousNameError(
        'ipSpaces.findByName',
        name,
        found.map((s) => `${s.type}:${s.id ?? '?'}`),
      );
    return found[0];
  }

  async create(body: IpSpace, opts?: TaskOptions): Promise<IpSpace> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaces.create');
    return createEntity<IpSpace>(this.#ctx, 'ipSpaces.create', `${BASE}/ipSpaces`, body, opts);
  }

  async update(id: string, body: IpSpace, opts?: TaskOptions): Promise<IpSpace> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaces.update');
    return this.#ctx.locks.run(spaceLock(id), () => updateEntity<IpSpace>(this.#ctx, 'ipSpaces.update', `${BASE}/ipSpaces/${enc(id)}`, { ...body, id }, opts));
  }

  /** Resolves false when the IP Space was already gone. */
  async delete(id: string, opts?: TaskOptions): Promise<boolean> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaces.delete');
    return this.#ctx.locks.run(spaceLock(id), () => deleteEntity(this.#ctx, 'ipSpaces.delete', `${BASE}/ipSpaces/${enc(id)}`, opts));
  }

  /** Floating-IP and prefix utilization as the connection's org sees it. */
  async utilization(id: string): Promise<IpSpaceUtilizationSummary> {
    return (await this.get(id)).utilization ?? {};
  }

  /**
   * Allocates from the IP Space and returns the task's results ({id, value}). Sent exactly once:
   * after a lost response (CloudNetworkError with outcomeUnknown) or a task deadline the
   * allocation may exist, and only the caller's markers can tell.
   */
  async allocate(ipSpaceId: string, req: IpSpaceIpAllocationRequest, opts?: TaskOptions): Promise<AllocationResult[]> {
    const op = 'ipSpaces.allocate';
    requireVersion(this.#ctx, 'ipSpaces', op);
    if (req.value !== undefined) requireVersion(this.#ctx, 'allocationValue', op);
    validateAllocation(op, req);
    const body: IpSpaceIpAllocationRequest =
      req.value !== undefined
        ? { type: req.type, value: req.value }
        : { type: req.type, quantity: req.quantity ?? 1, ...(req.prefixLength !== undefined ? { prefixLength: req.prefixLength } : {}) };
    const tenant = await this.#ctx.tenant();
    const { transport } = this.#ctx;
    return this.#ctx.locks.run(spaceLock(ipSpaceId), async (turn) => {
      // The next allocate queued for this IP Space goes when this one's task is due to end, not
      // when a read has confirmed it ended: back to back, batches lose no poll interval and no
      // round trip between them. Where VCD runs one allocate per IP Space at a time and this task
      // runs late, that next one is answered BUSY_ENTITY (nothing done) and is sent again the
      // moment this one has ended. Before any allocate has ended, how long one takes is learnt
      // from the first to end, in whichever IP Space.
      const stop = new AbortController();
      const onAccepted: TaskOptions['onAccepted'] = (whenDue) =>
        whenDue(stop.signal, (dueAt) => {
          transport.clock.sleep(dueAt - transport.clock.now(), stop.signal).then(
            () => turn.handOver(),
            () => undefined,
          );
        });
      const send = (retryBusy: boolean) =>
        transport.callAndWait(
          // Urgent: with allocates serialised per IP Space, the IP Space is idle until this one is
          // sent, and a burst of marks and task reads must not hold it in the connection's queue.
          {
            operation: op,
            method: 'POST',
            path: `${BASE}/ipSpaces/${enc(ipSpaceId)}/allocate`,
            body,
            idempotent: false,
            tenant,
            retryBusy,
            priority: 'urgent',
          },
          { ...opts, onAccepted },
        );
      const sendAfterBusy = async (before: Promise<void>): Promise<Awaited<ReturnType<typeof send>>> => {
        // The allocate before this one runs late, so it is about to end: asked again a few times
        // at the pace its task is read, not only once a read has seen it end (that read, its
        // answer and then this request are three trips where one will do). A BUSY answer did
        // nothing, so asking again is safe; after the few tries this waits for that end as before.
        let ended = false;
        const prior = before.then(() => void (ended = true));
        const step = transport.taskRecheckMs(op) ?? 10;
        for (let i = 0; i < BUSY_QUICK_RETRIES; i++) {
          await Promise.race([prior, transport.clock.sleep(step, stop.signal)]);
          if (ended) break;
          try {
            return await send(false);
          } catch (err) {
            if (!(err instanceof VcdBusyError)) throw err;
          }
        }
        await prior;
        return send(true);
      };
      try {
        let sent: Awaited<ReturnType<typeof send>>;
        try {
          sent = await send(turn.unfinished === undefined);
        } catch (err) {
          if (!(err instanceof VcdBusyError) || !turn.unfinished) throw err;
          sent = await sendAfterBusy(turn.unfinished);
        }
        return parseAllocationResults(op, sent.task ? sent.task.resultContent : sent.response.data);
      } catch (err) {
        throw asQuotaError(err, ipSpaceId, req.type) ?? err;
      } finally {
        stop.abort();
      }
    });
  }

  /** Unused values an edge gateway could get, per IP Space it can use. */
  async floatingIpSuggestions(opts: { gatewayId: string; ipType?: 'IPV4' | 'IPV6' }): Promise<IpSpaceFloatingIpSuggestion[]> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaces.floatingIpSuggestions');
    return this.#ctx.transport.listAll<IpSpaceFloatingIpSuggestion>({
      operation: 'ipSpaces.floatingIpSuggestions',
      path: `${BASE}/ipSpaces/floatingIpSuggestions`,
      query: { filter: andFilter(`gatewayId==${opts.gatewayId}`, opts.ipType && `ipType==${opts.ipType}`) },
      tenant: await this.#ctx.tenant(),
    });
  }
}

export class IpSpaceUplinksApi {
  readonly #ctx: VcdContext;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /** Uplinks of a provider gateway (VCD requires the external network filter). */
  async list(opts: { externalNetworkId: string; filter?: string }): Promise<IpSpaceUplink[]> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceUplinks.list');
    return this.#ctx.transport.listAll<IpSpaceUplink>({
      operation: 'ipSpaceUplinks.list',
      path: `${BASE}/ipSpaceUplinks`,
      query: { filter: andFilter(`externalNetworkRef.id==${opts.externalNetworkId}`, opts.filter) },
      tenant: await this.#ctx.tenant(),
    });
  }

  async get(id: string): Promise<IpSpaceUplink> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceUplinks.get');
    return this.#ctx.transport.getJson<IpSpaceUplink>({
      operation: 'ipSpaceUplinks.get',
      path: `${BASE}/ipSpaceUplinks/${enc(id)}`,
      tenant: await this.#ctx.tenant(),
    });
  }

  async create(body: IpSpaceUplink, opts?: TaskOptions): Promise<IpSpaceUplink> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceUplinks.create');
    const spaceId = body.ipSpaceRef.id;
    const run = (): Promise<IpSpaceUplink> => createEntity<IpSpaceUplink>(this.#ctx, 'ipSpaceUplinks.create', `${BASE}/ipSpaceUplinks`, body, opts);
    return spaceId ? this.#ctx.locks.run(spaceLock(spaceId), run) : run();
  }

  async update(id: string, body: IpSpaceUplink, opts?: TaskOptions): Promise<IpSpaceUplink> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceUplinks.update');
    return updateEntity<IpSpaceUplink>(this.#ctx, 'ipSpaceUplinks.update', `${BASE}/ipSpaceUplinks/${enc(id)}`, { ...body, id }, opts);
  }

  /** Resolves false when the uplink was already gone. */
  async delete(id: string, opts?: TaskOptions): Promise<boolean> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceUplinks.delete');
    return deleteEntity(this.#ctx, 'ipSpaceUplinks.delete', `${BASE}/ipSpaceUplinks/${enc(id)}`, opts);
  }
}

export class IpSpaceOrgAssignmentsApi {
  readonly #ctx: VcdContext;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /** Assignments of one IP Space or of one org (VCD requires one of the two filters). */
  async list(opts: { ipSpaceId?: string; orgId?: string; onlyCustomQuotas?: boolean }): Promise<IpSpaceOrgAssignment[]> {
    const op = 'ipSpaceOrgAssignments.list';
    requireVersion(this.#ctx, 'ipSpaces', op);
    if (!opts.ipSpaceId && !opts.orgId) throw new VcdInvalidRequestError(op, 'listing org assignments needs an ipSpaceId or an orgId');
    return this.#ctx.transport.listAll<IpSpaceOrgAssignment>({
      operation: op,
      path: `${BASE}/ipSpaces/orgAssignments`,
      query: {
        filter: andFilter(
          opts.ipSpaceId && `ipSpaceRef.id==${opts.ipSpaceId}`,
          opts.orgId && `orgRef.id==${opts.orgId}`,
          opts.onlyCustomQuotas ? 'onlyIncludeCustomQuotas==true' : undefined,
        ),
      },
      tenant: await this.#ctx.tenant(),
    });
  }

  async get(id: string): Promise<IpSpaceOrgAssignment> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceOrgAssignments.get');
    return this.#ctx.transport.getJson<IpSpaceOrgAssignment>({
      operation: 'ipSpaceOrgAssignments.get',
      path: `${BASE}/ipSpaces/orgAssignments/${enc(id)}`,
      tenant: await this.#ctx.tenant(),
    });
  }

  async create(body: IpSpaceOrgAssignment, opts?: TaskOptions): Promise<IpSpaceOrgAssignment> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceOrgAssignments.create');
    return createEntity<IpSpaceOrgAssignment>(this.#ctx, 'ipSpaceOrgAssignments.create', `${BASE}/ipSpaces/orgAssignments`, body, opts);
  }

  /**
   * Sets the org's custom quotas (null resets all to the IP Space defaults). Reads the assignment
   * first because PUT needs the whole object and only customQuotas may change.
   */
  async update(id: string, customQuotas: IpSpaceIpQuota | null, opts?: TaskOptions): Promise<IpSpaceOrgAssignment> {
    const op = 'ipSpaceOrgAssignments.update';
    requireVersion(this.#ctx, 'ipSpaces', op);
    const current = await this.get(id);
    const spaceId = current.ipSpaceRef.id;
    const body: IpSpaceOrgAssignment = { id, ipSpaceRef: current.ipSpaceRef, orgRef: current.orgRef, customQuotas };
    const run = (): Promise<IpSpaceOrgAssignment> =>
      updateEntity<IpSpaceOrgAssignment>(this.#ctx, op, `${BASE}/ipSpaces/orgAssignments/${enc(id)}`, body, opts);
    return spaceId ? this.#ctx.locks.run(spaceLock(spaceId), run) : run();
  }

  /** Resolves false when it was already gone. */
  async delete(id: string, opts?: TaskOptions): Promise<boolean> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceOrgAssignments.delete');
    return deleteEntity(this.#ctx, 'ipSpaceOrgAssignments.delete', `${BASE}/ipSpaces/orgAssignments/${enc(id)}`, opts);
  }
}

export class IpSpaceAllocationsApi {
  readonly #ctx: VcdContext;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /** Allocations of one type (VCD requires the type filter), optionally narrowed by FIQL. */
  async list(ipSpaceId: string, opts: { type: AllocationType; filter?: string }): Promise<IpSpaceIpAllocation[]> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceAllocations.list');
    return this.#ctx.transport.listAll<IpSpaceIpAllocation>({
      operation: 'ipSpaceAllocations.list',
      path: `${BASE}/ipSpaces/${enc(ipSpaceId)}/allocations`,
      query: { filter: andFilter(`type==${opts.type}`, opts.filter) },
      tenant: await this.#ctx.tenant(),
    });
  }

  async get(ipSpaceId: string, allocationId: string): Promise<IpSpaceIpAllocation> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceAllocations.get');
    return this.#ctx.transport.getJson<IpSpaceIpAllocation>({
      operation: 'ipSpaceAllocations.get',
      path: `${BASE}/ipSpaces/${enc(ipSpaceId)}/allocations/${enc(allocationId)}`,
      tenant: await this.#ctx.tenant(),
    });
  }

  /** PUTs the allocation (e.g. usageState USED_MANUAL plus a marker in description); safe to repeat. */
  async update(ipSpaceId: string, allocationId: string, body: IpSpaceIpAllocation, opts?: TaskOptions): Promise<IpSpaceIpAllocation> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceAllocations.update');
    return this.#ctx.locks.run(allocationLock(allocationId), () =>
      updateEntity<IpSpaceIpAllocation>(
        this.#ctx,
        'ipSpaceAllocations.update',
        `${BASE}/ipSpaces/${enc(ipSpaceId)}/allocations/${enc(allocationId)}`,
        { ...body, id: allocationId },
        opts,
      ),
    );
  }

  /**
   * Like update(), without reading the allocation back afterwards: one request and its task
   * instead of three, for callers that know what they wrote (marking and unmarking).
   */
  async put(ipSpaceId: string, allocationId: string, body: IpSpaceIpAllocation, opts?: TaskOptions): Promise<void> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceAllocations.update');
    const tenant = await this.#ctx.tenant();
    await this.#ctx.locks.run(allocationLock(allocationId), () =>
      this.#ctx.transport.callAndWait(
        {
          operation: 'ipSpaceAllocations.update',
          method: 'PUT',
          path: `${BASE}/ipSpaces/${enc(ipSpaceId)}/allocations/${enc(allocationId)}`,
          body: { ...body, id: allocationId },
          idempotent: true,
          tenant,
        },
        opts,
      ),
    );
  }

  /** Releases a known allocation; retried safely. Resolves false when it was already released. */
  async delete(ipSpaceId: string, allocationId: string, opts?: TaskOptions): Promise<boolean> {
    requireVersion(this.#ctx, 'ipSpaces', 'ipSpaceAllocations.delete');
    return this.#ctx.locks.run(allocationLock(allocationId), () =>
      deleteEntity(this.#ctx, 'ipSpaceAllocations.delete', `${BASE}/ipSpaces/${enc(ipSpaceId)}/allocations/${enc(allocationId)}`, opts),
    );
  }
}

function validateAllocation(op: string, req: IpSpaceIpAllocationRequest): void {
  if (req.value !== undefined && req.quantity !== undefined) throw new VcdInvalidRequestError(op, 'an allocation takes either value or quantity, not both');
  if (req.quantity !== undefined && (!Number.isInteger(req.quantity) || req.quantity < 1 || req.quantity > 5)) {
    throw new VcdInvalidRequestError(op, `quantity must be an integer from 1 to 5, got ${req.quantity}`);
  }
  if (req.type === 'IP_PREFIX' && req.value === undefined && req.prefixLength === undefined) {
    throw new VcdInvalidRequestError(op, 'an IP_PREFIX allocation by quantity needs prefixLength');
  }
}

/** The allocate task's ResultContent: a JSON array of {id, value, suggestedValue}. */
export function parseAllocationResults(operation: string, content: unknown): AllocationResult[] {
  let parsed: unknown = content;
  if (typeof content === 'string') {
    try {
      parsed = JSON.parse(content) as unknown;
    } catch {
      parsed = undefined;
    }
  }
  const items = Array.isArray(parsed) ? parsed : [];
  const out: AllocationResult[] = [];
  for (const item of items) {
    const o = (item ?? {}) as Record<string, unknown>;
    if (typeof o['id'] === 'string' && typeof o['value'] === 'string') {
      out.push({ id: o['id'], value: o['value'], ...(typeof o['suggestedValue'] === 'string' ? { suggestedValue: o['suggestedValue'] } : {}) });
    }
  }
  if (out.length === 0) {
    throw new VcdApiError({
      operation,
      status: 200,
      minorErrorCode: undefined,
      serverMessage: 'the allocation task succeeded without results',
      requestId: undefined,
    });
  }
  return out;
}

function asQuotaError(err: unknown, ipSpaceId: string, type: AllocationType): VcdQuotaExceededError | undefined {
  if (err instanceof VcdApiError && err.status === 400 && isQuotaMessage(err.minorErrorCode, err.serverMessage)) {
    return new VcdQuotaExceededError({
      operation: err.operation,
      ipSpaceId,
      allocationType: type,
      minorErrorCode: err.minorErrorCode,
      serverMessage: err.serverMessage,
      requestId: err.requestId,
    });
  }
  if (err instanceof VcdTaskError && isQuotaMessage(err.taskError.minorErrorCode, err.taskError.message)) {
    return new VcdQuotaExceededError({
      operation: err.operation,
      ipSpaceId,
      allocationType: type,
      minorErrorCode: err.taskError.minorErrorCode,
      serverMessage: err.taskError.message,
      requestId: undefined,
    });
  }
  return undefined;
}
