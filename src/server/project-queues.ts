/**
 * One queue per project: work runs after the project's earlier work, in the order it was queued,
 * and the projects' queues run side by side. A failure does not stop the work queued after it.
 */
export class ProjectQueues {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` after the project's queued work; its result (or failure) is the caller's. */
  run<T>(project: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(project) ?? Promise.resolve();
    const result = prev.then(fn);
    const next = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(project, next);
    void next.finally(() => {
      if (this.tails.get(project) === next) this.tails.delete(project);
    });
    return result;
  }

  /** Waits until every queue is empty (work queued meanwhile included). */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all([...this.tails.values()]);
  }
}
