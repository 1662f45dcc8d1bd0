// One change at a time per network namespace: setup, a CIDR update and an ENI setup all read the
// current state and then write a diff, so two interleaved would each act on a stale reading.

const tails = new Map<string, Promise<unknown>>();

export function serialized<T>(netns: string | undefined, task: () => Promise<T>): Promise<T> {
  const key = netns ?? "";
  const previous = tails.get(key) ?? Promise.resolve();
  const next = previous.then(task, task);
  const tail = next.catch(() => {});
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return next;
}
