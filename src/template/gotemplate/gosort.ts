/**
 * Go's sort.Sort (pattern-defeating quicksort, Go 1.19+ zsortinterface.go), so confd's
 * sortByLength/sortKVByLength order equal-length elements exactly as a confd built with a
 * current Go does (sort.Sort is not stable; for ≤12 elements it is an insertion sort).
 */

type Less = (i: number, j: number) => boolean;

interface Data {
  less: Less;
  swap(i: number, j: number): void;
}

function insertionSort(d: Data, a: number, b: number): void {
  for (let i = a + 1; i < b; i++) for (let j = i; j > a && d.less(j, j - 1); j--) d.swap(j, j - 1);
}

function siftDown(d: Data, lo: number, hi: number, first: number): void {
  let root = lo;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= hi) break;
    if (child + 1 < hi && d.less(first + child, first + child + 1)) child++;
    if (!d.less(first + root, first + child)) return;
    d.swap(first + root, first + child);
    root = child;
  }
}

function heapSort(d: Data, a: number, b: number): void {
  const first = a;
  const hi = b - a;
  for (let i = Math.trunc((hi - 1) / 2); i >= 0; i--) siftDown(d, i, hi, first);
  for (let i = hi - 1; i >= 0; i--) {
    d.swap(first, first + i);
    siftDown(d, 0, i, first);
  }
}

const bitsLen = (n: number): number => 32 - Math.clz32(n);

const enum Hint {
  Unknown,
  Increasing,
  Decreasing,
}

function pdqsort(d: Data, a: number, b: number, limit: number): void {
  const maxInsertion = 12;
  let wasBalanced = true;
  let wasPartitioned = true;
  for (;;) {
    const length = b - a;
    if (length <= maxInsertion) {
      insertionSort(d, a, b);
      return;
    }
    if (limit === 0) {
      heapSort(d, a, b);
      return;
    }
    if (!wasBalanced) {
      breakPatterns(d, a, b);
      limit--;
    }
    let { pivot, hint } = choosePivot(d, a, b);
    if (hint === Hint.Decreasing) {
      reverseRange(d, a, b);
      pivot = b - 1 - (pivot - a);
      hint = Hint.Increasing;
    }
    if (wasBalanced && wasPartitioned && hint === Hint.Increasing) {
      if (partialInsertionSort(d, a, b)) return;
    }
    if (a > 0 && !d.less(a - 1, pivot)) {
      a = partitionEqual(d, a, b, pivot);
      continue;
    }
    const { mid, already } = partition(d, a, b, pivot);
    wasPartitioned = already;
    const leftLen = mid - a;
    const rightLen = b - mid;
    const balanceThreshold = Math.trunc(length / 8);
    if (leftLen < rightLen) {
      wasBalanced = leftLen >= balanceThreshold;
      pdqsort(d, a, mid, limit);
      a = mid + 1;
    } else {
      wasBalanced = rightLen >= balanceThreshold;
      pdqsort(d, mid + 1, b, limit);
      b = mid;
    }
  }
}

function partition(d: Data, a: number, b: number, pivot: number): { mid: number; already: boolean } {
  d.swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  while (i <= j && d.less(i, a)) i++;
  while (i <= j && !d.less(j, a)) j--;
  if (i > j) {
    d.swap(j, a);
    return { mid: j, already: true };
  }
  d.swap(i, j);
  i++;
  j--;
  for (;;) {
    while (i <= j && d.less(i, a)) i++;
    while (i <= j && !d.less(j, a)) j--;
    if (i > j) break;
    d.swap(i, j);
    i++;
    j--;
  }
  d.swap(j, a);
  return { mid: j, already: false };
}

function partitionEqual(d: Data, a: number, b: number, pivot: number): number {
  d.swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  for (;;) {
    while (i <= j && !d.less(a, i)) i++;
    while (i <= j && d.less(a, j)) j--;
    if (i > j) break;
    d.swap(i, j);
    i++;
    j--;
  }
  return i;
}

function partialInsertionSort(d: Data, a: number, b: number): boolean {
  const maxSteps = 5;
  const shortestShifting = 50;
  let i = a + 1;
  for (let step = 0; step < maxSteps; step++) {
    while (i < b && !d.less(i, i - 1)) i++;
    if (i === b) return true;
    if (b - a < shortestShifting) return false;
    d.swap(i, i - 1);
    if (i - a >= 2) {
      for (let j = i - 1; j >= 1; j--) {
        if (!d.less(j, j - 1)) break;
        d.swap(j, j - 1);
      }
    }
    if (b - i >= 2) {
      for (let j = i + 1; j < b; j++) {
        if (!d.less(j, j - 1)) break;
        d.swap(j, j - 1);
      }
    }
  }
  return false;
}

function breakPatterns(d: Data, a: number, b: number): void {
  const length = b - a;
  if (length >= 8) {
    let random = BigInt(length);
    const next = (): bigint => {
      random = BigInt.asUintN(64, random ^ (random << 13n));
      random = BigInt.asUintN(64, random ^ (random >> 17n));
      random = BigInt.asUintN(64, random ^ (random << 5n));
      return random;
    };
    const modulus = BigInt(2 ** bitsLen(length));
    const start = a + Math.trunc(length / 4) * 2 - 1;
    for (let idx = start; idx <= a + Math.trunc(length / 4) * 2 + 1; idx++) {
      let other = Number(next() & (modulus - 1n));
      if (other >= length) other -= length;
      d.swap(idx, a + other);
    }
  }
}

function choosePivot(d: Data, a: number, b: number): { pivot: number; hint: Hint } {
  const shortestNinther = 50;
  const maxSwaps = 4 * 3;
  const l = b - a;
  const swaps = { n: 0 };
  let i = a + Math.trunc(l / 4) * 1;
  let j = a + Math.trunc(l / 4) * 2;
  let k = a + Math.trunc(l / 4) * 3;
  if (l >= 8) {
    if (l >= shortestNinther) {
      i = median(d, i - 1, i, i + 1, swaps);
      j = median(d, j - 1, j, j + 1, swaps);
      k = median(d, k - 1, k, k + 1, swaps);
    }
    j = median(d, i, j, k, swaps);
  }
  if (swaps.n === 0) return { pivot: j, hint: Hint.Increasing };
  if (swaps.n === maxSwaps) return { pivot: j, hint: Hint.Decreasing };
  return { pivot: j, hint: Hint.Unknown };
}

function median(d: Data, a: number, b: number, c: number, swaps: { n: number }): number {
  const order2 = (x: number, y: number): [number, number] => {
    if (d.less(y, x)) {
      swaps.n++;
      return [y, x];
    }
    return [x, y];
  };
  [a, b] = order2(a, b);
  [b, c] = order2(b, c);
  [a, b] = order2(a, b);
  void c;
  return b;
}

function reverseRange(d: Data, a: number, b: number): void {
  let i = a;
  let j = b - 1;
  while (i < j) {
    d.swap(i, j);
    i++;
    j--;
  }
}

/** sort.Sort over an array with a Less on elements; sorts in place and returns the array. */
export function goSort<T>(arr: T[], less: (x: T, y: T) => boolean): T[] {
  const n = arr.length;
  if (n <= 1) return arr;
  const d: Data = {
    less: (i, j) => less(arr[i]!, arr[j]!),
    swap: (i, j) => {
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    },
  };
  pdqsort(d, 0, n, bitsLen(n));
  return arr;
}
