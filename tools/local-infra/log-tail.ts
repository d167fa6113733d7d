import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * The last `bytes` of a log file ('' when there is none), read from its end: the logs append across
 * restarts, and a busy dev box's `kafka.log` outgrows what one string can hold.
 */
export function logTail(file: string, bytes: number): string {
  if (!existsSync(file)) return '';
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
