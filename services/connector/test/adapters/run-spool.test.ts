import { readFile, readdir, readlink, symlink } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { linesOf } from '../support/spool-lines';
import { RunSpool, writeAll } from '../../src/adapters/spool/run-spool';
import { useTempDir } from '../support/temp-dir';

/** A canonical-looking line of about `n` bytes, numbered so order can be checked. */
const line = (i: number, n = 200) => `{"i":${i},"pad":"${'p'.repeat(n)}"}`;

describe('run spool: writes behind the parser, in order, failures not lost', () => {
  const tmp = useTempDir('run-spool-');

  it('keeps every line of every dataset in append order across many buffered writes', async () => {
    const spool = new RunSpool(tmp.path, 'run-1');
    await spool.reset();
    // ~12 MB over two datasets, interleaved: many 256 KiB flushes per file, several in flight.
    const n = 30_000;
    for (let i = 0; i < n; i++) {
      await spool.append('currentPupils', line(i));
      if (i % 3 === 0) await spool.append('contacts', line(i, 50));
    }
    await spool.close();
    const pupils = (await readFile(spool.fileOf('currentPupils'), 'utf8')).split('\n');
    expect(pupils.at(-1)).toBe('');
    expect(pupils.slice(0, -1)).toEqual(Array.from({ length: n }, (_, i) => line(i)));
    const contacts = (await readFile(spool.fileOf('contacts'), 'utf8')).split('\n').slice(0, -1);
    expect(contacts).toEqual(Array.from({ length: n / 3 }, (_, k) => line(k * 3, 50)));
    // And reads back in the planned chunks.
    const chunks: string[][] = [];
    for await (const c of spool.chunks('contacts', [4_000, 0, 6_000])) chunks.push(linesOf(c));
    expect(chunks.map((c) => c.length)).toEqual([4_000, 0, 6_000]);
    expect(chunks[2]!.at(-1)).toBe(line(29_997, 50));
    // Chunks of ~1.5 MB span the file's reads (1 MiB each): read whole, in order, nothing lost.
    const plan = [7_000, 7_000, 7_000, 9_000];
    const spanning: string[] = [];
    for await (const c of spool.chunks('currentPupils', plan)) spanning.push(...linesOf(c));
    expect(spanning).toEqual(pupils.slice(0, -1));
  });

  it('a write that fails (disk full) fails the run before anything could be published: append or close rejects', async () => {
    const spool = new RunSpool(tmp.path, 'run-full');
    await spool.reset();
    // The dataset's file is the full device: every write to it fails with ENOSPC.
    await symlink('/dev/full', spool.fileOf('currentPupils'));
    const written = (async () => {
      for (let i = 0; i < 5_000; i++) await spool.append('currentPupils', line(i));
      await spool.close();
    })();
    await expect(written).rejects.toMatchObject({ code: 'ENOSPC' });
    // Sticky until reset: a later append is refused too.
    await expect(spool.append('currentPupils', line(0))).rejects.toMatchObject({ code: 'ENOSPC' });
    await spool.remove();
  });

  it('reads a dataset while it is still being appended to: the lines so far (buffered ones written first), the file then closed', async () => {
    const spool = new RunSpool(tmp.path, 'run-prefix');
    await spool.reset();
    for (let i = 0; i < 1_000; i++) await spool.append('currentPupils', line(i));
    // Most of these lines are still in the write buffer: reading writes them first.
    const first: string[][] = [];
    for await (const c of spool.chunks('currentPupils', [600, 400], { prefix: true })) first.push(linesOf(c));
    expect(first.map((c) => c.length)).toEqual([600, 400]);
    expect(first[1]!.at(-1)).toBe(line(999));
    // A later container of the same dataset appends more; a prefix read stops at its plan …
    for (let i = 1_000; i < 1_500; i++) await spool.append('currentPupils', line(i));
    const again: string[][] = [];
    for await (const c of spool.chunks('currentPupils', [1_000], { prefix: true })) again.push(linesOf(c));
    expect(again.map((c) => c.length)).toEqual([1_000]);
    // … and leaves no file open behind it (only the spool's own append handle).
    const open = await Promise.all(
      (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
    );
    expect(open.filter((target) => target === spool.fileOf('currentPupils'))).toHaveLength(1);
    // Without `prefix` the plan must cover the file exactly.
    await spool.close();
    const strict = async () => {
      for await (const _ of spool.chunks('currentPupils', [1_000])) void _;
    };
    await expect(strict()).rejects.toThrow('does not match its chunk plan');
    const whole: string[][] = [];
    for await (const c of spool.chunks('currentPupils', [1_000, 500])) whole.push(linesOf(c));
    expect(whole[1]!.at(-1)).toBe(line(1_499));
    await spool.remove();
  });
});

describe('writeAll: a short write goes on from where it stopped', () => {
  /** A file handle whose `writev` takes at most the next of `takes` bytes (the last one repeats). */
  const shortWriter = (takes: number[]) => {
    const written: Buffer[] = [];
    let call = 0;
    return {
      written,
      handle: {
        writev: async (buffers: Uint8Array[]) => {
          const all = Buffer.concat(buffers);
          const n = Math.min(all.length, takes[Math.min(call++, takes.length - 1)]!);
          written.push(all.subarray(0, n));
          return { bytesWritten: n };
        },
      },
    };
  };
  const buffers = () => [
    Buffer.from('alpha\n'),
    Buffer.alloc(0),
    Buffer.from('beta\n'),
    Buffer.from('gamma\n'),
  ];

  it('writes every byte once, in order, whether a write stops inside a buffer or at its end', async () => {
    // 5: inside the first buffer; 6: at its end; 1: a byte at a time; 8 then 2: across a boundary.
    for (const takes of [[5], [6], [1], [8, 2], [1_000]]) {
      const w = shortWriter(takes);
      await writeAll(w.handle, buffers());
      expect(Buffer.concat(w.written).toString()).toBe('alpha\nbeta\ngamma\n');
    }
  });

  it('fails when a write takes no byte, instead of asking again forever', async () => {
    const w = shortWriter([3, 0]);
    await expect(writeAll(w.handle, buffers())).rejects.toThrow('the spool file took no bytes of a write');
    expect(Buffer.concat(w.written).toString()).toBe('alp');
  });
});
