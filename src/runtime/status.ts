// Status writes: mutate a copy of the cached status, send one merge-patch to /status with only
// what changed (observedGeneration included), and nothing at all when nothing changed.
import type { KubeClient } from './client.ts';
import type { Clock } from './clock.ts';
import { findCondition, setCondition, type Condition, type ConditionInput } from './conditions.ts';
import { createMergePatch } from './merge-patch.ts';
import type { KubeObject, ResourceType } from './types.ts';

export interface StatusShape {
  observedGeneration?: number;
  conditions?: Condition[];
  [field: string]: unknown;
}

export type WithStatus<S extends StatusShape = StatusShape> = KubeObject & { status?: S };

export class StatusWriter {
  readonly #client: KubeClient;
  readonly #clock: Clock;
  readonly #resource: ResourceType;

  constructor(client: KubeClient, resource: ResourceType, clock: Clock) {
    this.#client = client;
    this.#resource = resource;
    this.#clock = clock;
  }

  /**
   * Runs mutate on a copy of obj.status (created when absent), sets observedGeneration to the
   * object's generation and, only if the result differs from obj.status, sends one merge-patch.
   * Returns the server's object after a write, or obj unchanged when nothing was sent.
   */
  async patchStatus<S extends StatusShape, T extends WithStatus<S>>(obj: T, mutate: (status: S) => void): Promise<T> {
    const before = (obj.status ?? {}) as S;
    const after = structuredClone(before);
    mutate(after);
    if (obj.metadata?.generation !== undefined) after.observedGeneration = obj.metadata.generation;
    const diff = createMergePatch(before, after);
    if (diff === undefined) return obj;
    const name = obj.metadata?.name ?? '';
    return this.#client.patchStatus<T>(this.#resource, name, obj.metadata?.namespace, { status: diff });
  }

  /** setCondition with this writer's clock; returns true when the condition changed. */
  setCondition(conditions: Condition[], input: ConditionInput): boolean {
    return setCondition(conditions, input, this.#clock.now());
  }

  findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
    return findCondition(conditions, type);
  }
}
